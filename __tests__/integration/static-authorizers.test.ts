import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:https';
import express from 'express';
import passport from 'passport';
import { alwaysAllowGroups, alwaysAllowPaths } from '../../lib/authz/always-allow.js';
import { staticAuthorizer } from '../../lib/authz/static-rules.js';
import {
  AnonymousStrategy,
  kubeletAuthz,
  kubeUser,
  TokenReviewStrategy,
  unionAuthorizer,
  webhookAuthorizer,
  type Authorizer,
  type DecisionEvent,
} from '../../lib/index.js';
import { startApiServer, type StandInApiServer } from '../../lib/testing/index.js';
import { recordingLogger, registerSecrets } from '../support/secrets.js';
import { call, close, listen, makePki, rawRequest, type Pki } from './harness.js';

// A kubelet-like app whose union answers Prometheus, system:masters and /healthz in process,
// and asks the API server (SubjectAccessReview) about everything else.

const PROMETHEUS = 'system:serviceaccount:monitoring:prometheus';
const TOKENS = {
  'prom-token': {
    username: PROMETHEUS,
    groups: ['system:serviceaccounts', 'system:serviceaccounts:monitoring'],
  },
  'master-token': { username: 'kubernetes-admin', groups: ['system:masters'] },
  'viewer-token': { username: 'viewer' },
  'nobody-token': { username: 'nobody' },
};

let pki: Pki;
let api: StandInApiServer;
let server: Server;
let withAnonymous: Server;
const events: DecisionEvent[] = [];

const bearer = (token: keyof typeof TOKENS): { authorization: string } => ({
  authorization: `Bearer ${token}`,
});
const sars = (): unknown[] => api.reviews.subjectAccessReviews.map((r) => r.spec);

/** The union under test, with a webhook that caches nothing: every question it gets is a SAR. */
function authorizer(): Authorizer {
  return unionAuthorizer(
    alwaysAllowGroups(['system:masters']),
    alwaysAllowPaths(['/healthz', '/debug/flags/*']),
    staticAuthorizer([{ users: [PROMETHEUS], verbs: ['get'], resources: ['nodes/metrics'] }]),
    webhookAuthorizer({
      kubeConfig: api.kubeConfig,
      cacheAuthorizedTTL: '0s',
      cacheUnauthorizedTTL: '0s',
    }),
  );
}

function app(strategies: string[]): express.Express {
  const instance = new passport.Authenticator();
  instance.use(new TokenReviewStrategy({ kubeConfig: api.kubeConfig, logger: recordingLogger }));
  instance.use(new AnonymousStrategy());
  const result = express();
  result.use(instance.authenticate(strategies, { session: false }));
  result.use(
    kubeletAuthz({
      nodeName: 'node-a',
      authorizer: authorizer(),
      logger: recordingLogger,
      onDecision: (event) => events.push(event),
    }),
  );
  result.use((req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ user: kubeUser(req)?.username ?? null, path: req.url }));
  });
  return result;
}

beforeAll(async () => {
  registerSecrets(...Object.keys(TOKENS), 'never-issued-token');
  [pki, api] = await Promise.all([
    makePki(),
    startApiServer({
      tokens: TOKENS,
      // RBAC knows only the viewer: whatever else is allowed was allowed in process.
      policy: { rules: [{ users: ['viewer'], verbs: ['get'], resources: ['nodes/stats'] }] },
    }),
  ]);
  registerSecrets(api.callerToken, api.authority.key);
  [server, withAnonymous] = await Promise.all([
    listen(pki, app(['kube-token'])),
    listen(pki, app(['kube-token', 'kube-anonymous'])),
  ]);
});
afterAll(async () => {
  await Promise.all([close(server), close(withAnonymous)]);
  await api.close();
});
beforeEach(() => {
  api.resetReviews();
  events.length = 0;
});

/** The kubelet's SAR spec for `nodes/<subresource>` of node-a. */
function spec(user: string, groups: string[], subresource: string, verb = 'get'): unknown {
  return {
    user,
    groups: [...groups, 'system:authenticated'],
    resourceAttributes: { verb, version: 'v1', resource: 'nodes', subresource, name: 'node-a' },
  };
}

describe('static rule: Prometheus reads /metrics without a SubjectAccessReview', () => {
  it.each([['/metrics'], ['/metrics/cadvisor'], ['/metrics/probes']])(
    'GET %s: 200, zero reviews',
    async (path) => {
      const res = await call(server, pki, path, bearer('prom-token')).expect(200);
      expect(res.body).toEqual({ user: PROMETHEUS, path });
      expect(sars()).toEqual([]);
      expect(events.map((e) => [e.decision, e.reason])).toEqual([
        ['allowed', 'allowed by staticAuthorizer rules[0]'],
      ]);
    },
  );

  it('what the rule does not cover goes to the webhook, and RBAC denies it', async () => {
    await call(server, pki, '/stats/summary', bearer('prom-token')).expect(
      403,
      `Forbidden (user=${PROMETHEUS}, verb=get, resource=nodes, subresource(s)=[stats])\n`,
    );
    expect(sars()).toEqual([spec(PROMETHEUS, TOKENS['prom-token'].groups, 'stats')]);
  });

  it('another verb on the same path goes to the webhook too', async () => {
    await call(server, pki, '/metrics', { method: 'POST', ...bearer('prom-token') }).expect(403);
    expect(sars()).toEqual([spec(PROMETHEUS, TOKENS['prom-token'].groups, 'metrics', 'create')]);
  });

  it('the rule names its user: another user on /metrics is asked about', async () => {
    await call(server, pki, '/metrics', bearer('viewer-token')).expect(403);
    expect(sars()).toEqual([spec('viewer', [], 'metrics')]);
  });
});

