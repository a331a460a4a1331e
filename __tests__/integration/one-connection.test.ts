import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Agent, request, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import express from 'express';
import { kubeletAuth, kubeUser } from '../../lib/index.js';
import type { StandInApiServer } from '../../lib/testing/index.js';
import { recordingLogger, registerSecrets } from '../support/secrets.js';
import { close, listen, makePki, startPolicyApiServer, type Pki } from './harness.js';

/**
 * Many requests over one keep-alive TLS connection, each with its own token, as a client (or a
 * proxy pooling its connections) sends them: each request is authenticated as its own token's
 * user, whatever came before it on the connection.
 */
let pki: Pki;
let api: StandInApiServer;
let server: Server;
let agent: Agent;
const connections = new Set<Socket>();
let release: () => void;

/** A token the API server does not know, one character away from alice's. */
const NEAR_ALICE = 'alice-tokeN';

beforeAll(async () => {
  registerSecrets(NEAR_ALICE);
  [pki, api] = await Promise.all([makePki(), startPolicyApiServer()]);
  const auth = kubeletAuth({
    nodeName: 'node-a',
    kubeConfig: api.kubeConfig,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true } },
    authorization: { mode: 'Webhook' },
    logger: recordingLogger,
  });
  release = () => auth.close();
  const app = express();
  app.use(auth);
  app.get('/stats/summary', (req, res) => {
    res.json({ user: kubeUser(req)?.username, authorization: req.headers.authorization ?? null });
  });
  server = await listen(pki, app);
  server.on('secureConnection', (socket: Socket) => connections.add(socket));
  agent = new Agent({ keepAlive: true, maxSockets: 1, ca: pki.serving.cert });
});

afterAll(async () => {
  agent.destroy();
  release();
  await close(server);
  await api.close();
});

/** GET /stats/summary with `token` over the agent's one connection. */
function get(token: string): Promise<{ status: number; body: string }> {
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
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('tokens on one keep-alive connection', () => {
  it('authenticates every request as its own token, whatever the connection sent before', async () => {
    const seen: [number, string][] = [];
    for (const token of [
      'alice-token',
      'alice-token',
      'bob-token',
      'alice-token',
      NEAR_ALICE,
      'nope-token',
      'alice-token',
      'admin-token',
      NEAR_ALICE,
    ]) {
      const { status, body } = await get(token);
      seen.push([status, status === 200 ? (JSON.parse(body) as { user: string }).user : body]);
    }
    expect(connections.size).toBe(1);
    expect(seen).toEqual([
      [200, 'alice'],
      [200, 'alice'],
      [403, expect.stringContaining('user=bob')],
      [200, 'alice'],
      [401, 'Unauthorized'],
      [401, 'Unauthorized'],
      [200, 'alice'],
      [200, 'root'],
      [401, 'Unauthorized'],
    ]);
    // One review per token, the refusals included: the rest came from the token cache.
    expect(api.reviews.tokenReviews.map((r) => r.spec.token).sort()).toEqual(
      ['admin-token', 'alice-token', 'bob-token', NEAR_ALICE, 'nope-token'].sort(),
    );
  });
});
