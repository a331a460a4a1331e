import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Server } from 'node:https';
import express from 'express';
import { kubeletAuth } from '../../lib/index.js';
import { recordingLogger } from '../support/secrets.js';
import type { KubeletAuthOptions } from '../../lib/options.js';
import type { StandInApiServer } from '../../lib/testing/index.js';
import {
  call,
  close,
  listen,
  makePki,
  rawRequest,
  startPolicyApiServer,
  type Pki,
} from './harness.js';

let pki: Pki;
let api: StandInApiServer;
const servers: Server[] = [];
const closers: (() => void)[] = [];

/** A kubelet-like app: kubeletAuth in front of a route that echoes what it was given. */
async function kubelet(overrides: Partial<KubeletAuthOptions> = {}): Promise<Server> {
  const auth = kubeletAuth({
    nodeName: 'node-a',
    kubeConfig: api.kubeConfig,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true, cacheTTL: '2m' },
      x509: { clientCAFile: pki.clientCAFile },
    },
    authorization: { mode: 'Webhook' },
    logger: recordingLogger,
    ...overrides,
  });
  closers.push(() => auth.close());
  const app = express();
  app.use(auth);
  app.use((req, res) => {
    res.json({ user: req.user, authorization: req.headers.authorization ?? null, path: req.path });
  });
  const server = await listen(pki, app);
  servers.push(server);
  return server;
}

const ANONYMOUS_ON = {
  anonymous: { enabled: true },
  webhook: { enabled: true },
  x509: { clientCAFile: '' },
};

let strict: Server; // anonymous off
let open: Server; // anonymous on

beforeAll(async () => {
  [pki, api] = await Promise.all([makePki(), startPolicyApiServer()]);
  strict = await kubelet();
  open = await kubelet({
    authentication: { ...ANONYMOUS_ON, x509: { clientCAFile: pki.clientCAFile } },
  });
});

afterAll(async () => {
  closers.forEach((c) => c());
  await Promise.all(servers.map(close));
  await api.close();
});

beforeEach(() => {
  api.setFault();
  api.resetReviews();
});

describe('authentication: the kubelet’s union of x509, bearer token and anonymous', () => {
  it.each([
    // [case, server, call, status, username]
    ['valid client certificate', 'strict', { cert: 'alice' }, 200, 'alice'],
    ['valid token', 'strict', { authorization: 'Bearer alice-token' }, 200, 'alice'],
    [
      'bad certificate + valid token',
      'strict',
      { cert: 'wrongCA', authorization: 'Bearer alice-token' },
      200,
      'alice',
    ],
    [
      'bad token, anonymous enabled',
      'open',
      { authorization: 'Bearer nope-token' },
      401,
      undefined,
    ],
    ['bad certificate, anonymous enabled', 'open', { cert: 'expired' }, 401, undefined],
    ['nothing, anonymous disabled', 'strict', {}, 401, undefined],
    ['nothing, anonymous enabled', 'open', {}, 403, undefined],
    [
      'Basic scheme, anonymous enabled (header ignored)',
      'open',
      { authorization: 'Basic dTpw' },
      403,
      undefined,
    ],
    [
      'empty bearer token, anonymous disabled',
      'strict',
      { authorization: 'Bearer  alice-token' },
      401,
      undefined,
    ],
    ['certificate without CN, anonymous disabled', 'strict', { cert: 'emptyCN' }, 401, undefined],
    ['certificate without CN, anonymous enabled', 'open', { cert: 'emptyCN' }, 403, undefined],
    ['TokenReview status.error', 'open', { authorization: 'Bearer error-token' }, 401, undefined],
  ] as const)('%s → %d', async (_name, which, spec, status, username) => {
    const server = which === 'strict' ? strict : open;
    const res = await call(server, pki, '/stats/summary', {
      cert: 'cert' in spec ? pki.certs[spec.cert] : undefined,
      authorization: 'authorization' in spec ? spec.authorization : undefined,
    });
    expect(res.status).toBe(status);
    if (status === 200) expect(res.body.user.username).toBe(username);
    if (status === 401) {
      expect(res.text).toBe('Unauthorized');
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(res.headers['www-authenticate']).toBeUndefined();
    }
    if (status === 403) {
      expect(res.text).toBe(
        'Forbidden (user=system:anonymous, verb=get, resource=nodes, subresource(s)=[stats])\n',
      );
    }
  });

  it('a valid certificate wins over a garbage token, which is never reviewed and stays in place', async () => {
    const res = await call(strict, pki, '/stats/summary', {
      cert: pki.certs.alice,
      authorization: 'Bearer garbage-token',
    });
    expect(res.status).toBe(200);
    expect(res.body.user.username).toBe('alice');
    expect(res.body.authorization).toBe('Bearer garbage-token');
    expect(api.reviews.tokenReviews).toHaveLength(0);
  });

  it('anonymous users are system:anonymous in system:unauthenticated only', async () => {
    const server = await kubelet({
      authentication: ANONYMOUS_ON,
      authorization: { mode: 'AlwaysAllow' },
    });
    const res = await call(server, pki, '/pods');
    expect(res.status).toBe(200);
    expect(res.body.user).toEqual({
      username: 'system:anonymous',
      groups: ['system:unauthenticated'],
    });
  });
});

