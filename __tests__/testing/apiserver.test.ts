import { X509Certificate } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';
import { describe, it, expect, beforeAll, afterAll, beforeEach } from '@jest/globals';
import {
  ApiException,
  AuthenticationV1Api,
  AuthorizationV1Api,
  KubeConfig,
  Observable,
} from '@kubernetes/client-node';
import type {
  RequestContext,
  ResponseContext,
  V1SubjectAccessReview,
  V1TokenReview,
} from '@kubernetes/client-node';
import { parse } from 'yaml';
import { createCA, mintClientCert, startApiServer } from '../../lib/testing/index.js';
import type { StandInApiServer } from '../../lib/testing/index.js';

const UNAUTHORIZED_STATUS = {
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message: 'Unauthorized',
  reason: 'Unauthorized',
  code: 401,
};

const TOKEN_REVIEWS = '/apis/authentication.k8s.io/v1/tokenreviews';
const SARS = '/apis/authorization.k8s.io/v1/subjectaccessreviews';

function tokenReview(token: string, audiences?: string[]): V1TokenReview {
  const body: V1TokenReview = {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenReview',
    spec: { token },
  };
  if (audiences) body.spec.audiences = audiences;
  return body;
}

function sar(spec: V1SubjectAccessReview['spec']): V1SubjectAccessReview {
  return { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec };
}

// client-node's object-parameter API takes Observable-style middleware (a Promise-returning
// one fails inside the client with "toPromise is not a function"): this one sets an abort signal.
function withSignal(signal: AbortSignal) {
  return {
    middleware: [
      {
        pre: (ctx: RequestContext) => {
          ctx.setSignal(signal);
          return new Observable(Promise.resolve(ctx));
        },
        post: (rsp: ResponseContext) => new Observable(Promise.resolve(rsp)),
      },
    ],
    middlewareMergeStrategy: 'append' as const,
  };
}

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: () => unknown;
}

// A plain HTTPS request to the stand-in, for what client-node cannot send (wrong bodies,
// methods, paths) or would hide (exact status bodies and headers).
function raw(
  server: StandInApiServer,
  options: {
    method?: string;
    path?: string;
    body?: string;
    auth?: 'token' | 'none' | { cert: string; key: string } | { bearer: string };
    contentType?: string | null;
    timeoutMs?: number;
  } = {},
): Promise<RawResponse> {
  const auth = options.auth ?? 'token';
  const headers: Record<string, string> = {};
  if (options.contentType !== null)
    headers['Content-Type'] = options.contentType ?? 'application/json';
  if (auth === 'token') headers['Authorization'] = `Bearer ${server.callerToken}`;
  if (typeof auth === 'object' && 'bearer' in auth)
    headers['Authorization'] = `Bearer ${auth.bearer}`;
  const tls = typeof auth === 'object' && 'cert' in auth ? auth : {};
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.url}${options.path ?? TOKEN_REVIEWS}`,
      { method: options.method ?? 'POST', ca: server.ca, headers, agent: false, ...tls },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: () => JSON.parse(text),
          }),
        );
        res.on('error', reject);
        res.on('aborted', () => reject(new Error('response aborted')));
      },
    );
    if (options.timeoutMs)
      req.setTimeout(options.timeoutMs, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('stand-in API server', () => {
  let server: StandInApiServer;
  let authn: AuthenticationV1Api;
  let authz: AuthorizationV1Api;

  beforeAll(async () => {
    server = await startApiServer({
      tokens: {
        'alice-token': {
          username: 'alice',
          uid: 'uid-a',
          groups: ['devs', 'system:authenticated'],
          extra: { scopes: ['x'] },
        },
        'bob-token': { username: 'bob' },
        'narrow-token': { username: 'carol', audiences: ['kubelet'] },
        'broken-token': { error: 'token issuer unreachable' },
      },
      policy: {
        rules: [{ users: ['alice'], verbs: ['get'], resources: ['nodes/stats'] }],
        rbac: `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: healthz }
rules:
- nonResourceURLs: ["/healthz"]
  verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: healthz-for-devs }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: healthz }
