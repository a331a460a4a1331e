/**
 * express-kubelet-auth/fastify in real Fastify servers over HTTPS with client certificates,
 * against the stand-in API server through client-node: the kubelet's answers, `request.kubeUser`,
 * the 404 handler guarded, identity headers, a client that leaves during a review, bad options,
 * and what closing the instance releases.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { ServerResponse } from 'node:http';
import type { Server } from 'node:https';
import {
  connect as netConnect,
  createServer as createNetServer,
  type AddressInfo,
  type Socket,
} from 'node:net';
import { connect } from 'node:tls';
import { KubeConfig } from '@kubernetes/client-node';
import Fastify, { type FastifyInstance } from 'fastify';
import { fastifyKubeletAuth } from 'express-kubelet-auth/fastify';
import { createReviewClient } from '../../lib/apiserver/client.js';
import { FASTIFY_REFUSALS } from '../../lib/fastify/route-check.js';
import type { DecisionEvent, KubeUser } from '../../lib/contracts.js';
import type { KubeletAuthOptions } from '../../lib/options.js';
import type { ReviewClient } from '../../lib/apiserver/reviews.js';
import {
  extensionApiserverAuthentication,
  startApiServer,
  type StandInApiServer,
} from '../../lib/testing/index.js';
import { recordingLogger, registerSecrets } from '../support/secrets.js';
import {
  call,
  makePki,
  rawRequest,
  startPolicyApiServer,
  type Pki,
} from '../integration/harness.js';

let pki: Pki;
let api: StandInApiServer;
const apps: FastifyInstance[] = [];
/** The routes that ran, in order. */
const handled: string[] = [];

beforeAll(async () => {
  [pki, api] = await Promise.all([makePki(), startPolicyApiServer()]);
});
afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
  await api.close();
});
beforeEach(() => {
  api.resetReviews();
  handled.length = 0;
});

/**
 * A kubelet-like Fastify app over HTTPS (asking for, not verifying, client certificates), the
 * plugin registered first, with a few of the kubelet's routes that echo what they were given.
 */
async function kubelet(overrides: Partial<KubeletAuthOptions> = {}): Promise<Server> {
  const app = Fastify({
    https: {
      key: pki.serving.key,
      cert: pki.serving.cert,
      requestCert: true,
      rejectUnauthorized: false,
    },
  });
  apps.push(app);
  await app.register(fastifyKubeletAuth, {
    nodeName: 'node-a',
    kubeConfig: api.kubeConfig,
    authentication: { x509: { clientCAFile: pki.clientCAFile } },
    logger: recordingLogger,
    ...overrides,
  });
  const echo = async (request: { url: string; kubeUser?: KubeUser; headers: object }) => {
    handled.push(request.url);
    return { user: request.kubeUser ?? null, headers: request.headers };
  };
  app.get('/stats/summary', echo);
  app.get('/pods', echo);
  app.post('/exec/:namespace/:pod/:container', echo);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app.server as Server;
}