describe('x509 client certificates', () => {
  it.each([
    ['alice', false, 200, { username: 'alice', groups: ['devs', 'system:authenticated'] }],
    ['viaIntermediate', true, 200, { username: 'carol', groups: ['devs', 'system:authenticated'] }],
    [
      'manyGroups',
      false,
      200,
      { username: 'dave', groups: ['a', 'b', 'c', 'system:authenticated'] },
    ],
    [
      'withUid',
      false,
      200,
      { username: 'erin', uid: 'uid-erin', groups: ['system:authenticated'] },
    ],
    ['noEKU', false, 200, { username: 'alice', groups: ['system:authenticated'] }],
    ['intermediateNotSent', false, 401, undefined],
    ['expired', false, 401, undefined],
    ['notYetValid', false, 401, undefined],
    ['wrongCA', false, 401, undefined],
    ['serverAuthOnly', false, 401, undefined],
  ] as const)('%s (chain sent: %s) → %d', async (cert, sendChain, status, user) => {
    const res = await call(strict, pki, '/stats/summary', { cert: pki.certs[cert], sendChain });
    expect(res.status).toBe(status);
    if (user) {
      expect(res.body.user).toMatchObject(user);
      expect(res.body.user.groups).toEqual(user.groups);
      expect(res.body.user.extra['authentication.kubernetes.io/credential-id'][0]).toMatch(
        /^X509SHA256=[0-9a-f]{64}$/,
      );
    } else {
      expect(res.text).toBe('Unauthorized');
    }
    expect(api.reviews.tokenReviews).toHaveLength(0);
  });
});

