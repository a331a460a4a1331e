/**
 * The mock kubelet's WebSocket streams must survive clients that misbehave: a reset while the
 * upgrade is being reviewed, and a malformed frame on an open stream. The server runs as users
 * run it (`tsx demo-app/main.ts`, a child process), so an uncaught exception ends the child, and
 * every case asserts it still answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect as connectTls } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { startApiServer, type StandInApiServer } from '../../lib/testing/index.js';
import { registerSecrets } from '../support/secrets.js';
import { freePort } from './support/free-port.js';
import { httpsRequest } from './support/https-client.js';

const MAIN = join(resolve(process.cwd()), 'demo-app', 'main.ts');
const ADMIN = 'ws-admin-token';
/** Not known to the API server: refused whenever its review is answered. */
const UNKNOWN = 'ws-unknown-token';

let api: StandInApiServer;
let child: ChildProcess;
let stdout = '';
/** Its log: one line per request and per upgrade. */
let stderr = '';
let exited: Promise<number | null>;
let port = 0;
const dir = mkdtempSync(join(tmpdir(), 'mock-kubelet-ws-'));

/** Resolves once `condition` holds; rejects if the mock kubelet exits first. */
async function until(condition: () => boolean, what: string): Promise<void> {
  while (!condition()) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `the mock kubelet exited (${child.exitCode}) waiting for ${what}:\n${stderr}`,
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The mock kubelet is running and answers an authorized request. */
async function stillServing(): Promise<void> {
  const res = await httpsRequest(`https://127.0.0.1:${port}/healthz`, { token: ADMIN });
  expect(res.status).toBe(200);
  expect(child.exitCode).toBeNull();
}

/** A TLS connection whose TCP socket can be reset; collects what arrives. */
async function openTls(): Promise<{
  write(data: string | Buffer): void;
  received(): Buffer;
  reset(): void;
}> {
  const tcp = connectTcp(port, '127.0.0.1');
  await new Promise<void>((done, fail) => {
    tcp.once('connect', done);
    tcp.once('error', fail);
  });
  tcp.on('error', () => undefined);
  const tls = connectTls({ socket: tcp, rejectUnauthorized: false });
  tls.on('error', () => undefined);
  await new Promise<void>((done) => tls.once('secureConnect', done));
  const chunks: Buffer[] = [];
  tls.on('data', (chunk: Buffer) => chunks.push(chunk));
  return {
    write: (data) => tls.write(data),
    received: () => Buffer.concat(chunks),
    reset: () => tcp.resetAndDestroy(),
  };
}

const upgrade = (path: string, token: string): string =>
  [
    `GET ${path} HTTP/1.1`,
    'Host: localhost',
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Version: 13',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Protocol: v4.channel.k8s.io',
    `Authorization: Bearer ${token}`,
    '',
    '',
  ].join('\r\n');

beforeAll(async () => {
  registerSecrets(ADMIN, UNKNOWN);
  api = await startApiServer({
    tokens: { [ADMIN]: { username: 'root', groups: ['admins'] } },
    policy: { rules: [{ groups: ['admins'], verbs: ['*'], resources: ['nodes/*'] }] },
  });
  registerSecrets(api.callerToken, api.authority.key);
  writeFileSync(join(dir, 'kubeconfig'), api.kubeconfigYaml('cert'), { mode: 0o600 });
  port = await freePort();
  child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      MAIN,
      '--address=127.0.0.1',
      `--port=${port}`,
      `--kubeconfig=${join(dir, 'kubeconfig')}`,
      '--authentication-token-webhook',
      '--authorization-mode=Webhook',
      '--anonymous-auth=false',
      '--hostname-override=node-ws',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } },
  );
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  exited = new Promise((done) => child.once('exit', (code) => done(code)));
  await until(() => stdout.includes('serving on'), 'the mock kubelet to listen');
}, 30_000);

afterAll(async () => {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const code = await exited;
  await api.close();
  rmSync(dir, { recursive: true, force: true });
  // Stopped cleanly: nothing uncaught on the way.
  expect(code).toBe(0);
  expect(stderr).not.toMatch(/Unhandled 'error' event/);
});
afterEach(() => api.setFault());

describe('mock kubelet: WebSocket streams and misbehaving clients', () => {
  it('a reset while the TokenReview hangs: the upgrade is refused, the server keeps serving', async () => {
    await stillServing(); // ADMIN's token is reviewed (and cached) before the API server hangs
    api.setFault({ type: 'hang' });
    const client = await openTls();
    client.write(upgrade('/exec/ns/hung/c', UNKNOWN));
    while (!api.reviews.tokenReviews.some((r) => r.spec.token === UNKNOWN)) {
      await new Promise((r) => setTimeout(r, 10));
    }
    client.reset();
    await until(
      () => /path=\/exec\/ns\/hung\/c .*websocket=refused/.test(stderr),
      'the refused upgrade to be logged',
    );
    await stillServing();
  });

  it('a reset right after an allowed upgrade: the server keeps serving', async () => {
    const client = await openTls();
    client.write(upgrade('/exec/ns/after/c', ADMIN));
    await until(() => client.received().length > 0, 'the handshake');
    client.reset();
    await until(
      () => /path=\/exec\/ns\/after\/c .*websocket=open/.test(stderr),
      'the upgrade to be logged',
    );
    await stillServing();
  });

  it('a malformed frame on an open stream closes that stream, not the server', async () => {
    const client = await openTls();
    client.write(upgrade('/exec/ns/frames/c', ADMIN));
    await until(() => client.received().includes('simulated'), 'the first message');
    expect(client.received().toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
    // A masked text frame with RSV1 set, which no negotiated extension allows.
    client.write(Buffer.from([0xc1, 0x80, 1, 2, 3, 4]));
    // The server answers with a close frame (opcode 8): protocol error.
    await until(() => client.received().includes(0x88), 'the close frame');
    await stillServing();
  });
});
