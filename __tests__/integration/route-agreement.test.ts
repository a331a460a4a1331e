/**
 * The handler Express or Connect dispatches is the one that was authorized: the request target's
 * form (absolute-form, dot segments) and its case never let a router serve a request under
 * another rule than the one the API server was asked about. Over real TLS, through client-node,
 * against the stand-in API server's RBAC.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { RequestListener } from 'node:http';
import type { Server } from 'node:https';
import connect from 'connect';
import express from 'express';
import express4 from 'express4';
import { kubeletAuth, pathRules, type Middleware } from '../../lib/index.js';
import { startApiServer, type StandInApiServer } from '../../lib/testing/index.js';
import { registerSecrets } from '../support/secrets.js';
import { close, listen, makePki, rawRequest, webhookOptions, type Pki } from './harness.js';

const TOKENS = {
  'stats-only-token': { username: 'stats-only' },
  'proxy-only-token': { username: 'proxy-only' },
  'public-only-token': { username: 'public-only' },
};

let pki: Pki;
let api: StandInApiServer;
const servers: Server[] = [];
const closers: (() => void)[] = [];

beforeAll(async () => {
  registerSecrets(...Object.keys(TOKENS));
  [pki, api] = await Promise.all([
    makePki(),
    startApiServer({
      tokens: TOKENS,
      policy: {
        rules: [
          { users: ['stats-only'], verbs: ['get'], resources: ['nodes/stats'] },
          { users: ['proxy-only'], verbs: ['*'], resources: ['nodes/proxy'] },
          { users: ['public-only'], verbs: ['get'], resources: ['public'] },
        ],
      },
    }),
  ]);
  registerSecrets(api.callerToken, api.authority.key);
});

afterAll(async () => {
  closers.forEach((c) => c());
  await Promise.all(servers.map(close));
  await api.close();
});

beforeEach(() => api.resetReviews());

function auth(attributes?: Parameters<typeof pathRules>[0]): Middleware {
  const middleware = kubeletAuth({
    ...webhookOptions(api),
    ...(attributes && { attributes: pathRules(attributes) }),
  });
  closers.push(() => middleware.close());
  return middleware;
}

async function serve(app: RequestListener): Promise<Server> {
  const server = await listen(pki, app);
  servers.push(server);
  return server;
}

/** Sends `METHOD target` as written, with a bearer token. */
function send(server: Server, method: string, target: string, token: string) {
  return rawRequest(server, pki, `${method} ${target} HTTP/1.1\r\nAuthorization: Bearer ${token}`);
}

/** The subresources the API server was asked about, in order. */
function asked(): string[] {
  return api.reviews.subjectAccessReviews.map((r) => r.spec.resourceAttributes?.subresource ?? '');
}

type AppFactory = () => express.Express;
const EXPRESS: [string, AppFactory][] = [
  ['Express 5', () => express()],
  ['Express 4', () => express4() as unknown as express.Express],
];

describe.each(EXPRESS)(
  '%s: absolute-form targets are checked as the router reads them',
  (_n, make) => {
    let server: Server;
    beforeAll(async () => {
      const app = make();
      app.use(auth() as express.RequestHandler);
      app.use('/logs', (_req, res) => void res.send('logs handler'));
      app.get('/stats/summary', (_req, res) => void res.send('stats handler'));
      server = await serve(app);
    });

    it.each([
      'http://h/logs/x/../../stats/summary',
      'http://h/logs/x/%2e%2e/%2E%2E/stats/summary',
      'http://h/logs/x/.%2e/..%2F/stats/summary',
      'https://node-a:10250/logs/x/../../stats/summary?q=1',
      '/logs/x/../../stats/summary',
    ])('GET %s → 400, nothing asked, no handler', async (target) => {
      const res = await send(server, 'GET', target, 'stats-only-token');
      expect(res).toEqual({ status: 400, body: '400 Bad Request' });
      expect(api.reviews.subjectAccessReviews).toHaveLength(0);
    });

    it.each(['/%73tats/summary', 'http://h/%73tats/summary', '/stat%73/summary'])(
      'GET %s → 400: decoded it is /stats/summary, but no /stats route matches it as sent',
      async (target) => {
        const res = await send(server, 'GET', target, 'stats-only-token');
        expect(res).toEqual({ status: 400, body: '400 Bad Request' });
        expect(api.reviews.subjectAccessReviews).toHaveLength(0);
      },
    );

    it.each([
      ['/stats/summary', 200, 'stats handler'],
      ['http://h/stats/summary', 200, 'stats handler'],
      ['HTTP://node-a:10250/stats/summary?x=1', 200, 'stats handler'],
      [
        '/logs/x',
        403,
        'Forbidden (user=stats-only, verb=get, resource=nodes, subresource(s)=[log])\n',
      ],
      [
        'http://h/logs/x',
        403,
        'Forbidden (user=stats-only, verb=get, resource=nodes, subresource(s)=[log])\n',
      ],
    ])('GET %s → %d like its origin form', async (target, status, body) => {
      const res = await send(server, 'GET', target, 'stats-only-token');
      expect(res).toEqual({ status, body });
    });
  },
);