describe('bearer tokens and TokenReview', () => {
  it('sends exactly the kubelet’s TokenReview and maps status.user to req.user', async () => {
    const res = await call(await kubelet(), pki, '/stats/summary', {
      authorization: 'bearer alice-token',
    });
    expect(res.status).toBe(200);
    expect(res.body.user).toEqual({
      username: 'alice',
      uid: 'uid-alice',
      groups: ['devs', 'system:authenticated'],
      extra: { scopes: ['node'] },
    });
    expect(api.reviews.tokenReviews.map((r) => r.spec)).toEqual([{ token: 'alice-token' }]);
    expect(api.reviews.tokenReviews[0]).toMatchObject({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
    });
  });

  it('removes the Authorization header before the route sees it', async () => {
    const res = await call(strict, pki, '/stats/summary', { authorization: 'Bearer alice-token' });
    expect(res.body.authorization).toBeNull();
  });

  it.each([
    ['Bearer alice-token extra words', 'alice-token'],
    ['BEARER alice-token', 'alice-token'],
  ])('%j reviews %j', async (header, token) => {
    const server = await kubelet({ authentication: { webhook: { enabled: true, cacheTTL: 0 } } });
    await call(server, pki, '/stats/summary', { authorization: header }).expect(200);
    expect(api.reviews.tokenReviews.map((r) => r.spec.token)).toEqual([token]);
  });

  it('caches accepted and refused tokens for cacheTTL, but never a review error', async () => {
    const server = await kubelet();
    for (let i = 0; i < 3; i++) {
      await call(server, pki, '/stats/summary', { authorization: 'Bearer bob-token' }).expect(403);
      await call(server, pki, '/stats/summary', {
        authorization: 'Bearer never-issued-token',
      }).expect(401);
      await call(server, pki, '/stats/summary', { authorization: 'Bearer error-token' }).expect(
        401,
      );
    }
    const reviewed = api.reviews.tokenReviews.map((r) => r.spec.token);
    expect(reviewed.filter((t) => t === 'bob-token')).toHaveLength(1);
    expect(reviewed.filter((t) => t === 'never-issued-token')).toHaveLength(1);
    expect(reviewed.filter((t) => t === 'error-token')).toHaveLength(3);
  });

  it('retries a 500 from the API server with backoff, then succeeds', async () => {
    const server = await kubelet({ authentication: { webhook: { enabled: true, cacheTTL: 0 } } });
    api.setFault({ type: 'status', status: 500, times: 1 });
    await call(server, pki, '/stats/summary', { authorization: 'Bearer alice-token' }).expect(200);
    // The first attempt got the 500, the retry the answer.
    expect(api.reviews.tokenReviews.map((r) => r.spec.token)).toEqual([
      'alice-token',
      'alice-token',
    ]);
  });

  it('answers 401 within the timeout when the API server never answers', async () => {
    const server = await kubelet({
      timeout: '300ms',
      authentication: { webhook: { enabled: true, cacheTTL: 0 } },
    });
    api.setFault({ type: 'hang' });
    await call(server, pki, '/stats/summary', { authorization: 'Bearer alice-token' }).expect(
      401,
      'Unauthorized',
    );
  });

  it('answers 401 when TokenReview says authenticated but names no user', async () => {
    const server = await kubelet({ authentication: { webhook: { enabled: true, cacheTTL: 0 } } });
    api.setFault({ type: 'authenticated-without-user' });
    await call(server, pki, '/stats/summary', { authorization: 'Bearer alice-token' }).expect(
      401,
      'Unauthorized',
    );
  });
});