describe('always-allow group: system:masters', () => {
  it('may do anything, with zero reviews, and the reason says why', async () => {
    await call(server, pki, '/exec/default/pod/c', {
      method: 'POST',
      ...bearer('master-token'),
    }).expect(200);
    await call(server, pki, '/pods', bearer('master-token')).expect(200);
    expect(sars()).toEqual([]);
    expect(events.map((e) => e.reason)).toEqual([
      'allowed by group system:masters',
      'allowed by group system:masters',
    ]);
  });
});

describe('always-allow paths: /healthz and /debug/flags/*', () => {
  it.each([['/healthz'], ['/debug/flags/v']])(
    'GET %s: 200 for any authenticated user, zero reviews',
    async (path) => {
      const res = await call(server, pki, path, bearer('nobody-token')).expect(200);
      expect(res.body.user).toBe('nobody');
      expect(sars()).toEqual([]);
      expect(events.map((e) => e.reason)).toEqual([
        `allowed by always-allow path ${path === '/healthz' ? path : '/debug/flags/*'}`,
      ]);
    },
  );

  it.each<[string, string[]]>([
    ['/healthzx', ['proxy']],
    ['//healthz', ['proxy']],
    // A trailing slash is another path, as upstream; the kubelet asks about nodes/healthz.
    ['/healthz/', ['healthz', 'proxy']],
    ['/healthz/ping', ['healthz', 'proxy']],
    ['/debug/flags', ['proxy']],
    ['/debug/flagsv', ['proxy']],
  ])('GET %s is not listed: asked about, 403', async (path, subresources) => {
    const res = await rawRequest(
      server,
      pki,
      `GET ${path} HTTP/1.1\r\nAuthorization: Bearer nobody-token`,
    );
    expect(res.status).toBe(403);
    expect(sars()).toEqual(subresources.map((s) => spec('nobody', [], s)));
  });

  it.each([
    ['/healthz/../pods'],
    ['/debug/flags/../../pods'],
    ['/debug/flags/%2e%2e/%2E%2E/exec/default/pod/c'],
    ['/debug/flags/..%2F..%2Fpods'],
    ['/debug/flags/./v'],
    ['/%2Fhealthz'],
    ['/healthz%2F..%2Fpods'],
    // Not /healthz for the always-allow list, but /healthz to a case-insensitive route.
    ['/HEALTHZ'],
    ['/healthz.json'],
  ])('GET %s is refused with 400 before any authorizer: zero reviews', async (path) => {
    const res = await rawRequest(
      server,
      pki,
      `GET ${path} HTTP/1.1\r\nAuthorization: Bearer nobody-token`,
    );
    expect(res.status).toBe(400);
    expect(sars()).toEqual([]);
    expect(events.map((e) => e.decision)).toEqual(['bad-request']);
  });
});

describe('everything else still goes to the webhook', () => {
  it('allowed by RBAC: 200 after exactly one review', async () => {
    await call(server, pki, '/stats/summary', bearer('viewer-token')).expect(200);
    expect(sars()).toEqual([spec('viewer', [], 'stats')]);
  });

  it('not allowed by RBAC: 403 after the kubelet’s reviews', async () => {
    await call(server, pki, '/pods', bearer('nobody-token')).expect(
      403,
      'Forbidden (user=nobody, verb=get, resource=nodes, subresource(s)=[pods proxy])\n',
    );
    expect(sars()).toEqual([spec('nobody', [], 'pods'), spec('nobody', [], 'proxy')]);
  });
});

describe('authorizers do not skip authentication', () => {
  it.each([
    ['no credentials', undefined],
    ['an unknown token', 'Bearer never-issued-token'],
  ])('%s: 401 on /healthz and /metrics, zero reviews', async (_name, authorization) => {
    for (const path of ['/healthz', '/metrics']) {
      await call(server, pki, path, authorization ? { authorization } : {}).expect(401);
    }
    expect(sars()).toEqual([]);
    expect(events.map((e) => e.decision)).toEqual([]);
  });

  it('with anonymous authentication on, system:anonymous is authenticated: /healthz passes', async () => {
    // As in k8s.io/apiserver: always-allow paths authorize whoever authentication produced.
    const res = await call(withAnonymous, pki, '/healthz').expect(200);
    expect(res.body.user).toBe('system:anonymous');
    expect(sars()).toEqual([]);
    await call(withAnonymous, pki, '/metrics').expect(403);
    expect(sars()).toEqual([
      {
        user: 'system:anonymous',
        groups: ['system:unauthenticated'],
        resourceAttributes: {
          verb: 'get',
          version: 'v1',
          resource: 'nodes',
          subresource: 'metrics',
          name: 'node-a',
        },
      },
    ]);
  });
});