describe.each(EXPRESS)('%s: case-insensitive routes never run under another rule', (_n, make) => {
  let kubelet: Server;
  let rules: Server;
  beforeAll(async () => {
    const app = make();
    app.use(auth() as express.RequestHandler);
    app.post('/checkpoint/:ns/:pod/:c', (_req, res) => void res.send('checkpoint handler'));
    app.get('/stats/summary', (_req, res) => void res.send('stats handler'));
    app.use('/metrics', (_req, res) => void res.send('metrics handler'));
    app.use('/spec', (_req, res) => void res.send('spec handler'));
    app.post('/exec/:ns/:pod/:c', (_req, res) => void res.send('exec handler'));
    kubelet = await serve(app);

    const ruled = make();
    ruled.use(
      auth({
        rules: { '/': { resource: 'public' }, '/admin': { resource: 'admin' } },
      }) as express.RequestHandler,
    );
    const admin = express.Router();
    admin.get('/users', (_req, res) => void res.send('admin handler'));
    ruled.use('/admin', admin);
    ruled.get('/home', (_req, res) => void res.send('public handler'));
    rules = await serve(ruled);
  });

  it('a nodes/proxy holder: POST /checkpoint/ns/p/c is 403, and /Checkpoint/ns/p/c 400', async () => {
    expect(await send(kubelet, 'POST', '/checkpoint/ns/p/c', 'proxy-only-token')).toEqual({
      status: 403,
      body: 'Forbidden (user=proxy-only, verb=create, resource=nodes, subresource(s)=[checkpoint])\n',
    });
    api.resetReviews();
    expect(await send(kubelet, 'POST', '/Checkpoint/ns/p/c', 'proxy-only-token')).toEqual({
      status: 400,
      body: '400 Bad Request',
    });
    expect(api.reviews.subjectAccessReviews).toHaveLength(0);
  });

  it.each([
    ['GET', '/Stats/summary'],
    ['GET', '/STATS/summary'],
    ['GET', '/Metrics/cadvisor'],
    ['GET', '/metricS'],
    ['GET', '/Spec/'],
    ['GET', 'http://h/Metrics'],
    ['POST', 'http://h/CHECKPOINT/ns/p/c'],
  ])('a nodes/proxy holder: %s %s → 400, nothing asked', async (method, target) => {
    const res = await send(kubelet, method, target, 'proxy-only-token');
    expect(res).toEqual({ status: 400, body: '400 Bad Request' });
    expect(api.reviews.subjectAccessReviews).toHaveLength(0);
  });

  it('a case that routes nowhere else keeps its rule: POST /EXEC/ns/p/c is proxy, 200', async () => {
    const res = await send(kubelet, 'POST', '/EXEC/ns/p/c', 'proxy-only-token');
    expect(res).toEqual({ status: 200, body: 'exec handler' });
    expect(asked()).toEqual(['proxy']);
  });

  it('pathRules: /admin/users is 403, /ADMIN/users and /Admin/users 400, /HOME public', async () => {
    expect((await send(rules, 'GET', '/admin/users', 'public-only-token')).status).toBe(403);
    for (const target of ['/ADMIN/users', '/Admin/users', 'http://h/aDmin/users']) {
      api.resetReviews();
      expect(await send(rules, 'GET', target, 'public-only-token')).toEqual({
        status: 400,
        body: '400 Bad Request',
      });
      expect(api.reviews.subjectAccessReviews).toHaveLength(0);
    }
    expect(await send(rules, 'GET', '/HOME', 'public-only-token')).toEqual({
      status: 200,
      body: 'public handler',
    });
  });
});

describe('Connect: mount paths match any case, and end at "/" or "."', () => {
  let kubelet: Server;
  let rules: Server;
  beforeAll(async () => {
    const app = connect();
    app.use(auth());
    app.use('/metrics', (_req, res) => res.end('metrics handler'));
    app.use('/exec', (_req, res) => res.end('exec handler'));
    kubelet = await serve(app);
    const ruled = connect();
    ruled.use(auth({ rules: { '/': { resource: 'public' }, '/admin': { resource: 'admin' } } }));
    ruled.use('/admin', (_req, res) => res.end('admin handler'));
    ruled.use((_req, res) => res.end('public handler'));
    rules = await serve(ruled);
  });

  it.each(['/metrics.json', '/METRICS', '/Metrics/cadvisor', 'http://h/metrics.txt'])(
    'a nodes/proxy holder: GET %s → 400, nothing asked',
    async (target) => {
      const res = await send(kubelet, 'GET', target, 'proxy-only-token');
      expect(res).toEqual({ status: 400, body: '400 Bad Request' });
      expect(api.reviews.subjectAccessReviews).toHaveLength(0);
    },
  );

  it('a nodes/proxy holder still reaches /exec in any case', async () => {
    expect(await send(kubelet, 'GET', '/Exec/ns/p/c', 'proxy-only-token')).toEqual({
      status: 200,
      body: 'exec handler',
    });
  });

  it.each(['/admin.json', '/ADMIN', '/Admin/users', '/%61dmin/users', '/admi%6E'])(
    'pathRules: GET %s → 400 for a public-only user',
    async (target) => {
      const res = await send(rules, 'GET', target, 'public-only-token');
      expect(res).toEqual({ status: 400, body: '400 Bad Request' });
    },
  );

  it('pathRules: /adminx is public, as both sides read it', async () => {
    expect(await send(rules, 'GET', '/adminx', 'public-only-token')).toEqual({
      status: 200,
      body: 'public handler',
    });
  });
});