describe('authorization: SubjectAccessReview for nodes/<subresource>', () => {
  it('sends exactly the kubelet’s SubjectAccessReview', async () => {
    await call(await kubelet(), pki, '/stats/summary', {
      authorization: 'Bearer alice-token',
    }).expect(200);
    expect(api.reviews.subjectAccessReviews).toHaveLength(1);
    expect(api.reviews.subjectAccessReviews[0]).toMatchObject({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
    });
    expect(api.reviews.subjectAccessReviews[0]?.spec).toEqual({
      resourceAttributes: {
        verb: 'get',
        version: 'v1',
        resource: 'nodes',
        subresource: 'stats',
        name: 'node-a',
      },
      user: 'alice',
      groups: ['devs', 'system:authenticated'],
      uid: 'uid-alice',
      extra: { scopes: ['node'] },
    });
  });

  it('asks fine-grained subresources first and lists them in the 403', async () => {
    const res = await call(strict, pki, '/configz', { cert: pki.certs.alice });
    expect(res.status).toBe(403);
    expect(res.text).toBe(
      'Forbidden (user=alice, verb=get, resource=nodes, subresource(s)=[configz proxy])\n',
    );
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(
      api.reviews.subjectAccessReviews.map((r) => r.spec.resourceAttributes?.subresource),
    ).toEqual(['configz', 'proxy']);
  });

  it('lets /pods in on nodes/pods without asking for nodes/proxy', async () => {
    await call(strict, pki, '/pods', { cert: pki.certs.alice }).expect(200);
    expect(
      api.reviews.subjectAccessReviews.map((r) => r.spec.resourceAttributes?.subresource),
    ).toEqual(['pods']);
  });

  it('with fineGrained: false, /pods is nodes/proxy only', async () => {
    const server = await kubelet({ fineGrained: false });
    const res = await call(server, pki, '/pods', { cert: pki.certs.alice });
    expect(res.text).toBe(
      'Forbidden (user=alice, verb=get, resource=nodes, subresource(s)=[proxy])\n',
    );
  });

  it.each([
    ['POST', '/exec/ns/pod/c', 'create', ['proxy']],
    ['HEAD', '/healthz', 'get', ['healthz']],
    ['OPTIONS', '/pods', undefined, ['pods', 'proxy']],
    ['DELETE', '/stats/summary', 'delete', ['stats']],
  ])('%s %s → verb %s on %j', async (method, path, verb, subresources) => {
    await call(strict, pki, path, { method, cert: pki.certs.alice });
    const asked = api.reviews.subjectAccessReviews.map((r) => r.spec.resourceAttributes);
    expect(asked.map((a) => a?.subresource)).toEqual(subresources);
    expect(asked.map((a) => a?.verb)).toEqual(subresources.map(() => verb));
  });

  it('decodes the path before deriving the subresource', async () => {
    const res = await call(await kubelet(), pki, '/stats/%73ummary', { cert: pki.certs.alice });
    expect(res.status).toBe(200);
    expect(res.body.path).toBe('/stats/%73ummary');
    expect(api.reviews.subjectAccessReviews[0]?.spec.resourceAttributes?.subresource).toBe('stats');
  });

  it('answers 400 for an escape inside a row’s prefix, which no route for that row matches', async () => {
    await call(strict, pki, '/%73tats/summary', { cert: pki.certs.alice }).expect(400);
    expect(api.reviews.subjectAccessReviews).toHaveLength(0);
  });

  it('answers 400 for a path with a bad percent escape, before asking anything', async () => {
    await call(strict, pki, '/stats/%zz', { cert: pki.certs.alice }).expect(400);
    expect(api.reviews.subjectAccessReviews).toHaveLength(0);
  });

  it('answers 500 with the failing attribute when the API server answers both allowed and denied', async () => {
    api.setFault({ type: 'both-allowed-and-denied' });
    const res = await call(strict, pki, '/healthz', { cert: pki.certs.admin });
    expect(res.status).toBe(500);
    expect(res.text).toBe(
      'Authorization error (user=root, verb=get, resource=nodes, subresource=healthz)',
    );
    expect(api.reviews.subjectAccessReviews).toHaveLength(1);
  });

  it('answers 500 when the API server fails, and caches nothing from it', async () => {
    const server = await kubelet({ timeout: '2s' });
    api.setFault({ type: 'status', status: 403 });
    const res = await call(server, pki, '/metrics', { cert: pki.certs.alice });
    expect(res.status).toBe(500);
    expect(res.text).toBe(
      'Authorization error (user=alice, verb=get, resource=nodes, subresource=metrics)',
    );
    api.setFault();
    await call(server, pki, '/metrics', { cert: pki.certs.alice }).expect(200);
  });

  it('caches allowed and denied decisions: repeated requests send no new review', async () => {
    const server = await kubelet();
    for (let i = 0; i < 3; i++) {
      await call(server, pki, '/stats/summary', { cert: pki.certs.alice }).expect(200);
      await call(server, pki, '/logs/', { cert: pki.certs.alice }).expect(403);
    }
    expect(
      api.reviews.subjectAccessReviews.map((r) => r.spec.resourceAttributes?.subresource),
    ).toEqual(['stats', 'log']);
    // Another user asking the same thing is asked about separately.
    await call(server, pki, '/stats/summary', { cert: pki.certs.manyGroups }).expect(200);
    expect(api.reviews.subjectAccessReviews).toHaveLength(3);
  });

  it('AlwaysAllow sends no review at all', async () => {
    const server = await kubelet({ authorization: { mode: 'AlwaysAllow' } });
    await call(server, pki, '/exec/ns/p/c', { method: 'POST', cert: pki.certs.alice }).expect(200);
    expect(api.reviews.subjectAccessReviews).toHaveLength(0);
  });
});