subjects:
- { kind: Group, name: devs }
`,
      },
    });
    authn = server.kubeConfig.makeApiClient(AuthenticationV1Api);
    authz = server.kubeConfig.makeApiClient(AuthorizationV1Api);
  });

  afterAll(async () => {
    await server.close();
  });

  beforeEach(async () => {
    await server.setFault();
    server.resetReviews();
  });

  describe('TokenReview', () => {
    it('authenticates a known token and echoes the review', async () => {
      const body = tokenReview('alice-token');
      const answer = await authn.createTokenReview({ body });
      expect(answer.apiVersion).toBe('authentication.k8s.io/v1');
      expect(answer.kind).toBe('TokenReview');
      expect(answer.spec).toEqual({ token: 'alice-token' });
      expect(answer.status).toEqual({
        authenticated: true,
        user: {
          username: 'alice',
          uid: 'uid-a',
          groups: ['devs', 'system:authenticated'],
          extra: { scopes: ['x'] },
        },
        audiences: ['https://kubernetes.default.svc'],
      });
      expect(server.reviews.tokenReviews).toEqual([
        {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenReview',
          spec: { token: 'alice-token' },
        },
      ]);
    });

    it('sends the wire format: 201, application/json, creationTimestamp null, no user when unknown', async () => {
      const res = await raw(server, { body: JSON.stringify(tokenReview('who-knows')) });
      expect(res.status).toBe(201);
      expect(res.headers['content-type']).toBe('application/json');
      expect(res.json()).toEqual({
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        metadata: { creationTimestamp: null },
        spec: { token: 'who-knows' },
        status: { authenticated: false },
      });
    });

    it('reports the requested audiences back', async () => {
      const answer = await authn.createTokenReview({ body: tokenReview('bob-token', ['a', 'b']) });
      expect(answer.status).toEqual({
        authenticated: true,
        user: { username: 'bob' },
        audiences: ['a', 'b'],
      });
      expect(server.reviews.tokenReviews[0]?.spec).toEqual({
        token: 'bob-token',
        audiences: ['a', 'b'],
      });
    });

    it('checks a token bound to audiences against the requested ones', async () => {
      const ok = await authn.createTokenReview({
        body: tokenReview('narrow-token', ['other', 'kubelet']),
      });
      expect(ok.status).toMatchObject({ authenticated: true, audiences: ['kubelet'] });
      const wrong = await authn.createTokenReview({ body: tokenReview('narrow-token', ['other']) });
      expect(wrong.status?.authenticated).toBe(false);
      expect(wrong.status?.user).toBeUndefined();
      expect(wrong.status?.error).toMatch(/token audiences \["kubelet"\] is invalid/);
      const none = await authn.createTokenReview({ body: tokenReview('narrow-token') });
      expect(none.status?.authenticated).toBe(false);
    });

    it('reports an error entry as unauthenticated with that error', async () => {
      const answer = await authn.createTokenReview({ body: tokenReview('broken-token') });
      expect(answer.status).toEqual({ authenticated: false, error: 'token issuer unreachable' });
    });

    it('does not authenticate unknown tokens', async () => {
      const answer = await authn.createTokenReview({ body: tokenReview('nope') });
      expect(answer.status).toEqual({ authenticated: false });
      expect(answer.status?.user).toBeUndefined();
    });

    it('uses the configured apiAudiences, and setTokens replaces the tokens', async () => {
      const other = await startApiServer({
        apiAudiences: ['api'],
        tokens: { t: { username: 'x' } },
      });
      try {
        const api = other.kubeConfig.makeApiClient(AuthenticationV1Api);
        expect((await api.createTokenReview({ body: tokenReview('t') })).status?.audiences).toEqual(
          ['api'],
        );
        other.setTokens({ u: { username: 'y' } });
        expect(
          (await api.createTokenReview({ body: tokenReview('t') })).status?.authenticated,
        ).toBe(false);
        expect(
          (await api.createTokenReview({ body: tokenReview('u') })).status?.user?.username,
        ).toBe('y');
      } finally {
        await other.close();
      }
    });

    it('rejects an empty token with 400', async () => {
      const res = await raw(server, { body: JSON.stringify(tokenReview('')) });
      expect(res.status).toBe(400);
      expect(res.json()).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400 });
    });
  });

  describe('SubjectAccessReview', () => {
    it('allows what the policy allows, and records the review', async () => {
      const body = sar({
        user: 'alice',
        groups: ['devs'],
        resourceAttributes: {
          verb: 'get',
          resource: 'nodes',
          subresource: 'stats',
          name: 'node-a',
        },
      });
      const answer = await authz.createSubjectAccessReview({ body });
      expect(answer.status).toEqual({
        allowed: true,
        reason: 'allowed by stand-in policy rule #0',
      });
      expect(answer.spec).toEqual(body.spec);
      expect(server.reviews.subjectAccessReviews).toEqual([
        {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: 'alice',
            groups: ['devs'],
            resourceAttributes: {
              verb: 'get',
              resource: 'nodes',
              subresource: 'stats',
              name: 'node-a',
            },
          },
        },
      ]);
    });

    it('allows through RBAC objects, with the RBAC reason', async () => {
      const answer = await authz.createSubjectAccessReview({
        body: sar({
          user: 'dave',
          groups: ['devs'],
          nonResourceAttributes: { path: '/healthz', verb: 'get' },
        }),
      });
      expect(answer.status).toEqual({
        allowed: true,
        reason:
          'RBAC: allowed by ClusterRoleBinding "healthz-for-devs" of ClusterRole "healthz" to Group "devs"',
      });
    });

    it('answers allowed:false (no denied, no reason) otherwise', async () => {
      const res = await raw(server, {
        path: SARS,
        body: JSON.stringify(
          sar({ user: 'alice', resourceAttributes: { verb: 'delete', resource: 'nodes' } }),
        ),
      });
      expect(res.status).toBe(201);
      expect(res.json()).toEqual({
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        metadata: { creationTimestamp: null },
        spec: { user: 'alice', resourceAttributes: { verb: 'delete', resource: 'nodes' } },
        status: { allowed: false },
      });
    });

    it('setPolicy changes the decision; a malformed one throws and keeps the old policy', async () => {
      const body = sar({ user: 'erin', resourceAttributes: { verb: 'list', resource: 'pods' } });
      expect((await authz.createSubjectAccessReview({ body })).status?.allowed).toBe(false);
      server.setPolicy({ rules: [{ users: ['erin'], verbs: ['list'], resources: ['pods'] }] });
      try {
        expect((await authz.createSubjectAccessReview({ body })).status?.allowed).toBe(true);
        expect(() =>
          server.setPolicy({
            rbac: [
              {
                apiVersion: 'rbac.authorization.k8s.io/v1',
                kind: 'ClusterRoleBinding',
                metadata: { name: 'x' },
                roleRef: { kind: 'ClusterRole', name: 'ghost' },
              },
            ],
          }),
        ).toThrow(TypeError);
        expect((await authz.createSubjectAccessReview({ body })).status?.allowed).toBe(true);
      } finally {
        server.setPolicy({
          rules: [{ users: ['alice'], verbs: ['get'], resources: ['nodes/stats'] }],
        });
      }
    });

    it.each([
      [
        'neither attribute set',
        { user: 'a' },
        /exactly one of nonResourceAttributes or resourceAttributes/,
      ],
      [
        'both attributes set',
        { user: 'a', resourceAttributes: {}, nonResourceAttributes: {} },
        /cannot be specified in combination/,
      ],
      [
        'no user or group',
        { resourceAttributes: { verb: 'get' } },
        /at least one of user or group/,
      ],
    ])('rejects a SAR with %s as 422 Invalid', async (_name, spec, message) => {
      const res = await raw(server, { path: SARS, body: JSON.stringify(sar(spec)) });
      expect(res.status).toBe(422);
      const status = res.json() as { reason: string; message: string; code: number };
      expect(status).toMatchObject({
        kind: 'Status',
        status: 'Failure',
        reason: 'Invalid',
        code: 422,
      });
      expect(status.message).toMatch(message);
    });
  });

  describe('caller authentication', () => {
    it('accepts its own kubeconfig (client certificate of system:node:node-a)', async () => {
      const kc = server.kubeConfig;
      expect(kc.getCurrentCluster()?.server).toBe(server.url);
      const user = kc.getCurrentUser();
      expect(user?.token).toBeUndefined();
      const cert = new X509Certificate(Buffer.from(user?.certData ?? '', 'base64'));
      expect(cert.subject).toBe('O=system:nodes\nCN=system:node:node-a');
      expect(cert.checkIssued(new X509Certificate(server.ca))).toBe(true);
    });

    it('writes kubeconfig YAML with *-data fields, for a certificate or the token', async () => {
      const certConfig = parse(server.kubeconfigYaml()) as {
        clusters: { cluster: Record<string, string> }[];
        users: { user: Record<string, string> }[];
        'current-context': string;
      };
      expect(certConfig.clusters[0]?.cluster).toEqual({
        server: server.url,
        'certificate-authority-data': Buffer.from(server.ca).toString('base64'),
      });
      expect(Object.keys(certConfig.users[0]?.user ?? {})).toEqual([
        'client-certificate-data',
        'client-key-data',
      ]);
      const tokenConfig = parse(server.kubeconfigYaml('token')) as typeof certConfig;
      expect(tokenConfig.users[0]?.user).toEqual({ token: server.callerToken });

      const kc = new KubeConfig();
      kc.loadFromString(server.kubeconfigYaml('token'));
      const answer = await kc
        .makeApiClient(AuthenticationV1Api)
        .createTokenReview({ body: tokenReview('bob-token') });
      expect(answer.status?.authenticated).toBe(true);
    });

    it('honours callerUser, callerGroups and callerToken', async () => {
      const other = await startApiServer({
        callerUser: 'kube-apiserver',
        callerGroups: [],
        callerToken: 'let-me-in',
      });
      try {
        const user = other.kubeConfig.getCurrentUser();
        expect(new X509Certificate(Buffer.from(user?.certData ?? '', 'base64')).subject).toBe(
          'CN=kube-apiserver',
        );
        expect(other.callerToken).toBe('let-me-in');
        const res = await raw(other, {
          auth: { bearer: 'let-me-in' },
          body: JSON.stringify(tokenReview('x')),
        });
        expect(res.status).toBe(201);
      } finally {
        await other.close();
      }
    });

    it('answers 401 to a client-node caller without credentials', async () => {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [
          {
            name: 'c',
            server: server.url,
            caData: Buffer.from(server.ca).toString('base64'),
            skipTLSVerify: false,
          },
        ],
        users: [{ name: 'anonymous' }],
        contexts: [{ name: 'ctx', cluster: 'c', user: 'anonymous' }],
        currentContext: 'ctx',
      });
      const call = kc
        .makeApiClient(AuthenticationV1Api)
        .createTokenReview({ body: tokenReview('bob-token') });
      await expect(call).rejects.toBeInstanceOf(ApiException);
      await expect(call).rejects.toMatchObject({ code: 401 });
      expect(server.reviews.tokenReviews).toEqual([]);
    });

    it.each([
      ['no credentials', 'none' as const],
      ['a wrong bearer token', { bearer: 'guess' }],
    ])('answers 401 with a v1 Status to %s', async (_name, auth) => {
      const res = await raw(server, { auth, body: JSON.stringify(tokenReview('bob-token')) });
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toBe('application/json');
      expect(res.json()).toEqual(UNAUTHORIZED_STATUS);
    });

    it('answers 401 to a client certificate from another CA, and accepts one from its own', async () => {
      const stranger = await mintClientCert({
        ca: await createCA({ commonName: 'elsewhere' }),
        user: 'x',
      });
      const refused = await raw(server, {
        auth: stranger,
        body: JSON.stringify(tokenReview('bob-token')),
      });
      expect(refused.status).toBe(401);
      expect(refused.json()).toEqual(UNAUTHORIZED_STATUS);
      const friend = await mintClientCert({ ca: server.authority, user: 'kube-apiserver' });
      const accepted = await raw(server, {
        auth: friend,
        body: JSON.stringify(tokenReview('bob-token')),
      });
      expect(accepted.status).toBe(201);
    });
  });

  describe('request handling', () => {
    it.each([
      ['an unknown path', { path: '/api/v1/pods' }, 404, 'NotFound'],
      ['a GET on a review path', { method: 'GET' }, 405, 'MethodNotAllowed'],
      ['unparsable JSON', { body: '{"kind":' }, 400, 'BadRequest'],
      ['a JSON array', { body: '[]' }, 400, 'BadRequest'],
      [
        'the wrong kind',
        { body: JSON.stringify({ ...tokenReview('t'), kind: 'SubjectAccessReview' }) },
        400,
        'BadRequest',
      ],
      [
        'the wrong apiVersion',
        {
          body: JSON.stringify({
            ...tokenReview('t'),
            apiVersion: 'authentication.k8s.io/v1beta1',
          }),
        },
        400,
        'BadRequest',
      ],
      [
        'a TokenReview sent to the SAR path',
        { path: SARS, body: JSON.stringify(tokenReview('t')) },
        400,
        'BadRequest',
      ],
      [
        'a non-JSON content type',
        { contentType: 'text/plain', body: JSON.stringify(tokenReview('t')) },
        415,
        'UnsupportedMediaType',
      ],
    ] as [string, Parameters<typeof raw>[1], number, string][])(
      'answers %s with a Status',
      async (_name, options, code, reason) => {
        const res = await raw(server, options);
        expect(res.status).toBe(code);
        expect(res.headers['content-type']).toBe('application/json');
        expect(res.json()).toMatchObject({
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          reason,
          code,
        });
        expect(server.reviews.tokenReviews).toEqual([]);
        expect(server.reviews.subjectAccessReviews).toEqual([]);
      },
    );

    it('accepts a body without apiVersion and kind, as kube-apiserver does', async () => {
      const res = await raw(server, { body: JSON.stringify({ spec: { token: 'bob-token' } }) });
      expect(res.status).toBe(201);
      expect(server.reviews.tokenReviews).toEqual([{ spec: { token: 'bob-token' } }]);
    });

    it('records reviews in arrival order and counts requests', async () => {
      const before = server.requestCount;
      await authn.createTokenReview({ body: tokenReview('t1') });
      await authz.createSubjectAccessReview({
        body: sar({ user: 'u', resourceAttributes: { verb: 'get' } }),
      });
      await authn.createTokenReview({ body: tokenReview('t2') });
      expect(server.reviews.tokenReviews.map((r) => r.spec.token)).toEqual(['t1', 't2']);
      expect(server.reviews.subjectAccessReviews).toHaveLength(1);
      expect(server.requestCount - before).toBe(3);
      const held = server.reviews.tokenReviews;
      server.resetReviews();
      expect(held).toEqual([]);
      expect(server.reviews.subjectAccessReviews).toEqual([]);
    });
  });

  describe('faults', () => {
    it('status: answers that status with a Status body and Retry-After, for `times` reviews', async () => {
      server.setFault({ type: 'status', status: 429, retryAfterSeconds: 3, times: 2 });
      const first = authn.createTokenReview({ body: tokenReview('bob-token') });
      await expect(first).rejects.toBeInstanceOf(ApiException);
      const error = (await first.catch((e: unknown) => e)) as ApiException<string>;
      expect(error.code).toBe(429);
      expect(error.headers['retry-after']).toBe('3');
      expect(JSON.parse(error.body)).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'stand-in fault: status 429',
        reason: 'TooManyRequests',
        details: { retryAfterSeconds: 3 },
        code: 429,
      });
      await expect(
        authz.createSubjectAccessReview({
          body: sar({ user: 'alice', resourceAttributes: { verb: 'get' } }),
        }),
      ).rejects.toMatchObject({ code: 429 });
      const third = await authn.createTokenReview({ body: tokenReview('bob-token') });
      expect(third.status?.authenticated).toBe(true);
      // Faulted reviews were still received and recorded.
      expect(server.reviews.tokenReviews).toHaveLength(2);
      expect(server.reviews.subjectAccessReviews).toHaveLength(1);
    });

    it('status: lasts until cleared without `times`', async () => {
      server.setFault({ type: 'status', status: 500 });
      for (let i = 0; i < 3; i++) {
        await expect(
          authn.createTokenReview({ body: tokenReview('bob-token') }),
        ).rejects.toMatchObject({ code: 500 });
      }
      server.setFault();
      expect(
        (await authn.createTokenReview({ body: tokenReview('bob-token') })).status?.authenticated,
      ).toBe(true);
    });

    it('reset: the client-node call fails with a premature close', async () => {
      server.setFault({ type: 'reset', times: 1 });
      // node-fetch (client-node 1.x) and undici (2.x) name the cut-short answer differently.
      await expect(authn.createTokenReview({ body: tokenReview('bob-token') })).rejects.toThrow(
        /Premature close|terminated/,
      );
      expect(
        (await authn.createTokenReview({ body: tokenReview('bob-token') })).status?.authenticated,
      ).toBe(true);
    });

    it('reset with content-length framing: a raw client sees the body cut short', async () => {
      server.setFault({ type: 'reset', framing: 'content-length', times: 1 });
      await expect(raw(server, { body: JSON.stringify(tokenReview('bob-token')) })).rejects.toThrow(
        /aborted|socket hang up|ECONNRESET/,
      );
    });

    it('reset with content-length framing: client-node fails, 1.x only through a timeout of its own', async () => {
      server.setFault({ type: 'reset', framing: 'content-length', times: 1 });
      const call = authn.createTokenReview(
        { body: tokenReview('bob-token') },
        withSignal(AbortSignal.timeout(300)),
      );
      // 1.x (node-fetch) never settles by itself; 2.x (undici) sees the socket close.
      await expect(call).rejects.toThrow(/abort|terminated/i);
    });

    it('reset with no framing: the connection is reset before any answer (ECONNRESET)', async () => {
      server.setFault({ type: 'reset', framing: 'none', times: 1 });
      // client-node 1.x throws the system error; 2.x wraps it as fetch's `cause`.
      const error = (await authn.createTokenReview({ body: tokenReview('bob-token') }).then(
        () => ({}),
        (thrown: unknown) => thrown,
      )) as { code?: unknown; cause?: { code?: unknown } };
      expect(error.code ?? error.cause?.code).toBe('ECONNRESET');
      expect(server.reviews.tokenReviews).toHaveLength(1);
      expect(
        (await authn.createTokenReview({ body: tokenReview('bob-token') })).status?.authenticated,
      ).toBe(true);
    });

    it('refuse: connections are refused until the fault is cleared, then served on the same port', async () => {
      await server.setFault({ type: 'refuse' });
      await expect(raw(server, { body: JSON.stringify(tokenReview('bob-token')) })).rejects.toThrow(
        /ECONNREFUSED/,
      );
      await expect(authn.createTokenReview({ body: tokenReview('bob-token') })).rejects.toThrow();
      expect(server.reviews.tokenReviews).toHaveLength(0);
      await server.setFault();
      expect(
        (await authn.createTokenReview({ body: tokenReview('bob-token') })).status?.authenticated,
      ).toBe(true);
    });

    it('refuse: close() works while refusing', async () => {
      const other = await startApiServer();
      await other.setFault({ type: 'refuse' });
      await other.close();
      await expect(raw(other, { body: JSON.stringify(tokenReview('x')) })).rejects.toThrow(
        /ECONNREFUSED/,
      );
    });

    it('token-error: TokenReview only, authenticated false with the error, whatever the token', async () => {
      server.setFault({ type: 'token-error', error: 'token has been invalidated', times: 1 });
      const body = sar({
        user: 'alice',
        resourceAttributes: { verb: 'get', resource: 'nodes', subresource: 'stats' },
      });
      expect((await authz.createSubjectAccessReview({ body })).status?.allowed).toBe(true);
      const answer = await authn.createTokenReview({ body: tokenReview('bob-token') });
      expect(answer.status).toEqual({ authenticated: false, error: 'token has been invalidated' });
      const next = await authn.createTokenReview({ body: tokenReview('bob-token') });
      expect(next.status?.authenticated).toBe(true);
    });

    it('hang: no answer; the client gives up through its AbortSignal', async () => {
      server.setFault({ type: 'hang', times: 1 });
      const call = authn.createTokenReview(
        { body: tokenReview('bob-token') },
        withSignal(AbortSignal.timeout(200)),
      );
      await expect(call).rejects.toThrow(/abort/i);
      expect(server.reviews.tokenReviews).toHaveLength(1);
    });

    it('hang: close() still ends hung requests promptly', async () => {
      const other = await startApiServer();
      other.setFault({ type: 'hang' });
      const pending = raw(other, { body: JSON.stringify(tokenReview('x')) });
      const outcome = pending.then(
        () => 'answered',
        (err: Error) => err.message,
      );
      await waitFor(() => other.reviews.tokenReviews.length === 1);
      await other.close();
      expect(await outcome).toMatch(/socket hang up|ECONNRESET|aborted/);
      await other.close(); // idempotent
    });

    it('malformed: 201 with a body that is not JSON', async () => {
      server.setFault({ type: 'malformed', times: 1 });
      await expect(authn.createTokenReview({ body: tokenReview('bob-token') })).rejects.toThrow(
        SyntaxError,
      );
      server.setFault({ type: 'malformed', times: 1 });
      const res = await raw(server, {
        path: SARS,
        body: JSON.stringify(sar({ user: 'a', resourceAttributes: {} })),
      });
      expect(res.status).toBe(201);
      expect(res.headers['content-type']).toBe('application/json');
      expect(() => res.json()).toThrow(SyntaxError);
    });

    it('both-allowed-and-denied: SAR only, TokenReviews pass untouched and do not use it up', async () => {
      server.setFault({ type: 'both-allowed-and-denied', times: 1 });
      expect(
        (await authn.createTokenReview({ body: tokenReview('bob-token') })).status?.authenticated,
      ).toBe(true);
      const body = sar({ user: 'nobody', resourceAttributes: { verb: 'get', resource: 'pods' } });
      const answer = await authz.createSubjectAccessReview({ body });
      expect(answer.status).toMatchObject({ allowed: true, denied: true });
      expect((await authz.createSubjectAccessReview({ body })).status).toEqual({ allowed: false });
    });

    it('evaluation-error: allowed false with an evaluationError', async () => {
      server.setFault({ type: 'evaluation-error', times: 1 });
      const answer = await authz.createSubjectAccessReview({
        body: sar({
          user: 'alice',
          resourceAttributes: { verb: 'get', resource: 'nodes', subresource: 'stats' },
        }),
      });
      expect(answer.status?.allowed).toBe(false);
      expect(answer.status?.denied).toBeUndefined();
      expect(answer.status?.evaluationError).toMatch(/injected evaluation error/);
    });

    it('authenticated-without-user: TokenReview only', async () => {
      server.setFault({ type: 'authenticated-without-user' });
      const body = sar({
        user: 'alice',
        resourceAttributes: { verb: 'get', resource: 'nodes', subresource: 'stats' },
      });
      expect((await authz.createSubjectAccessReview({ body })).status?.allowed).toBe(true);
      const res = await raw(server, { body: JSON.stringify(tokenReview('nope')) });
      expect(res.json()).toMatchObject({ status: { authenticated: true } });
      expect((res.json() as { status: object }).status).toEqual({ authenticated: true });
      const answer = await authn.createTokenReview({ body: tokenReview('alice-token') });
      expect(answer.status?.authenticated).toBe(true);
      expect(answer.status?.user).toBeUndefined();
    });
  });
});

describe('startApiServer', () => {
  it('rejects a malformed policy with a TypeError', async () => {
    await expect(
      startApiServer({ policy: { rules: [{ verbs: ['get'], resources: ['x'] }] } }),
    ).rejects.toThrow(TypeError);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
