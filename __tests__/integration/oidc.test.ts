// kubeletAuth with authentication.oidc, end to end over real HTTPS: client ──TLS──▶ app
// (OIDC, then TokenReview, then SubjectAccessReview) ──TLS──▶ the stand-in API server, with
// the testkit's issuer serving discovery and keys over TLS of its own.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import {
  kubeletAuth,
  type KubeletAuthMiddleware,
  type KubeletAuthOptions,
} from '../../lib/index.js';
import type { Logger } from '../../lib/logger.js';
import type { AuthenticationMethod, AuthenticationResult } from '../../lib/metrics/observer.js';
import {
  mintServingCert,
  startApiServer,
  startOidcIssuer,
  type IssuedCertificate,
  type StandInApiServer,
  type StandInOidcIssuer,
} from '../../lib/testing/index.js';
import { record, registerSecrets } from '../support/secrets.js';

let api: StandInApiServer;
let issuer: StandInOidcIssuer;
let other: StandInOidcIssuer;
let serving: IssuedCertificate;
let lines: string[];
let nextWarning: Promise<string>;
let warned: (line: string) => void;
const started: { server: Server; auth: KubeletAuthMiddleware }[] = [];

const logger: Required<Logger> = {
  error: (line) => void (record(line), lines.push(`error: ${line}`)),
  warn: (line) => void (record(line), lines.push(`warn: ${line}`), warned(line)),
  info: (line) => void (record(line), lines.push(`info: ${line}`)),
  debug: (line) => void (record(line), lines.push(`debug: ${line}`)),
};

beforeAll(async () => {
  [api, issuer, other, serving] = await Promise.all([
    startApiServer({
      policy: {
        rules: [
          { users: ['oidc:alice', 'sa-viewer'], verbs: ['get'], resources: ['nodes/stats'] },
          { groups: ['oidc:admins'], verbs: ['*'], resources: ['nodes/*'] },
        ],
      },
    }),
    startOidcIssuer(),
    startOidcIssuer(),
    mintServingCert({ hosts: ['127.0.0.1'] }),
  ]);
  registerSecrets(api.callerToken, api.authority.key, serving.key);
});
afterAll(() => Promise.all([api.close(), issuer.close(), other.close()]));