describe('unusual methods follow the kubelet’s rule and never bypass authorization', () => {
  it.each(['TRACE', 'OPTIONS', 'PROPFIND', 'SEARCH'])(
    '%s gets the empty verb: refused to a get-only user, allowed to a * user',
    async (method) => {
      const server = await kubelet();
      const alice = await rawRequest(
        server,
        pki,
        `${method} /stats/summary HTTP/1.1`,
        pki.certs.alice,
      );
      expect(alice.status).toBe(403);
      expect(alice.body).toBe(
        'Forbidden (user=alice, verb=, resource=nodes, subresource(s)=[stats])\n',
      );
      expect(api.reviews.subjectAccessReviews.at(-1)?.spec.resourceAttributes).toEqual({
        version: 'v1',
        resource: 'nodes',
        subresource: 'stats',
        name: 'node-a',
      });
      const root = await rawRequest(
        server,
        pki,
        `${method} /stats/summary HTTP/1.1`,
        pki.certs.admin,
      );
      expect(root.status).toBe(200);
    },
  );

  it('a lower-case method never reaches the middleware (Node answers 400)', async () => {
    const res = await rawRequest(strict, pki, 'get /stats/summary HTTP/1.1', pki.certs.alice);
    expect(res.status).toBe(400);
    expect(api.reviews.subjectAccessReviews).toHaveLength(0);
  });

  it('CONNECT never reaches the app: no answer, nothing authorized', async () => {
    const res = await rawRequest(strict, pki, 'CONNECT 127.0.0.1:10250 HTTP/1.1', pki.certs.alice);
    expect(res.status === 0 || res.status >= 400).toBe(true);
    expect(api.reviews.subjectAccessReviews).toHaveLength(0);
  });
});

