import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Server } from 'node:https';
import express from 'express';
import { kubeletAuth, kubeletAuthz, type DecisionEvent } from '../../lib/index.js';
import { alwaysAllow } from '../../lib/authz/authorizer.js';
import type { StandInApiServer } from '../../lib/testing/index.js';
import { recordingLogger } from '../support/secrets.js';
import {
  call,
  close,
  listen,
  makePki,
  rawRequest,
  startPolicyApiServer,
  TOKENS,
  type Pki,
} from './harness.js';

let pki: Pki;
let api: StandInApiServer;
let server: Server;
const events: DecisionEvent[] = [];
const closers: (() => void)[] = [];

beforeAll(async () => {
  [pki, api] = await Promise.all([makePki(), startPolicyApiServer()]);
  const auth = kubeletAuth({
    nodeName: 'node-a',
    kubeConfig: api.kubeConfig,
    authentication: { x509: { clientCAFile: pki.clientCAFile } },
    logger: recordingLogger,
    timeout: '1s',
    onDecision: (event) => events.push(event),
  });
  closers.push(() => auth.close());
  const app = express();
  app.use(auth);
  app.use((_req, res) => {
    res.send('ok');
  });
  server = await listen(pki, app);
});
afterAll(async () => {
  closers.forEach((c) => c());
  await close(server);
  await api.close();
});
beforeEach(() => {
  events.length = 0;
  api.setFault();
});

describe('onDecision: one event per request, never a credential', () => {
  it.each([
    [
      'allowed',
      { cert: 'alice' },
      '/stats/summary',
      200,
      { decision: 'allowed', user: 'alice', decidedBy: 'stats' },
    ],
    [
      'forbidden',
      { cert: 'alice' },
      '/configz',
      403,
      { decision: 'forbidden', user: 'alice', decidedBy: undefined },
    ],
    [
      'unauthenticated',
      {},
      '/stats/summary',
      401,
      { decision: 'unauthenticated', user: undefined, decidedBy: undefined },
    ],
    [
      'refused token',
      { authorization: 'Bearer never-issued-token' },
      '/pods',
      401,
      { decision: 'unauthenticated', user: undefined, decidedBy: undefined },
    ],
    [
      'bad request',
      { cert: 'alice' },
      '/stats/%2e%2e/exec',
      400,
      { decision: 'bad-request', user: undefined, decidedBy: undefined },
    ],
  ] as const)('%s', async (_name, spec, path, status, expected) => {
    await call(server, pki, path, {
      cert: 'cert' in spec ? pki.certs[spec.cert] : undefined,
      authorization: 'authorization' in spec ? spec.authorization : undefined,
    }).expect(status);
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event?.decision).toBe(expected.decision);
    expect(event?.user?.username).toBe(expected.user);
    expect(event?.decidedBy?.subresource).toBe(expected.decidedBy);
    expect(event?.method).toBe('GET');
    expect(event?.latencyMs).toBeGreaterThanOrEqual(0);
    // Nothing in the event is a credential.
    const text = JSON.stringify(event);
    for (const token of TOKENS) expect(text).not.toContain(token);
    expect(text).not.toContain('never-issued-token');
    expect(text).not.toContain('BEGIN');
  });

  it.each([
    ['/stats/%2e%2e/exec?access_token=s3cr3t-in-query', '/stats/%2e%2e/exec'],
    ['http://admin:s3cr3t-userinfo@node-a/stats/../exec?x=1', '/stats/../exec'],
    ['/Stats/summary?access_token=s3cr3t-in-query', '/Stats/summary'],
  ])('a 400 for %s reports the path %s: no query, no authority', async (target, path) => {
    const res = await rawRequest(server, pki, `GET ${target} HTTP/1.1`, pki.certs.alice);
    expect(res.status).toBe(400);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ decision: 'bad-request', path });
    expect(JSON.stringify(events[0])).not.toMatch(/s3cr3t|admin/);
  });

  it('a forbidden event lists every attribute asked; a refused token says why', async () => {
    await call(server, pki, '/configz', { cert: pki.certs.alice }).expect(403);
    expect(events[0]?.attributes.map((a) => a.subresource)).toEqual(['configz', 'proxy']);
    events.length = 0;
    await call(server, pki, '/pods', { authorization: 'Bearer never-issued-token' }).expect(401);
    expect(events[0]?.reason).toBe('invalid bearer token');
  });

  it('an authorization error names the failing record and its cause, with the latency of the wait', async () => {
    api.setFault({ type: 'hang' });
    await call(server, pki, '/metrics', { cert: pki.certs.manyGroups }).expect(500);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ decision: 'error', decidedBy: { subresource: 'metrics' } });
    expect(events[0]?.reason).toMatch(/timed out after 1000 ms/);
    expect(events[0]?.latencyMs).toBeGreaterThanOrEqual(900);
  });

  it('a listener that throws is logged and never breaks the request', async () => {
    const app = express();
    app.use((req, _res, next) => {
      (req as { user?: unknown }).user = { username: 'u', groups: [] };
      next();
    });
    app.use(
      kubeletAuthz({
        nodeName: 'node-a',
        authorizer: alwaysAllow(),
        logger: recordingLogger,
        onDecision: () => {
          throw new Error('listener broke');
        },
      }),
    );
    app.use((_req, res) => {
      res.send('ok');
    });
    const s = await listen(pki, app);
    await call(s, pki, '/pods').expect(200, 'ok');
    await close(s);
  });
});