beforeEach(async () => {
  lines = [];
  nextWarning = new Promise((resolve) => (warned = resolve));
  api.resetReviews();
  api.setTokens({});
  issuer.resetRequests();
  await issuer.setFault();
});
afterEach(async () => {
  for (const { server, auth } of started.splice(0)) {
    auth.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** The app: kubeletAuth with OIDC (prefix `oidc:`, groups `oidc:`), echoing who it served. */
async function startApp(
  oidc: Partial<NonNullable<NonNullable<KubeletAuthOptions['authentication']>['oidc']>> = {},
  options: Partial<KubeletAuthOptions> = {},
): Promise<Server> {
  const auth = kubeletAuth({
    nodeName: 'node-a',
    kubeConfig: api.kubeConfig,
    logger,
    ...options,
    authentication: {
      oidc: {
        issuerURL: issuer.url,
        clientID: issuer.clientID,
        ca: issuer.ca,
        usernamePrefix: 'oidc:',
        groupsClaim: 'groups',
        groupsPrefix: 'oidc:',
        requiredClaims: { tenant: 'a' },
        ...oidc,
      },
      ...options.authentication,
    },
  });
  const app = express();
  app.use(auth);
  app.get('/stats/summary', (req, res) => {
    res.json({ user: req.user, authorization: req.headers.authorization ?? null });
  });
  const server = createServer({ key: serving.key, cert: serving.cert }, app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  started.push({ server, auth });
  return server;
}

function get(server: Server, token?: string): request.Test {
  const port = (server.address() as AddressInfo).port;
  const req = request(`https://127.0.0.1:${port}`).get('/stats/summary').ca(serving.cert);
  return token === undefined ? req : req.set('Authorization', `Bearer ${token}`);
}

async function mint(
  claims: Record<string, unknown> = {},
  options: Parameters<StandInOidcIssuer['mintToken']>[1] = {},
  from: StandInOidcIssuer = issuer,
): Promise<string> {
  const token = await from.mintToken({ tenant: 'a', ...claims }, options);
  registerSecrets(token);
  return token;
}

describe('a good OIDC token', () => {
  it('is served as the mapped user, and that user is what the API server is asked about', async () => {
    const server = await startApp();
    const token = await mint({ sub: 'alice', groups: ['devs'] });
    const res = await get(server, token).expect(200);
    const user = { username: 'oidc:alice', groups: ['oidc:devs', 'system:authenticated'] };
    // The credential does not reach the app.
    expect(res.body).toEqual({ user, authorization: null });
    expect(api.reviews.tokenReviews).toEqual([]);
    expect(api.reviews.subjectAccessReviews).toHaveLength(1);
    expect(api.reviews.subjectAccessReviews[0]?.spec).toMatchObject({
      user: 'oidc:alice',
      groups: ['oidc:devs', 'system:authenticated'],
      resourceAttributes: { verb: 'get', resource: 'nodes', subresource: 'stats', name: 'node-a' },
    });
  });

  it('the default user name is the issuer, "#" and the subject', async () => {
    const server = await startApp({ usernamePrefix: undefined });
    const res = await get(server, await mint({ sub: 'alice', groups: ['admins'] })).expect(200);
    expect(res.body.user.username).toBe(`${issuer.url}#alice`);
  });

  it('after a key rotation: one key set fetch, then accepted', async () => {
    const server = await startApp();
    await get(server, await mint({ sub: 'alice' })).expect(200);
    expect(issuer.requests).toEqual({ discovery: 1, jwks: 1 });
    await issuer.rotateKeys();
    await get(server, await mint({ sub: 'alice' })).expect(200);
    await get(server, await mint({ sub: 'alice' })).expect(200);
    expect(issuer.requests).toEqual({ discovery: 1, jwks: 2 });
  });
});

describe('a bad OIDC token: 401 Unauthorized, nothing authorized', () => {
  const now = () => Math.floor(Date.now() / 1000);
  it.each<[string, () => Promise<string>]>([
    ['wrong audience', () => mint({ sub: 'alice', aud: 'other-client' })],
    ['expired', () => mint({ sub: 'alice' }, { expiresIn: -3600 })],
    ['not yet valid', () => mint({ sub: 'alice', nbf: now() + 3600 })],
    ['an algorithm not allowed', () => mint({ sub: 'alice' }, { alg: 'RS512' })],
    ['a bad signature', () => mint({ sub: 'alice' }, { forged: true })],
    ['a required claim missing', () => mint({ sub: 'alice', tenant: undefined })],
  ])('%s', async (_name, token) => {
    const server = await startApp();
    await get(server, await token()).expect(401, 'Unauthorized');
    expect(api.reviews.subjectAccessReviews).toEqual([]);
    // As kube-apiserver's token union: the refused token was still offered to TokenReview.
    expect(api.reviews.tokenReviews).toHaveLength(1);
    expect(lines.filter((line) => line.startsWith('warn'))).toEqual([]);
  });

  it('email_verified false, with the username claim email', async () => {
    const server = await startApp({ usernameClaim: 'email', usernamePrefix: undefined });
    const token = await mint({ email: 'alice@example.com', email_verified: false });
    await get(server, token).expect(401, 'Unauthorized');
    const good = await mint({
      email: 'alice@example.com',
      email_verified: true,
      groups: ['admins'],
    });
    const res = await get(server, good).expect(200);
    expect(res.body.user.username).toBe('alice@example.com');
  });

  it('is never anonymous, even with anonymous on and TokenReview off', async () => {
    const server = await startApp(
      {},
      { authentication: { anonymous: { enabled: true }, webhook: { enabled: false } } },
    );
    await get(server, await mint({ sub: 'alice' }, { forged: true })).expect(401, 'Unauthorized');
    // A token of another issuer that nothing else can check is not anonymous either.
    await get(server, await mint({ sub: 'alice' }, {}, other)).expect(401, 'Unauthorized');
    expect(api.reviews.subjectAccessReviews).toEqual([]);
    // Without credentials: anonymous, as configured (and then forbidden by the policy).
    await get(server).expect(403);
  });
});

describe('a token of another issuer goes on to TokenReview', () => {
  it('accepted by TokenReview: served as its user', async () => {
    const server = await startApp();
    const token = await mint({ sub: 'system:serviceaccount:x:y' }, {}, other);
    api.setTokens({ [token]: { username: 'sa-viewer' } });
    const res = await get(server, token).expect(200);
    expect(res.body.user.username).toBe('sa-viewer');
    expect(api.reviews.tokenReviews.map((r) => r.spec.token === token)).toEqual([true]);
  });

  it('refused by TokenReview too: 401', async () => {
    const server = await startApp();
    await get(server, await mint({}, {}, other)).expect(401, 'Unauthorized');
    await get(server, 'not-a-jwt').expect(401, 'Unauthorized');
    expect(api.reviews.tokenReviews).toHaveLength(2);
  });

  it('a refused OIDC token that TokenReview accepts is TokenReview’s user (upstream’s union)', async () => {
    const server = await startApp();
    const token = await mint({ sub: 'alice' }, { expiresIn: -3600 });
    api.setTokens({ [token]: { username: 'sa-viewer' } });
    const res = await get(server, token).expect(200);
    expect(res.body.user.username).toBe('sa-viewer');
  });
});

describe('an issuer that misbehaves: 401 and one log line, never a crash', () => {
  it('down at start, then up: works', async () => {
    await issuer.setFault({ type: 'refuse' });
    const server = await startApp();
    expect(await nextWarning).toMatch(
      /^OIDC issuer \S+ not ready \(tried again on the next token\)/,
    );
    lines = [];
    await get(server, await mint({ sub: 'alice' })).expect(401, 'Unauthorized');
    expect(lines.filter((line) => line.startsWith('warn'))).toEqual([
      expect.stringMatching(
        /^warn: OIDC token not checked: discovery document \S+: connect ECONNREFUSED/,
      ),
    ]);
    await issuer.setFault();
    await get(server, await mint({ sub: 'alice' })).expect(200);
  });

  it.each([
    ['malformed discovery JSON', { type: 'malformed', on: 'discovery' } as const, 'not JSON'],
    ['a key set that is not JSON', { type: 'malformed', on: 'jwks' } as const, 'not JSON'],
    ['a key set answering 503', { type: 'status', status: 503, on: 'jwks' } as const, 'HTTP 503'],
    [
      'a slow key set',
      { type: 'slow', delayMs: 1000, on: 'jwks' } as const,
      'no answer within 200 ms',
    ],
  ])('%s', async (_name, fault, reason) => {
    await issuer.setFault(fault);
    const server = await startApp({ timeout: '200ms' });
    await nextWarning;
    lines = [];
    const res = await get(server, await mint({ sub: 'alice' })).expect(401, 'Unauthorized');
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    const warnings = lines.filter((line) => line.startsWith('warn'));
    expect(warnings).toEqual([expect.stringMatching(/^warn: OIDC token not checked: /)]);
    expect(warnings[0]).toContain(reason);
    expect(api.reviews.subjectAccessReviews).toEqual([]);
  });
});

it('metrics count OIDC attempts as method "oidc"; tokens of another issuer are not counted', async () => {
  const counted: [AuthenticationMethod, AuthenticationResult][] = [];
  const server = await startApp(
    {},
    { metrics: { authentication: (method, result) => void counted.push([method, result]) } },
  );
  await get(server, await mint({ sub: 'alice' })).expect(200);
  await get(server, await mint({ sub: 'alice' }, { forged: true })).expect(401);
  await get(server, await mint({}, {}, other)).expect(401);
  expect(counted).toEqual([
    ['oidc', 'success'],
    ['oidc', 'failure'],
    ['token', 'failure'],
    ['token', 'failure'],
  ]);
});