describe('the API server sees one review per burst', () => {
  it('200 concurrent requests with one never-seen token send 1 TokenReview and 1 SubjectAccessReview', async () => {
    const server = await kubelet();
    const results = await Promise.all(
      Array.from({ length: 200 }, () =>
        call(server, pki, '/stats/summary', { authorization: 'Bearer alice-token' }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(results.map(() => 200));
    expect(api.reviews.tokenReviews).toHaveLength(1);
    expect(api.reviews.subjectAccessReviews).toHaveLength(1);
  });

  it('a failure during a burst reaches every waiter, and nothing of it is cached', async () => {
    // A review that hangs until the 1.5 s deadline: every request of the burst joins it.
    const server = await kubelet({ timeout: '1500ms' });
    api.setFault({ type: 'hang' });
    const failed = await Promise.all(
      Array.from({ length: 50 }, () =>
        call(server, pki, '/stats/summary', { authorization: 'Bearer alice-token' }),
      ),
    );
    expect(failed.map((r) => r.status)).toEqual(failed.map(() => 401));
    expect(api.reviews.tokenReviews).toHaveLength(1);
    api.setFault();
    await call(server, pki, '/stats/summary', { authorization: 'Bearer alice-token' }).expect(200);
    expect(api.reviews.tokenReviews).toHaveLength(2);
  });
});

describe('identity is immutable downstream', () => {
  it('a route cannot change the user that later requests with the same token are authorized as', async () => {
    const auth = kubeletAuth({
      nodeName: 'node-a',
      kubeConfig: api.kubeConfig,
      logger: recordingLogger,
      authentication: { x509: { clientCAFile: pki.clientCAFile } },
      authorization: { mode: 'AlwaysAllow' },
    });
    closers.push(() => auth.close());
    const app = express();
    app.use(auth);
    app.use((req, res) => {
      const user = req.user as { groups: string[] };
      let threw = false;
      try {
        user.groups.push('system:masters');
      } catch {
        threw = true;
      }
      res.json({ threw, groups: user.groups });
    });
    const server = await listen(pki, app);
    servers.push(server);
    for (let i = 0; i < 2; i++) {
      const res = await call(server, pki, '/pods', { authorization: 'Bearer alice-token' }).expect(
        200,
      );
      expect(res.body).toEqual({ threw: true, groups: ['devs', 'system:authenticated'] });
    }
    for (let i = 0; i < 2; i++) {
      const res = await call(server, pki, '/pods', { cert: pki.certs.alice }).expect(200);
      expect(res.body).toEqual({ threw: true, groups: ['devs', 'system:authenticated'] });
    }
  });
});

describe('reviewClient: reviews through a client the caller brings', () => {
  it('authenticates and authorizes through it, with no KubeConfig and none to find', async () => {
    const reviewClient = api.reviewClient();
    const saved = { KUBECONFIG: process.env.KUBECONFIG, HOME: process.env.HOME };
    process.env.KUBECONFIG = '';
    process.env.HOME = '/nonexistent-home-for-test';
    let server: Server;
    try {
      server = await kubelet({ kubeConfig: undefined, reviewClient });
    } finally {
      process.env.KUBECONFIG = saved.KUBECONFIG;
      process.env.HOME = saved.HOME;
      if (saved.KUBECONFIG === undefined) delete process.env.KUBECONFIG;
    }
    api.resetReviews();
    await call(server, pki, '/stats/summary', { authorization: 'Bearer alice-token' }).expect(200);
    await call(server, pki, '/stats/summary', { authorization: 'Bearer bob-token' }).expect(403);
    await call(server, pki, '/stats/summary', { cert: pki.certs.alice }).expect(200);
    expect(api.reviews.tokenReviews.map((r) => r.spec.token)).toEqual(['alice-token', 'bob-token']);
    expect(api.reviews.subjectAccessReviews.map((r) => r.spec.user)).toEqual([
      'alice',
      'bob',
      'alice',
    ]);
  });

  it("is left open by close(): it is the caller's", async () => {
    const reviewClient = api.reviewClient();
    const auth = kubeletAuth({ nodeName: 'node-a', reviewClient, logger: recordingLogger });
    auth.close();
    await expect(reviewClient.tokenReview({ token: 'alice-token' })).resolves.toMatchObject({
      authenticated: true,
    });
  });

  it.each([[null], [{}], [{ tokenReview() {} }]])(
    'throws a TypeError naming the option for %j',
    (reviewClient) => {
      expect(() =>
        kubeletAuth({
          nodeName: 'node-a',
          reviewClient: reviewClient as unknown as KubeletAuthOptions['reviewClient'],
        }),
      ).toThrow(
        /^reviewClient: expected an object with tokenReview\(\) and subjectAccessReview\(\)/,
      );
    },
  );
});

describe('configuration errors surface at construction', () => {
  it('fails clearly when a webhook mode is on and no API server is configured', () => {
    const saved = { KUBECONFIG: process.env.KUBECONFIG, HOME: process.env.HOME };
    process.env.KUBECONFIG = '';
    process.env.HOME = '/nonexistent-home-for-test';
    try {
      expect(() => kubeletAuth({ nodeName: 'n' })).toThrow(
        /^kubeConfig: webhook authentication needs an API server/,
      );
    } finally {
      process.env.KUBECONFIG = saved.KUBECONFIG;
      process.env.HOME = saved.HOME;
      if (saved.KUBECONFIG === undefined) delete process.env.KUBECONFIG;
    }
  });

  it('names an unreadable client CA file', () => {
    expect(() =>
      kubeletAuth({
        nodeName: 'n',
        kubeConfig: api.kubeConfig,
        authentication: { x509: { clientCAFile: '/nonexistent/ca.crt' } },
      }),
    ).toThrow(/^authentication\.x509\.clientCAFile: cannot read \/nonexistent\/ca\.crt: ENOENT/);
  });
});
