import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect as tlsConnect } from 'node:tls';
import WebSocket from 'ws';
import type { RunningKubelet } from '../../demo-app/server.js';
import { startRealModeKubelet } from './support/real-mode.js';
import type { StandInApiServer } from '../../lib/testing/index.js';
import { makePki, startPolicyApiServer, type Pki } from '../integration/harness.js';

let pki: Pki;
let api: StandInApiServer;
let kubelet: RunningKubelet;
const lines: string[] = [];

const protocolToken = (token: string) =>
  `base64url.bearer.authorization.k8s.io.${Buffer.from(token).toString('base64url')}`;

beforeAll(async () => {
  [pki, api] = await Promise.all([makePki(), startPolicyApiServer()]);
  kubelet = await startRealModeKubelet(pki, api, { log: (line) => lines.push(line) });
});
afterAll(async () => {
  await kubelet.close(1000);
  await api.close();
});

/** Opens a WebSocket; resolves with the first message, or the refusal's status and body. */
function open(
  path: string,
  options: { protocols?: string[]; token?: string },
): Promise<
  | { opened: true; first: string; echo: string; protocol: string }
  | { opened: false; status: number; body: string }
> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(
      `wss://127.0.0.1:${kubelet.port}${path}`,
      options.protocols ?? ['v4.channel.k8s.io'],
      {
        ca: pki.serving.cert,
        headers: options.token ? { Authorization: `Bearer ${options.token}` } : {},
      },
    );
    const messages: string[] = [];
    ws.on('message', (data) => {
      messages.push(String(data));
      if (messages.length === 1) ws.send('hello');
      else {
        resolve({
          opened: true,
          first: messages[0] as string,
          echo: messages[1] as string,
          protocol: ws.protocol,
        });
        ws.close();
      }
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ opened: false, status: res.statusCode ?? 0, body }));
    });
    ws.on('error', (error) => {
      if (!/Unexpected server response/.test(error.message)) reject(error);
    });
  });
}

describe('mock kubelet: WebSocket exec, attach and portForward', () => {
  it('a token in the subprotocol opens an echo; the token entry is not echoed as the protocol', async () => {
    const answer = await open('/exec/default/web/nginx?command=date', {
      protocols: ['v4.channel.k8s.io', protocolToken('admin-token')],
    });
    expect(answer).toEqual({
      opened: true,
      first: 'mock-kubelet: exec is simulated: nothing runs; messages are echoed',
      echo: 'hello',
      protocol: 'v4.channel.k8s.io',
    });
  });

  it('a user without nodes/proxy gets the kubelet’s 403 before any handshake', async () => {
    const answer = await open('/attach/default/web/nginx', { token: 'alice-token' });
    expect(answer).toEqual({
      opened: false,
      status: 403,
      body: 'Forbidden (user=alice, verb=get, resource=nodes, subresource(s)=[proxy])\n',
    });
  });

  it('no credentials: 401', async () => {
    expect(await open('/portForward/default/web', {})).toEqual({
      opened: false,
      status: 401,
      body: 'Unauthorized',
    });
  });

  it('no credentials, a path no endpoint covers: Go’s 404, before authentication', async () => {
    expect(await open('/no/such/stream', {})).toEqual({
      opened: false,
      status: 404,
      body: '404 page not found\n',
    });
  });

  it('no credentials: a subtree without its slash is Go’s 301, before authentication; /exec/ is a 401', async () => {
    expect(await open('/exec/', {})).toMatchObject({ opened: false, status: 401 });
    expect(await open('/debug/pprof', {})).toEqual({
      opened: false,
      status: 301,
      body: '<a href="/debug/pprof/">Moved Permanently</a>.\n\n',
    });
  });

  it('an allowed upgrade to a path that streams nothing: 404 after authorization', async () => {
    const answer = await open('/pods', { token: 'admin-token' });
    expect(answer).toMatchObject({ opened: false, status: 404 });
  });

  it.each([
    ['https://node-a:10250/exec/default/web/nginx?command=date', 101],
    // Cleaned by Go's multiplexer, before authentication: a 301 to /pods.
    ['http://node-a/exec/default/web/nginx/../../../../pods', 301],
  ])(
    'an absolute-form upgrade to %s is routed as its origin form would be: %d',
    async (target, status) => {
      const head = await new Promise<string>((resolve, reject) => {
        const socket = tlsConnect(
          { host: '127.0.0.1', port: kubelet.port, ca: pki.serving.cert, servername: 'localhost' },
          () =>
            socket.write(
              `GET ${target} HTTP/1.1\r\nHost: node-a\r\nAuthorization: Bearer admin-token\r\n` +
                'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
                `Sec-WebSocket-Key: ${Buffer.from('0123456789abcdef').toString('base64')}\r\n\r\n`,
            ),
        );
        let data = '';
        socket.setEncoding('latin1');
        socket.on('data', (chunk: string) => {
          data += chunk;
          if (data.includes('\r\n\r\n')) {
            socket.destroy();
            resolve(data.slice(0, data.indexOf('\r\n')));
          }
        });
        socket.on('error', reject);
      });
      expect(head).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    },
  );

  it('logs one line per upgrade, without the token', () => {
    expect(
      lines.some((l) => /path=\/exec\/default\/web\/nginx user="root" websocket=open/.test(l)),
    ).toBe(true);
    expect(lines.join('\n')).not.toContain('admin-token');
  });
});
