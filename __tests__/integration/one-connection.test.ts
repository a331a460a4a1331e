import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  connect as h2connect,
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type ServerHttp2Session,
} from 'node:http2';
import { Agent, request, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import connect from 'connect';
import { kubeletAuth, kubeUser } from '../../lib/index.js';
import type { StandInApiServer } from '../../lib/testing/index.js';
import { registerSecrets } from '../support/secrets.js';
import {
  close,
  listen,
  makePki,
  startPolicyApiServer,
  webhookOptions,
  type Pki,
} from './harness.js';

/**
 * Many requests over one keep-alive connection (HTTP/1.1 over TLS, or one HTTP/2 session), each
 * with its own token, as a client or a proxy pooling its connections sends them: each request is
 * authenticated as its own token's user, whatever came before it on the connection.
 */
let pki: Pki;
let api: StandInApiServer;
let server: Server;
let h2server: Http2SecureServer;
let agent: Agent;
const connections = new Set<Socket>();
const sessions = new Set<ServerHttp2Session>();
let release: () => void;

/** A token the API server does not know, one character away from alice's. */
const NEAR_ALICE = 'alice-tokeN';

/** The tokens each case sends, in order, and what each must get: its own user, or a refusal. */
const SEQUENCE: [token: string, status: number, said: string][] = [
  ['alice-token', 200, 'alice'],
  ['alice-token', 200, 'alice'],
  ['bob-token', 403, 'user=bob'],
  ['alice-token', 200, 'alice'],
  [NEAR_ALICE, 401, 'Unauthorized'],
  ['nope-token', 401, 'Unauthorized'],
  ['alice-token', 200, 'alice'],
  ['admin-token', 200, 'root'],
  [NEAR_ALICE, 401, 'Unauthorized'],
];

/** What each request of {@link SEQUENCE} must get. */
const EXPECTED = SEQUENCE.map(([, status, said]) => [
  status,
  status === 403 ? expect.stringContaining(said) : said,
]);

/** One review per token, the refusals included: the rest came from the token cache. */
const REVIEWED = ['admin-token', 'alice-token', 'bob-token', NEAR_ALICE, 'nope-token'].sort();

/** What a response says: the user for a 200, the body otherwise. */
function said(status: number, body: string): [number, string] {
  return [status, status === 200 ? (JSON.parse(body) as { user: string }).user : body];
}

beforeAll(async () => {
  registerSecrets(NEAR_ALICE);
  [pki, api] = await Promise.all([makePki(), startPolicyApiServer()]);
  const auth = kubeletAuth(webhookOptions(api));
  release = () => auth.close();
  // connect rather than Express: it serves HTTP/2 compatibility requests as they are.
  const app = connect();
  app.use(auth);
  app.use((req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ user: kubeUser(req)?.username }));
  });
  const options = {
    key: pki.serving.key,
    cert: pki.serving.cert,
    requestCert: true,
    rejectUnauthorized: false,
  };
  server = await listen(pki, app);
  server.on('secureConnection', (socket: Socket) => connections.add(socket));
  agent = new Agent({ keepAlive: true, maxSockets: 1, ca: pki.serving.cert });
  h2server = createSecureServer(
    options,
    // connect's types name node:http's request; HTTP/2 compatibility requests serve it too.
    app as unknown as (req: Http2ServerRequest, res: Http2ServerResponse) => void,
  );
  h2server.on('session', (session: ServerHttp2Session) => sessions.add(session));
  await new Promise<void>((resolve) => h2server.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  agent.destroy();
  release();
  await close(server);
  await new Promise<void>((resolve) => h2server.close(() => resolve()));
  await api.close();
});

beforeEach(() => api.resetReviews());

/** GET /stats/summary with `token` over the agent's one HTTP/1.1 connection. */
function get(token: string): Promise<[number, string]> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        path: '/stats/summary',
        headers: { authorization: `Bearer ${token}` },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve(said(res.statusCode ?? 0, body)));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('tokens on one keep-alive connection', () => {
  it('authenticates every request as its own token, whatever the connection sent before', async () => {
    const seen: [number, string][] = [];
    for (const [token] of SEQUENCE) seen.push(await get(token));
    expect(connections.size).toBe(1);
    expect(seen).toEqual(EXPECTED);
    expect(api.reviews.tokenReviews.map((r) => r.spec.token).sort()).toEqual(REVIEWED);
  });

  it('does the same over one HTTP/2 session, stream after stream', async () => {
    const { port } = h2server.address() as AddressInfo;
    const session = h2connect(`https://127.0.0.1:${port}`, {
      ca: pki.serving.cert,
      servername: 'localhost',
    });
    const stream = (token: string): Promise<[number, string]> =>
      new Promise((resolve, reject) => {
        const req = session.request({
          ':path': '/stats/summary',
          authorization: `Bearer ${token}`,
        });
        let status = 0;
        let body = '';
        req.setEncoding('utf8');
        req.on('response', (head) => (status = Number(head[':status'])));
        req.on('data', (chunk: string) => (body += chunk));
        req.on('end', () => resolve(said(status, body)));
        req.on('error', reject);
        req.end();
      });
    const seen: [number, string][] = [];
    try {
      for (const [token] of SEQUENCE) seen.push(await stream(token));
    } finally {
      session.close();
    }
    expect(sessions.size).toBe(1);
    expect(seen).toEqual(EXPECTED);
    // A fresh middleware would review every token; this one's cache is warm from the first case.
    expect(api.reviews.tokenReviews).toHaveLength(0);
  });
});
