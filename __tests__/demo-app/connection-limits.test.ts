/**
 * The mock kubelet over real TLS: connections that send no request are closed, and an answer
 * given while the request body is still arriving closes the connection — one answer, never a
 * second. The timeouts are short here so that each test waits for the `close` event; what is
 * asserted is that the connection closed, and what it carried, never how long it took.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { resolveConnectionTimeouts } from '../../demo-app/connection-limits.js';
import type { RunningKubelet } from '../../demo-app/server.js';
import { startRealModeKubelet } from './support/real-mode.js';
import type { StandInApiServer } from '../../lib/testing/index.js';
import { makePki, startPolicyApiServer, statusLines, type Pki } from '../integration/harness.js';
import { createNodeModel } from '../../demo-app/payloads/node-model.js';

const pod = createNodeModel('node-a').pods.find((p) => p.namespace === 'default');
if (!pod) throw new Error('the node model has a pod in default');

let pki: Pki;
let api: StandInApiServer;
let kubelet: RunningKubelet;

beforeAll(async () => {
  [pki, api] = await Promise.all([makePki(), startPolicyApiServer()]);
  kubelet = await startRealModeKubelet(pki, api, {
    log: () => undefined,
    // Short enough that a test waits little for a close, long enough that a loaded machine
    // still gets each request in before it (at 300 ms, one run under load lost a request).
    timeouts: { handshakeMs: 300, idleMs: 1500 },
  });
});
afterAll(async () => {
  await kubelet.close(1000);
  await api.close();
});

/** Resolves with everything received once the connection has closed. */
function closed(socket: Socket | TLSSocket): Promise<string> {
  let data = '';
  socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  return new Promise((resolve) => socket.once('close', () => resolve(data)));
}

function tcp(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp(kubelet.port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

function tls(): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connectTls(
      { host: '127.0.0.1', port: kubelet.port, ca: pki.serving.cert, servername: 'localhost' },
      () => resolve(socket),
    );
    socket.once('error', reject);
  });
}

describe('mock kubelet: connections without a request are closed', () => {
  it('a TCP connection that never starts the TLS handshake', async () => {
    const socket = await tcp();
    expect(await closed(socket)).toBe('');
  });

  it('a TLS connection that never sends a request: closed, nothing written', async () => {
    const socket = await tls();
    expect(await closed(socket)).toBe('');
  });

  it('a request whose headers never end', async () => {
    const socket = await tls();
    const data = closed(socket);
    socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n');
    expect(statusLines(await data)).toEqual([]);
  });

  it('a keep-alive connection after its answer', async () => {
    const socket = await tls();
    const data = closed(socket);
    socket.write(
      'GET /healthz HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer admin-token\r\n\r\n',
    );
    expect(statusLines(await data)).toEqual(['HTTP/1.1 200 OK']);
  });

  it('defaults: bounded, with the kubelet’s 90 s idle timeout', () => {
    expect(resolveConnectionTimeouts()).toEqual({
      handshakeMs: 10_000,
      idleMs: 90_000,
      headersMs: 60_000,
      requestMs: 300_000,
    });
  });

  it.each([
    [{ idleMs: 0 }, /idleMs/],
    [{ handshakeMs: Number.NaN }, /handshakeMs/],
    [{ headersMs: 10, requestMs: 5 }, /headersMs/],
  ])('bad timeouts %j throw a TypeError naming them', (timeouts, message) => {
    expect(() => resolveConnectionTimeouts(timeouts)).toThrow(message);
  });
});

describe('mock kubelet: an answer sent before the request body arrived closes the connection', () => {
  const post = (length: number | 'chunked'): string =>
    [
      `POST /exec/default/${pod.name}/nginx?command=date&output=1 HTTP/1.1`,
      'Host: localhost',
      'Authorization: Bearer admin-token',
      length === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${length}`,
      '',
      '',
    ].join('\r\n');

  /**
   * Sends `piece` every 50 ms while the connection is open, at most `times` times: a client
   * whose body is slow but never stalls (which would have let an inactivity timer close it).
   */
  async function trickle(socket: TLSSocket, piece: string, times: number): Promise<void> {
    for (let i = 0; i < times && !socket.destroyed; i++) {
      socket.write(piece);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('a slow body: one answer, then the connection closes', async () => {
    const socket = await tls();
    const data = closed(socket);
    socket.write(`${post(100_000)}x`);
    await trickle(socket, 'x', 10_000);
    const received = await data;
    expect(statusLines(received)).toEqual(['HTTP/1.1 200 OK']);
    expect(received).toContain('is simulated');
  });

  it('a large body the handler never reads: one answer, the rest is not read', async () => {
    const socket = await tls();
    const data = closed(socket);
    let sent = 0;
    let open = true;
    socket.once('close', () => (open = false));
    socket.write(post(1024 ** 3));
    // Sends as long as the server takes it; a server that read it all would take a gigabyte.
    const chunk = Buffer.alloc(64 * 1024, 'x');
    while (open && sent < 64 * 1024 ** 2) {
      sent += chunk.length;
      if (!socket.write(chunk)) {
        await new Promise<void>((resolve) => {
          socket.once('drain', resolve);
          socket.once('close', resolve);
        });
      }
    }
    const received = await data;
    expect(statusLines(received)).toEqual(['HTTP/1.1 200 OK']);
    expect(sent).toBeLessThan(64 * 1024 ** 2);
  });

  it('a chunked body still arriving: one answer, then the connection closes', async () => {
    const socket = await tls();
    const data = closed(socket);
    socket.write(post('chunked'));
    await trickle(socket, '1\r\nx\r\n', 10_000);
    expect(statusLines(await data)).toEqual(['HTTP/1.1 200 OK']);
  });

  it('a body sent in full keeps the connection for the next request', async () => {
    const socket = await tls();
    const data = closed(socket);
    const request = `${post(5)}hello`;
    socket.write(request);
    // The second request, on the same connection, is answered too; then the idle timeout.
    socket.write(request);
    expect(statusLines(await data)).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
  });
});

describe('mock kubelet: Expect: 100-continue', () => {
  /** Sends a POST that waits for `100 Continue` before its body; resolves once the connection closed. */
  const expectContinue = async (authorization: string): Promise<string> => {
    const socket = await tls();
    const data = closed(socket);
    socket.write(
      [
        `POST /exec/default/${pod.name}/nginx?command=date&output=1 HTTP/1.1`,
        'Host: localhost',
        ...(authorization ? [authorization] : []),
        'Content-Length: 1048576',
        'Expect: 100-continue',
        '',
        '',
      ].join('\r\n'),
    );
    return data;
  };

  it('no credentials: the 401 without 100 Continue, then the connection closes', async () => {
    const received = await expectContinue('');
    expect(statusLines(received)).toEqual(['HTTP/1.1 401 Unauthorized']);
    expect(received).toMatch(/\r\nConnection: close\r\n/i);
  });

  it('authorized, a route that does not read the body: its answer without 100 Continue', async () => {
    const received = await expectContinue('Authorization: Bearer admin-token');
    expect(statusLines(received)).toEqual(['HTTP/1.1 200 OK']);
    expect(received).toContain('is simulated');
  });
});
