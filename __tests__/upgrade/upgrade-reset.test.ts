/**
 * A client that resets its connection while an upgrade is being guarded, or right after, must not
 * take the process down. Node removes its own error handler from upgrade sockets, so the server
 * runs in a child process (support/guarded-server.ts): an uncaught exception there ends it, and
 * every case asserts it is still running and still answering.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { mintServingCert, startApiServer } from '../../lib/testing/index.js';
import type { IssuedCertificate, StandInApiServer } from '../../lib/testing/index.js';
import { registerSecrets } from '../support/secrets.js';
import type {
  FromGuardedServer,
  GuardedServerConfig,
  ToGuardedServer,
} from './support/guarded-server.js';

const SCRIPT = fileURLToPath(new URL('./support/guarded-server.ts', import.meta.url));
const TOKENS = ['admin-token', 'late-token', 'viewer-token'];
/**
 * Tokens sent while the API server hangs. It does not know them: a review that reaches it only
 * after the fault was cleared still refuses them, and nothing caches them as valid.
 */
const UNKNOWN = (name: string): string => `unknown-${name}-token`;

let api: StandInApiServer;
let serving: IssuedCertificate;

beforeAll(async () => {
  registerSecrets(...TOKENS, ...['during-http', 'during-https', 'before', 'refused'].map(UNKNOWN));
  const admin = { username: 'root', groups: ['admins'] };
  [api, serving] = await Promise.all([
    startApiServer({
      tokens: {
        'admin-token': admin,
        'late-token': admin,
        'viewer-token': { username: 'viewer' },
      },
      policy: { rules: [{ groups: ['admins'], verbs: ['*'], resources: ['nodes/*'] }] },
    }),
    mintServingCert({ hosts: ['127.0.0.1', 'localhost'] }),
  ]);
  registerSecrets(api.callerToken, api.authority.key, serving.key);
});
afterAll(() => api.close());
afterEach(() => api.setFault());

/** The guarded server's process, its reports, and a way to wait for one. */
class GuardedChild {
  readonly reports: FromGuardedServer[] = [];
  stderr = '';
  private readonly waiters = new Set<() => void>();
  readonly exited: Promise<number | null>;

  constructor(readonly process: ChildProcess) {
    process.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    process.on('message', (report: FromGuardedServer) => {
      this.reports.push(report);
      for (const wake of this.waiters) wake();
    });
    this.exited = new Promise((resolve) => process.once('exit', (code) => resolve(code)));
  }

  send(message: ToGuardedServer): void {
    this.process.send(message);
  }

  /** Resolves once `condition` holds; rejects once the process has exited without it. */
  async until(condition: () => boolean): Promise<void> {
    while (!condition()) {
      if (this.process.exitCode !== null || this.process.signalCode !== null) {
        throw new Error(`the server process exited (${this.process.exitCode}):\n${this.stderr}`);
      }
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.waiters.delete(wake);
          resolve();
        };
        this.waiters.add(wake);
        void this.exited.then(wake);
      });
    }
  }

  /** The first report that matches, once there is one. */
  async report<T extends FromGuardedServer>(match: (r: FromGuardedServer) => r is T): Promise<T> {
    await this.until(() => this.reports.some(match));
    return this.reports.find(match) as T;
  }

  /** Whether the process answers over IPC (false once it has exited). */
  async alive(): Promise<boolean> {
    const pongs = (): number => this.reports.filter((r) => r.event === 'pong').length;
    const before = pongs();
    if (!this.process.connected) return false;
    this.send({ type: 'ping' });
    try {
      await this.until(() => pongs() > before);
      return true;
    } catch {
      return false;
    }
  }
}

const closed =
  (id: string) =>
  (r: FromGuardedServer): r is Extract<FromGuardedServer, { event: 'closed' }> =>
    r.event === 'closed' && r.id === id;
const guarded =
  (id: string) =>
  (r: FromGuardedServer): r is Extract<FromGuardedServer, { event: 'guarded' }> =>
    r.event === 'guarded' && r.id === id;
function upgradeRequest(path: string, token?: string): string {
  return [
    `GET ${path} HTTP/1.1`,
    'Host: localhost',
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Version: 13',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    ...(token ? [`Authorization: Bearer ${token}`] : []),
    '',
    '',
  ].join('\r\n');
}

/** A client connection: what it received, and a TCP reset (of the TCP socket under TLS). */
interface Client {
  received: () => string;
  /** Resolves once the first bytes of an answer arrived. */
  answered: Promise<void>;
  reset(): void;
}

async function openClient(
  protocol: 'http' | 'https',
  port: number,
  request: string,
): Promise<Client> {
  const tcp: Socket = connectTcp(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    tcp.once('connect', resolve);
    tcp.once('error', reject);
  });
  tcp.on('error', () => undefined);
  const stream =
    protocol === 'https'
      ? connectTls({ socket: tcp, ca: serving.cert, servername: 'localhost' })
      : tcp;
  stream.on('error', () => undefined);
  if (protocol === 'https')
    await new Promise<void>((resolve) => stream.once('secureConnect', resolve));
  let data = '';
  const answered = new Promise<void>((resolve) =>
    stream.on('data', (chunk: Buffer) => {
      data += chunk.toString();
      resolve();
    }),
  );
  stream.write(request);
  return { received: () => data, answered, reset: () => tcp.resetAndDestroy() };
}