describe('the kubelet’s answers, over HTTPS', () => {
  let server: Server;
  beforeAll(async () => {
    server = await kubelet();
  });

  it('a client certificate signed by the client CA: 200, the user on request.kubeUser', async () => {
    const res = await call(server, pki, '/stats/summary', { cert: pki.certs.alice });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({
      username: 'alice',
      groups: ['devs', 'system:authenticated'],
    });
    expect(api.reviews.tokenReviews).toHaveLength(0);
    expect(api.reviews.subjectAccessReviews.map((r) => r.spec.resourceAttributes)).toEqual([
      { verb: 'get', version: 'v1', resource: 'nodes', subresource: 'stats', name: 'node-a' },
    ]);
  });

  it('a bearer token: one TokenReview, 200, the user with the review’s uid, groups and extra', async () => {
    const res = await call(server, pki, '/stats/summary', { authorization: 'Bearer alice-token' });
    expect(res.status).toBe(200);
    expect(res.body.user).toEqual({
      username: 'alice',
      uid: 'uid-alice',
      groups: ['devs', 'system:authenticated'],
      extra: { scopes: ['node'] },
    });
    expect(api.reviews.tokenReviews.map((r) => r.spec.token)).toEqual(['alice-token']);
  });

  it('a user RBAC does not allow: 403 with the kubelet’s body, and no handler runs', async () => {
    const res = await call(server, pki, '/pods', { authorization: 'Bearer bob-token' });
    expect(res.status).toBe(403);
    expect(res.text).toBe(
      'Forbidden (user=bob, verb=get, resource=nodes, subresource(s)=[pods proxy])\n',
    );
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(handled).toEqual([]);
  });

  it.each([
    ['no credentials', {}],
    ['a certificate of another CA', { cert: 'wrongCA' as const }],
    ['an expired certificate', { cert: 'expired' as const }],
    ['a token the API server does not know', { authorization: 'Bearer nope-token' }],
  ])('%s: 401 Unauthorized, as text, no WWW-Authenticate', async (_name, spec) => {
    const res = await call(server, pki, '/stats/summary', {
      ...('cert' in spec && { cert: pki.certs[spec.cert] }),
      ...('authorization' in spec && { authorization: spec.authorization }),
    });
    expect(res.status).toBe(401);
    expect(res.text).toBe('Unauthorized');
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.headers['content-length']).toBe('12');
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(handled).toEqual([]);
  });

  it.each([
    'GET /stats/../exec/ns/p/c HTTP/1.1',
    'GET /stats%2Fsummary HTTP/1.1',
    'GET /Stats/summary HTTP/1.1',
    'GET /stats/summary#x HTTP/1.1',
    'OPTIONS * HTTP/1.1',
  ])('%s: 400 before anything is asked', async (line) => {
    const res = await rawRequest(server, pki, line, pki.certs.admin);
    expect(res).toEqual({ status: 400, body: '400 Bad Request' });
    expect(api.reviews.subjectAccessReviews).toHaveLength(0);
    expect(handled).toEqual([]);
  });

  it('a path no route serves: authenticated and authorized first (401, 403), then Fastify’s 404', async () => {
    await call(server, pki, '/nowhere').expect(401, 'Unauthorized');
    await call(server, pki, '/nowhere', { cert: pki.certs.alice }).expect(
      403,
      'Forbidden (user=alice, verb=get, resource=nodes, subresource(s)=[proxy])\n',
    );
    const res = await call(server, pki, '/nowhere', { cert: pki.certs.admin });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ message: 'Route GET:/nowhere not found' });
  });

  it('the request reaches its route with the user and nothing else changed', async () => {
    const res = await call(server, pki, '/exec/ns/p/c', {
      method: 'POST',
      cert: pki.certs.admin,
    }).set('X-Remote-User', 'mallory');
    expect(res.status).toBe(200);
    expect(res.body.user.username).toBe('root');
    // identityHeaders is off: headers as sent.
    expect(res.body.headers['x-remote-user']).toBe('mallory');
    expect(handled).toEqual(['/exec/ns/p/c']);
  });
});

describe('fastify.inject: the answers, byte for byte', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = Fastify();
    apps.push(app);
    await app.register(fastifyKubeletAuth, {
      nodeName: 'node-a',
      kubeConfig: api.kubeConfig,
      logger: recordingLogger,
    });
    app.get('/stats/summary', async (request) => ({ user: request.kubeUser?.username }));
  });

  it.each([
    ['alice-token', '/stats/summary', 200, '{"user":"alice"}', 'application/json; charset=utf-8'],
    [undefined, '/stats/summary', 401, 'Unauthorized', 'text/plain; charset=utf-8'],
    [
      'bob-token',
      '/stats/summary',
      403,
      'Forbidden (user=bob, verb=get, resource=nodes, subresource(s)=[stats])\n',
      'text/plain; charset=utf-8',
    ],
    ['alice-token', '/Stats/summary', 400, '400 Bad Request', 'text/plain; charset=utf-8'],
  ])('%s GET %s → %d', async (token, url, status, body, type) => {
    const res = await app.inject({
      url,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    expect(res.statusCode).toBe(status);
    expect(res.rawPayload.equals(Buffer.from(body))).toBe(true);
    expect(res.headers['content-type']).toBe(type);
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(res.headers['www-authenticate']).toBeUndefined();
  });

  it('a target only Fastify reads otherwise: 400, and onDecision says why', async () => {
    const decided: DecisionEvent[] = [];
    const server = await kubelet({ onDecision: (event) => decided.push(event) });
    const res = await rawRequest(server, pki, 'GET /stats/summary?x=1#f HTTP/1.1', pki.certs.alice);
    expect(res).toEqual({ status: 400, body: '400 Bad Request' });
    expect(decided).toEqual([
      {
        decision: 'bad-request',
        method: 'GET',
        path: '/stats/summary',
        attributes: [],
        reason: FASTIFY_REFUSALS.fragment,
        latencyMs: expect.any(Number),
      },
    ]);
    expect(handled).toEqual([]);
  });
});

