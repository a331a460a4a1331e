/**
 * The bench's child processes: a server per throughput scenario (server.ts) and the token-cache
 * heap measurement (token-cache-heap.ts). Every wait is bounded; a child that does not leave
 * when asked is killed (by its own handle, nothing else).
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type {
  BenchPki,
  FromServer,
  HeapReport,
  ReviewCounts,
  ServerScenario,
  ToServer,
} from './protocol.js';

const TSX = import.meta.resolve('tsx');
const READY_TIMEOUT_MS = 60_000;
const REPLY_TIMEOUT_MS = 10_000;
const EXIT_TIMEOUT_MS = 10_000;
const HEAP_TIMEOUT_MS = 15 * 60_000;

function script(name: string): string {
  return fileURLToPath(new URL(name, import.meta.url));
}

/** Node flags for a child running TypeScript through tsx, plus `extra`. */
function execArgv(extra: string[] = []): string[] {
  return ['--import', TSX, ...extra];
}

/**
 * Flags that make a server child write CPU profiles on exit into `<BENCH_CPU_PROF>/<scenario>/`
 * (one per thread: tsx's loader thread writes a small one beside the main thread's), sampled every
 * 100 µs: a warm request takes a few µs of the package's code, which 1 ms samples barely see.
 */
function profileFlags(scenario: string): string[] {
  const dir = process.env['BENCH_CPU_PROF'];
  return dir
    ? ['--cpu-prof', '--cpu-prof-interval=100', `--cpu-prof-dir=${join(dir, scenario)}`]
    : [];
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Ends a child: politely first, then by killing it (this child only). */
async function stop(child: ChildProcess, polite: () => void): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  if (child.connected) polite();
  try {
    await withTimeout(exited(child), EXIT_TIMEOUT_MS, 'child exit');
  } catch {
    child.kill('SIGKILL');
    await exited(child);
  }
}

/** A running bench server in its own process. */
export class ServerChild {
  private nextId = 0;

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    /** For the `apiserver` child: a kubeconfig YAML to reach it. */
    readonly kubeconfig: string | undefined,
  ) {}

  /** Forks server.ts, starts `scenario` in it and waits until it listens. */
  static async start(
    scenario: ServerScenario,
    pki: BenchPki,
    kubeconfig?: string,
    /** A build other than `dist/` to serve with (built-package.ts). */
    build?: string,
  ): Promise<ServerChild> {
    const child = fork(script('./server.ts'), [], {
      execArgv: execArgv(profileFlags(scenario)),
      env: build === undefined ? process.env : { ...process.env, BENCH_BUILD: build },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ready = new Promise<Extract<FromServer, { type: 'ready' }>>((resolve, reject) => {
      child.on('message', (message: FromServer) => {
        if (message.type === 'ready') resolve(message);
        if (message.type === 'error') reject(new Error(`${scenario} server: ${message.message}`));
      });
      child.once('exit', (code) => reject(new Error(`${scenario} server exited (${code})`)));
      child.once('error', reject);
    });
    const start: ToServer = { type: 'start', scenario, pki, ...(kubeconfig ? { kubeconfig } : {}) };
    child.send(start);
    try {
      const answer = await withTimeout(ready, READY_TIMEOUT_MS, `${scenario} server`);
      return new ServerChild(
        child,
        `${answer.protocol}://127.0.0.1:${answer.port}`,
        answer.kubeconfig,
      );
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }

  /** How many reviews have reached the stand-in API server so far (`apiserver` child). */
  async reviews(): Promise<ReviewCounts> {
    const answer = await this.ask('reviews');
    return answer.type === 'reviews' ? answer.counts : { tokenReviews: 0, subjectAccessReviews: 0 };
  }

  /** The server process's CPU time so far (user + system), in µs. */
  async cpuMicros(): Promise<number> {
    const answer = await this.ask('cpu');
    return answer.type === 'cpu' ? answer.micros : Number.NaN;
  }

  /**
   * The middleware's time inside the server (first middleware to route) of each request since
   * the previous call, which starts recording (Express scenarios), in µs.
   */
  async insitu(): Promise<number[]> {
    const answer = await this.ask('insitu');
    return answer.type === 'insitu' ? answer.samplesUs : [];
  }

  private ask(type: 'reviews' | 'cpu' | 'insitu'): Promise<FromServer> {
    const id = ++this.nextId;
    const answer = new Promise<FromServer>((resolve) => {
      const onMessage = (message: FromServer): void => {
        if (message.type === type && message.id === id) {
          this.child.off('message', onMessage);
          resolve(message);
        }
      };
      this.child.on('message', onMessage);
    });
    const question: ToServer = { type, id };
    this.child.send(question);
    return withTimeout(answer, REPLY_TIMEOUT_MS, type);
  }

  close(): Promise<void> {
    const message: ToServer = { type: 'close' };
    return stop(this.child, () => this.child.send(message));
  }
}

/** Runs token-cache-heap.ts in a child with --expose-gc and returns its report. */
export async function measureTokenCacheHeap(): Promise<HeapReport> {
  const child = fork(script('./token-cache-heap.ts'), [], {
    execArgv: execArgv(['--expose-gc']),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const report = new Promise<HeapReport>((resolve, reject) => {
    child.on('message', (message: HeapReport) => {
      if (message.type === 'heap') resolve(message);
    });
    child.once('exit', (code) => reject(new Error(`token-cache-heap exited (${code})`)));
    child.once('error', reject);
  });
  try {
    return await withTimeout(report, HEAP_TIMEOUT_MS, 'token-cache-heap');
  } finally {
    await stop(child, () => child.disconnect());
  }
}
