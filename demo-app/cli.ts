/**
 * The mock kubelet's command: parse the kubelet flags, start in dev or real mode, serve until
 * SIGTERM/SIGINT, then stop accepting, let in-flight requests finish and report exit code 0.
 * Every start-up failure is one line on stderr and exit code 1, never a stack trace.
 */
import { hostname } from 'node:os';
import {
  escapeControlCharacters,
  escapeControlCharactersInLines,
  quoted,
} from 'express-kubelet-auth/parts';
import type { FlagValues } from './flags.js';
import { parseCommandLine } from './flags.js';
import { resolveEffectiveConfig } from './kubelet-config.js';
import { usageText } from './usage.js';

// The server side (Express, the library, @kubernetes/client-node, the PKI helpers) takes
// seconds to load; it is imported only once the command line is known to be good, so mistakes
// are reported at once.
const loadServer = () => import('./server.js');
const loadDevMode = () => import('./dev-mode.js');
const loadPreflight = () => import('./preflight.js');

export const PROGRAM = 'mock-kubelet';

/** Flags that keep dev mode: choosing the node name does not make a configuration. */
const DEV_MODE_FLAGS: ReadonlySet<string> = new Set(['hostname-override']);

export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  hostname(): string;
  /** Resolves when the process is asked to stop (SIGTERM / SIGINT). */
  stopRequested(): Promise<string>;
}

/** Runs the command; resolves with the process exit code. */
export async function runCli(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const fail = (error: unknown): number => {
    io.stderr(`${PROGRAM}: ${oneLine(error)}\n`);
    return 1;
  };
  let flags: FlagValues;
  try {
    const commandLine = parseCommandLine(argv);
    if (commandLine.help) {
      io.stdout(usageText());
      return 0;
    }
    flags = commandLine.flags;
  } catch (error) {
    return fail(error);
  }

  // Lines and instructions quote requests and flags: escaped here, whoever wrote them.
  const log = (line: string): void => io.stderr(`${escapeControlCharacters(line)}\n`);
  const print = (text: string): void => io.stdout(escapeControlCharactersInLines(text));
  let close: () => Promise<void>;
  try {
    if (Object.keys(flags).every((name) => DEV_MODE_FLAGS.has(name))) {
      const { startDevMode } = await loadDevMode();
      const dev = await startDevMode({
        nodeName: flags['hostname-override'],
        log,
        print,
      });
      close = dev.close;
    } else {
      const config = resolveEffectiveConfig(flags, { hostname: io.hostname() });
      const { preflight } = await loadPreflight();
      const prepared = await preflight(config);
      const { startKubelet } = await loadServer();
      const kubelet = await startKubelet(prepared, { log });
      const s = config.settings;
      const on = (value: boolean): string => (value ? 'on' : 'off');
      const details = [
        // The URL shows a loopback address one can dial; say when the server listens more widely.
        ...(s.address === '0.0.0.0' || s.address === '::' ? [`listening on ${s.address}`] : []),
        `x509: ${on(s['client-ca-file'] !== '')}`,
        `token webhook: ${on(s['authentication-token-webhook'])}`,
        `anonymous: ${on(s['anonymous-auth'])}`,
        `authorization: ${s['authorization-mode']}`,
      ];
      io.stdout(
        `${PROGRAM}: node ${quoted(config.nodeName)} serving on ${kubelet.url} (${details.join(', ')})\n`,
      );
      close = () => kubelet.close();
    }
  } catch (error) {
    return fail(error);
  }

  const signal = await io.stopRequested();
  io.stderr(`${PROGRAM}: ${signal} received, finishing in-flight requests\n`);
  await close();
  io.stderr(`${PROGRAM}: stopped\n`);
  return 0;
}

// CliErrors are one line already; anything else (a library's error) is cut to its first line.
/** The first line of an error's message, control characters escaped: it may quote a flag. */
function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return escapeControlCharacters(message.split('\n')[0] ?? message);
}

/**
 * The real process: its streams, host name and signals. Signals are caught from the start, so
 * one that arrives while the server is starting stops it as soon as it has started; a second
 * signal stops at once.
 */
export function processIO(): CliIO {
  let received: ((signal: string) => void) | undefined;
  const stop = new Promise<string>((resolve) => (received = resolve));
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.stderr.write(`${PROGRAM}: ${signal} received again, exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    received?.(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    hostname,
    stopRequested: () => stop,
  };
}