/** Resolves once the stand-in API server has received `count` TokenReviews for `token`. */
async function reviewsReceived(token: string, count = 1): Promise<void> {
  while (api.reviews.tokenReviews.filter((r) => r.spec.token === token).length < count) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.each(['http', 'https'] as const)(
  'kubeletUpgradeAuth over %s: a reset never ends the process',
  (protocol) => {
    let child: GuardedChild;
    let port = 0;

    /** The server is running and answers a new upgrade (401: no credentials). */
    async function stillServing(): Promise<void> {
      expect(await child.alive()).toBe(true);
      const client = await openClient(protocol, port, upgradeRequest('/exec/ns/probe/c'));
      await client.answered;
      expect(client.received()).toMatch(/^HTTP\/1\.1 401 /);
      client.reset();
    }

    beforeAll(async () => {
      child = new GuardedChild(
        fork(SCRIPT, [], {
          execArgv: ['--import', 'tsx'],
          env: { ...process.env, NODE_OPTIONS: '' },
          stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        }),
      );
      const config: GuardedServerConfig = {
        protocol,
        kubeconfig: api.kubeconfigYaml('cert'),
        serving: { cert: serving.cert, key: serving.key },
        timeout: '2s',
      };
      child.send({ type: 'start', config });
      const listening = await child.report(
        (r): r is Extract<FromGuardedServer, { event: 'listening' }> => r.event === 'listening',
      );
      port = listening.port;
    });
    afterAll(async () => {
      if (child.process.connected) child.send({ type: 'stop' });
      // A clean stop: exit code 0, nothing uncaught on the way.
      expect(await child.exited).toBe(0);
      expect(child.stderr).not.toMatch(/Unhandled 'error' event|ECONNRESET|EPIPE/);
    });

    it('hung API server, reset while the TokenReview waits: the guard resolves false, nothing is written when the review ends', async () => {
      api.setFault({ type: 'hang' });
      const id = `/exec/ns/hung-during-${protocol}/c`;
      const token = UNKNOWN(`during-${protocol}`);
      const client = await openClient(protocol, port, upgradeRequest(id, token));
      await reviewsReceived(token);
      client.reset();
      await child.report(closed(id));
      expect((await child.report(guarded(id))).allowed).toBe(false);
      // The review times out afterwards, and the middleware goes on from there for a socket that
      // is gone. A second upgrade with the same token waits for the same review: its 401 arrives
      // once that has happened.
      const second = await openClient(protocol, port, upgradeRequest(`${id}/again`, token));
      await second.answered;
      expect(second.received()).toMatch(/^HTTP\/1\.1 401 /);
      expect(api.reviews.tokenReviews.filter((r) => r.spec.token === token)).toHaveLength(1);
      await stillServing();
    });

    it.each([
      ['hung', UNKNOWN('before')],
      ['healthy', 'admin-token'],
    ])(
      '%s API server, reset as soon as the upgrade is sent: the process keeps serving',
      async (state, token) => {
        if (state === 'hung') api.setFault({ type: 'hang' });
        const client = await openClient(
          protocol,
          port,
          upgradeRequest(`/exec/ns/${state}-before-${protocol}/c`, token),
        );
        client.reset();
        await stillServing();
      },
    );

    it('healthy API server, reset between an allowed review and the handshake: the process keeps serving', async () => {
      const id = `/exec/ns/allowed-after-${protocol}/c`;
      const client = await openClient(protocol, port, upgradeRequest(id, 'admin-token'));
      expect((await child.report(guarded(id))).allowed).toBe(true);
      client.reset();
      await child.report(closed(id));
      // The app's handshake, written after the client left.
      child.send({ type: 'handshake', id });
      await stillServing();
    });

    it.each([
      ['healthy', 'viewer-token', /^HTTP\/1\.1 403 /],
      ['hung', UNKNOWN('refused'), /^HTTP\/1\.1 401 /],
    ])(
      '%s API server, reset after the refusal arrived: the process keeps serving',
      async (state, token, status) => {
        if (state === 'hung') api.setFault({ type: 'hang' });
        const id = `/exec/ns/${state}-refused-${protocol}/c`;
        const client = await openClient(protocol, port, upgradeRequest(id, token));
        await client.answered;
        expect(client.received()).toMatch(status);
        client.reset();
        await child.report(closed(id));
        expect((await child.report(guarded(id))).allowed).toBe(false);
        await stillServing();
      },
    );

    it('a socket gone before the guard runs: false at once, nothing written, no review asked', async () => {
      const id = `/late/ns/${protocol}/c`;
      const reviewsBefore = api.reviews.tokenReviews.length;
      const client = await openClient(protocol, port, upgradeRequest(id, 'late-token'));
      await child.report((r): r is FromGuardedServer => r.event === 'upgrade' && r.id === id);
      client.reset();
      expect((await child.report(guarded(id))).allowed).toBe(false);
      expect(api.reviews.tokenReviews.length).toBe(reviewsBefore);
      await stillServing();
    });
  },
);