describe('an API server that cannot be reached', () => {
  it('a token: 401; a certificate’s user: 500 with the kubelet’s body; each logged', async () => {
    const gone = await startPolicyApiServer();
    const kubeConfig = gone.kubeConfig;
    await gone.close();
    const logged: string[] = [];
    const server = await kubelet({
      kubeConfig,
      logger: { ...recordingLogger, warn: (m) => logged.push(m), error: (m) => logged.push(m) },
    });
    await call(server, pki, '/pods', { authorization: 'Bearer alice-token' }).expect(
      401,
      'Unauthorized',
    );
    const res = await call(server, pki, '/stats/summary', { cert: pki.certs.alice });
    expect(res.status).toBe(500);
    expect(res.text).toBe(
      'Authorization error (user=alice, verb=get, resource=nodes, subresource=stats)',
    );
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(logged.some((line) => line.includes('TokenReview failed'))).toBe(true);
    expect(logged.some((line) => line.includes('SubjectAccessReview failed'))).toBe(true);
    expect(handled).toEqual([]);
  });
});

describe('identityHeaders', () => {
  let server: Server;
  let tokens: StandInApiServer;
  beforeAll(async () => {
    registerSecrets('newline-token');
    tokens = await startApiServer({
      tokens: {
        'alice-token': { username: 'alice', uid: 'uid-alice', groups: ['devs'] },
        'newline-token': { username: 'eve\nx' },
      },
    });
    registerSecrets(tokens.callerToken, tokens.authority.key);
    server = await kubelet({
      kubeConfig: tokens.kubeConfig,
      identityHeaders: true,
      authorization: { mode: 'AlwaysAllow' },
    });
  });
  afterAll(() => tokens.close());

  it('the route sees the authenticated user as X-Remote-* headers, never the ones sent', async () => {
    const res = await call(server, pki, '/pods', { authorization: 'Bearer alice-token' })
      .set('X-Remote-User', 'mallory')
      .set('x_remote_group', 'system:masters');
    expect(res.status).toBe(200);
    expect(res.body.headers).toMatchObject({
      'x-remote-user': 'alice',
      'x-remote-uid': 'uid-alice',
      'x-remote-group': ['devs', 'system:authenticated'],
    });
    expect(res.body.headers.x_remote_group).toBeUndefined();
  });

  it('a user that cannot be written as headers: 500, and the route does not run', async () => {
    const res = await call(server, pki, '/pods', { authorization: 'Bearer newline-token' });
    expect(res.status).toBe(500);
    expect(res.text).toBe('Internal Server Error');
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(handled).toEqual([]);
  });
});

describe('a client that leaves while its request is reviewed', () => {
  it('gets nothing: no handler runs and nothing is written once the review comes back', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let reviewed: Promise<unknown> = Promise.resolve();
    let asked: () => void = () => undefined;
    const askedOnce = new Promise<void>((resolve) => (asked = resolve));
    const real = createReviewClient(api.kubeConfig);
    // The API server's real answer, held until the client has gone.
    const gated: ReviewClient = {
      tokenReview: (spec) => real.tokenReview(spec),
      subjectAccessReview: (spec) => {
        asked();
        reviewed = gate.then(() => real.subjectAccessReview(spec));
        return reviewed as ReturnType<ReviewClient['subjectAccessReview']>;
      },
      close: () => real.close?.(),
    };
    const events: DecisionEvent[] = [];
    const server = await kubelet({
      kubeConfig: undefined,
      reviewClient: gated,
      onDecision: (event) => events.push(event),
    });
    const responses: ServerResponse[] = [];
    server.on('request', (_req, res: ServerResponse) => responses.push(res));

    const socket = connect({
      host: '127.0.0.1',
      port: (server.address() as AddressInfo).port,
      ca: pki.serving.cert,
      servername: 'localhost',
      cert: pki.certs.admin.cert,
      key: pki.certs.admin.key,
    });
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('secureConnect', resolve));
    socket.write('POST /exec/ns/p/c HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n');
    await askedOnce;
    const res = responses[0] as ServerResponse;
    const closed = new Promise<void>((resolve) => res.once('close', resolve));
    socket.destroy();
    await closed;
    release();
    await reviewed;
    // Let the verdict's continuations run.
    await new Promise((resolve) => setImmediate(resolve));
    expect(api.reviews.subjectAccessReviews).toHaveLength(1);
    expect(handled).toEqual([]);
    expect(res.headersSent).toBe(false);
    expect(events).toEqual([]);
    real.close?.();
  });
});

