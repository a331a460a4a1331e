/**
 * The mock kubelet's log never carries a control character from a request: user names from
 * certificates and TokenReview, in request and WebSocket lines and in the middleware's own
 * warnings, all reach the terminal escaped. (Node refuses raw control bytes in a request target;
 * encoded ones stay encoded in the log.)
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { connect } from 'node:tls';
import type { RunningKubelet } from '../../demo-app/server.js';
import { startRealModeKubelet } from './support/real-mode.js';
import {
  mintClientCert,
  startApiServer,
  type IssuedCertificate,
  type StandInApiServer,
} from '../../lib/testing/index.js';
import { makePki, type Pki } from '../integration/harness.js';
import { registerSecrets } from '../support/secrets.js';

/** What may drive a terminal, forge a line or reorder the display. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

/** A name holding one of each kind: ESC, C1 CSI, NEL, DEL, line separator, bidi override. */
const EVIL = 'eve\x1b]0;owned\x07\u009b2J\u0085\x7f\u2028forged\u202egnp.exe';

let pki: Pki;
let api: StandInApiServer;
let kubelet: RunningKubelet;
let evilCert: IssuedCertificate;
const lines: string[] = [];

beforeAll(async () => {
  registerSecrets('evil-token', 'unknown-token');
  pki = await makePki();
  [api, evilCert] = await Promise.all([
    startApiServer({
      tokens: { 'evil-token': { username: EVIL, groups: [EVIL] } },
      policy: {
        rules: [
          { users: [EVIL], verbs: ['get', 'create'], resources: ['nodes/pods', 'nodes/proxy'] },
        ],
      },
    }),
    mintClientCert({ ca: pki.clientCA, user: EVIL }),
  ]);
  registerSecrets(api.callerToken, api.authority.key, evilCert.key);
  kubelet = await startRealModeKubelet(pki, api, { log: (line) => lines.push(line) }, [
    '--authorization-webhook-cache-authorized-ttl=0s',
    '--authorization-webhook-cache-unauthorized-ttl=0s',
  ]);
});
afterAll(async () => {
  await kubelet.close(1000);
  await api.close();
});
beforeEach(() => {
  lines.length = 0;
  api.setFault();
});

/** Sends `head` (request line and headers, without the final blank line) as it is written. */
function send(head: string, cert?: IssuedCertificate, connection = 'close'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      {
        host: '127.0.0.1',
        port: kubelet.port,
        ca: pki.serving.cert,
        servername: 'localhost',
        cert: cert?.cert,
        key: cert?.key,
      },
      () => socket.write(`${head}\r\nHost: localhost\r\nConnection: ${connection}\r\n\r\n`),
    );
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (data += chunk));
    // An opened WebSocket stays open: its first message is all there is to wait for.
    socket.on('data', () => connection === 'Upgrade' && data.includes('simulated') && socket.end());
    socket.on('end', () => resolve(data));
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
  });
}

/** The log once a line matching `last` was written (lines are written as responses finish). */
async function loggedUntil(last: RegExp): Promise<string[]> {
  for (let i = 0; i < 400 && !lines.some((line) => last.test(line)); i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return [...lines];
}

function expectPrintable(log: readonly string[]): void {
  expect(log.length).toBeGreaterThan(0);
  for (const line of log) expect(line).not.toMatch(UNSAFE);
}

describe('mock kubelet log: control characters from requests are escaped', () => {
  it('a user name from a client certificate', async () => {
    await send('GET /pods HTTP/1.1', evilCert);
    const log = await loggedUntil(/ status=| websocket=/);
    expectPrintable(log);
    expect(log.join('\n')).toContain('user="eve\\u001b]0;owned\\u0007\\u009b2J\\u0085');
  });

  it('a user name from TokenReview', async () => {
    await send('GET /pods HTTP/1.1\r\nAuthorization: Bearer evil-token');
    expectPrintable(await loggedUntil(/ status=| websocket=/));
  });

  it('the middleware’s warning when authorization fails', async () => {
    api.setFault({ type: 'status', status: 400 });
    await send('GET /pods HTTP/1.1', evilCert);
    const log = await loggedUntil(/ status=/);
    expectPrintable(log);
    expect(log.some((line) => line.startsWith('auth: '))).toBe(true);
  });

  it.each([
    ['refused', '\r\nAuthorization: Bearer unknown-token'],
    ['allowed', '\r\nAuthorization: Bearer evil-token'],
  ])('a WebSocket upgrade, %s, and its user', async (what, credentials) => {
    await send(
      'GET /exec/ns/%C2%9B2J/c%E2%80%A8?command=ls HTTP/1.1\r\nUpgrade: websocket\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' +
        credentials,
      undefined,
      'Upgrade',
    );
    const log = await loggedUntil(/ status=| websocket=/);
    expectPrintable(log);
    expect(log.join('\n')).toContain(`websocket=${what === 'allowed' ? 'open' : 'refused'}`);
  });
});