describe('clusterAuthentication: the client CA from the cluster’s ConfigMap', () => {
  const NS = 'kube-system';
  const NAME = 'extension-apiserver-authentication';
  afterEach(() => void api.deleteConfigMap(NS, NAME));

  /** Waits (a bounded number of short polls) until `n` ConfigMap watches are open. */
  async function openWatches(server: StandInApiServer, n: number): Promise<void> {
    for (let i = 0; server.openWatches !== n; i++) {
      if (i > 500) throw new Error(`expected ${n} open watches, have ${server.openWatches}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  it('register waits for the first read; its CA authenticates; closing the app ends the watch', async () => {
    api.setConfigMap(NS, NAME, extensionApiserverAuthentication({ clientCA: pki.clientCA.cert }));
    const app = Fastify({
      https: {
        key: pki.serving.key,
        cert: pki.serving.cert,
        requestCert: true,
        rejectUnauthorized: false,
      },
    });
    await app.register(fastifyKubeletAuth, {
      nodeName: 'node-a',
      kubeConfig: api.kubeConfig,
      authentication: { clusterAuthentication: true },
      logger: recordingLogger,
    });
    expect(api.configMapRequests.map((r) => r.verb)).not.toEqual([]);
    app.get('/stats/summary', async (request) => request.kubeUser);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const server = app.server as Server;
    await call(server, pki, '/stats/summary', { cert: pki.certs.alice }).expect(200);
    await call(server, pki, '/stats/summary', { cert: pki.certs.wrongCA }).expect(401);
    await openWatches(api, 1);
    await app.close();
    await openWatches(api, 0);
  });

  it('a ConfigMap it may not read: register rejects with the error ready gives kubeletAuth', async () => {
    const guarded = await startApiServer({ authorizeReads: true });
    registerSecrets(guarded.callerToken, guarded.authority.key);
    try {
      const app = Fastify();
      await expect(
        app.register(fastifyKubeletAuth, {
          nodeName: 'node-a',
          kubeConfig: guarded.kubeConfig,
          authentication: { clusterAuthentication: true },
          logger: recordingLogger,
        }),
      ).rejects.toMatchObject({
        name: 'KubeletAuthError',
        code: 'ERR_CLUSTER_AUTHENTICATION',
        message: expect.stringContaining('cannot be read (HTTP 403)'),
      });
      expect(guarded.openWatches).toBe(0);
    } finally {
      await guarded.close();
    }
  });
});

describe('registration', () => {
  it('bad options reject register (and ready) with the KubeletAuthError kubeletAuth throws', async () => {
    const app = Fastify();
    apps.push(app);
    await expect(
      app.register(fastifyKubeletAuth, {
        nodeName: 'node-a',
        kubeConfig: api.kubeConfig,
        authorization: { mode: 'RBAC' as 'Webhook' },
      }),
    ).rejects.toMatchObject({
      name: 'KubeletAuthError',
      code: 'ERR_INVALID_OPTION',
      message: expect.stringContaining('authorization.mode'),
    });
  });

  it('unknown options are refused with a suggestion, as kubeletAuth refuses them', async () => {
    const app = Fastify();
    apps.push(app);
    const options = { nodeName: 'node-a', kubeConfig: api.kubeConfig, fineGrain: true };
    await expect(app.register(fastifyKubeletAuth, options)).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      message: expect.stringContaining('fineGrained'),
    });
  });

  it('closing the instance closes its connections to the API server: the client hangs up first', async () => {
    // A TCP relay between the plugin and the API server, to see which side ends a connection.
    const ended: ('client' | 'server')[] = [];
    const sockets: Socket[] = [];
    let firstEnd: () => void = () => undefined;
    const oneEnded = new Promise<void>((resolve) => (firstEnd = resolve));
    const relay = createNetServer((downstream) => {
      const upstream = netConnect(api.port, '127.0.0.1');
      sockets.push(downstream, upstream);
      downstream.pipe(upstream).pipe(downstream);
      const end = (side: 'client' | 'server') => () => {
        ended.push(side);
        firstEnd();
      };
      downstream.once('end', end('client'));
      upstream.once('end', end('server'));
      downstream.on('error', () => undefined);
      upstream.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    try {
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromString(api.kubeconfigYaml('cert'));
      const cluster = kubeConfig.getCurrentCluster();
      if (!cluster) throw new Error('no cluster');
      const port = (relay.address() as AddressInfo).port;
      kubeConfig.clusters = [{ ...cluster, server: `https://127.0.0.1:${port}` }];

      const app = Fastify();
      await app.register(fastifyKubeletAuth, {
        nodeName: 'node-a',
        kubeConfig,
        logger: recordingLogger,
      });
      app.get('/pods', async (request) => request.kubeUser);
      const res = await app.inject({
        url: '/pods',
        headers: { authorization: 'Bearer alice-token' },
      });
      expect(res.statusCode).toBe(200);
      // The reviews' connection stays open for the next ones, until the instance is closed.
      expect(ended).toEqual([]);
      await app.close();
      await oneEnded;
      expect(ended[0]).toBe('client');
    } finally {
      sockets.forEach((socket) => socket.destroy());
      relay.close();
    }
  });
});
