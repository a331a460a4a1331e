/**
 * kubeletAuthz for apps that are not kubelets: non-resource checks and path rules, over real
 * HTTPS, authenticated by passport's `kube-token` strategy (TokenReview), authorized by
 * SubjectAccessReview against RBAC objects in the stand-in API server.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import passport from 'passport';
import {
  kubeletAuthz,
  kubeUser,
  TokenReviewStrategy,
  webhookAuthorizer,
  type AttributesFunction,
} from '../../lib/index.js';
import { nonResourceAttributes } from '../../lib/authz/non-resource.js';
import { pathRules, type PathRulesOptions } from '../../lib/authz/path-rules.js';
import type { Logger } from '../../lib/logger.js';
import { startApiServer, type StandInApiServer } from '../../lib/testing/index.js';
import { record, recordingLogger, registerSecrets } from '../support/secrets.js';
import { call, close, listen, makePki, type Pki } from './harness.js';

const RBAC = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: metrics-reader }
rules:
  - nonResourceURLs: ['/metrics', '/metrics/*']
    verbs: ['get', 'options']
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: reader-reads-metrics }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: metrics-reader }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: reader }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: weekly-report-reader, namespace: team-a }
rules:
  - apiGroups: ['example.com']
    resources: ['reports']
    resourceNames: ['weekly']
    verbs: ['get', 'options']
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: reader-reads-weekly, namespace: team-a }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: weekly-report-reader }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: reader }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: report-lister }
rules: [{ apiGroups: ['example.com'], resources: ['reports'], verbs: ['list'] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: report-listers }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: report-lister }
subjects:
  - { apiGroup: rbac.authorization.k8s.io, kind: User, name: reader }
  - { apiGroup: rbac.authorization.k8s.io, kind: User, name: exporter }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: exporter }
rules: [{ apiGroups: ['example.com'], resources: ['exports'], verbs: ['create'] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: exporters }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: exporter }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: exporter }]
`;

const TOKENS = {
  'reader-token-5f1c': { username: 'reader' },
  'exporter-token-9a2e': { username: 'exporter' },
  'nobody-token-3d7b': { username: 'nobody' },
};
const READER = 'Bearer reader-token-5f1c';
const EXPORTER = 'Bearer exporter-token-9a2e';
const NOBODY = 'Bearer nobody-token-3d7b';
/** What TokenReviewStrategy adds to every authenticated user. */
const GROUPS = ['system:authenticated'];

const RULES: PathRulesOptions['rules'] = {
  // GET /namespaces/<namespace>/reports?name=<name>
  '/namespaces': (_req, _user, _path, { segments: [namespace, resource, ...rest], query }) => {
    const names = query.getAll('name');
    // Nothing to authorize here, or a name the handler might read differently: 403.
    if (!namespace || resource !== 'reports' || rest.length > 0 || names.length > 1) return null;
    return { resource: 'reports', group: 'example.com', namespace, name: names[0] ?? '' };
  },
  '/export': {
    allOf: [
      { resource: 'reports', group: 'example.com', verb: 'list' },
      { resource: 'exports', group: 'example.com', verb: 'create' },
    ],
  },
  '/broken': () => {
    throw new Error('bug in a rule');
  },
};

let pki: Pki;
let api: StandInApiServer;
let passportTokens: passport.Authenticator;
const servers: Server[] = [];
const logged: string[] = [];
const logger: Logger = {
  warn(message) {
    logged.push(message);
    record(message);
  },
};

beforeAll(async () => {
  registerSecrets(...Object.keys(TOKENS));
  [pki, api] = await Promise.all([
    makePki(),
    startApiServer({ tokens: TOKENS, policy: { rbac: RBAC } }),
  ]);
  registerSecrets(api.callerToken, api.authority.key);
  passportTokens = new passport.Authenticator();
  passportTokens.use(
    new TokenReviewStrategy({
      kubeConfig: api.kubeConfig,
      cacheTTL: '2m',
      logger: recordingLogger,
    }),
  );
});
afterAll(async () => {
  await Promise.all(servers.map(close));
  await api.close();
});
beforeEach(() => {
  api.resetReviews();
  logged.length = 0;
});

/** An Express 5 app: passport `kube-token`, then kubeletAuthz with these attributes. */
async function serve(attributes: AttributesFunction): Promise<Server> {
  const app = express();
  app.use(passportTokens.authenticate('kube-token', { session: false }));
  app.use(
    kubeletAuthz({
      // Decisions not cached, so every request's reviews can be counted.
      authorizer: webhookAuthorizer({
        kubeConfig: api.kubeConfig,
        cacheAuthorizedTTL: 0,
        cacheUnauthorizedTTL: 0,
      }),
      attributes,
      logger,
    }),
  );
  app.use((req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ user: kubeUser(req)?.username, url: req.url }));
  });
  const server = await listen(pki, app);
  servers.push(server);
  return server;
}

const specs = () => api.reviews.subjectAccessReviews.map((r) => r.spec);

describe('nonResourceAttributes: /metrics as the API server authorizes it', () => {
  let server: Server;
  let kubeletVerbs: Server;
  beforeAll(async () => {
    [server, kubeletVerbs] = await Promise.all([
      serve(nonResourceAttributes()),
      serve(nonResourceAttributes({ verbs: 'kubelet' })),
    ]);
  });

  it('sends exactly { nonResourceAttributes: { path, verb } } and the user; RBAC allows', async () => {
    const res = await call(server, pki, '/metrics', { authorization: READER }).expect(200);
    expect(res.body).toEqual({ user: 'reader', url: '/metrics' });
    expect(specs()).toEqual([
      { nonResourceAttributes: { path: '/metrics', verb: 'get' }, user: 'reader', groups: GROUPS },
    ]);
  });

  it("asks the decoded path without the query, and RBAC's /metrics/* matches below it", async () => {
    await call(server, pki, '/metrics/c%61dvisor?x=1', { authorization: READER }).expect(200);
    expect(specs()).toEqual([
      {
        nonResourceAttributes: { path: '/metrics/cadvisor', verb: 'get' },
        user: 'reader',
        groups: GROUPS,
      },
    ]);
  });

  it('denies paths no nonResourceURLs rule names, and users no rule binds', async () => {
    await call(server, pki, '/debug/pprof', { authorization: READER }).expect(
      403,
      'Forbidden (user=reader, verb=get, path=/debug/pprof)\n',
    );
    await call(server, pki, '/metricsfoo', { authorization: READER }).expect(403);
    await call(server, pki, '/metrics', { authorization: NOBODY }).expect(
      403,
      'Forbidden (user=nobody, verb=get, path=/metrics)\n',
    );
    expect(specs().map((s) => [s.user, s.nonResourceAttributes?.path])).toEqual([
      ['reader', '/debug/pprof'],
      ['reader', '/metricsfoo'],
      ['nobody', '/metrics'],
    ]);
  });

  it("'http' verbs (the default): HEAD asks head (denied: the rule lists get), OPTIONS asks options (allowed)", async () => {
    await call(server, pki, '/metrics', { method: 'HEAD', authorization: READER }).expect(403);
    await call(server, pki, '/metrics', { method: 'OPTIONS', authorization: READER }).expect(200);
    expect(specs().map((s) => s.nonResourceAttributes)).toEqual([
      { path: '/metrics', verb: 'head' },
      { path: '/metrics', verb: 'options' },
    ]);
  });

  it("'kubelet' verbs: HEAD asks get (allowed), OPTIONS asks the empty verb (denied)", async () => {
    await call(kubeletVerbs, pki, '/metrics', { method: 'HEAD', authorization: READER }).expect(
      200,
    );
    await call(kubeletVerbs, pki, '/metrics', { method: 'OPTIONS', authorization: READER }).expect(
      403,
      'Forbidden (user=reader, verb=, path=/metrics)\n',
    );
    expect(specs().map((s) => s.nonResourceAttributes)).toEqual([
      { path: '/metrics', verb: 'get' },
      { path: '/metrics' },
    ]);
  });

  it('no token: 401 from passport, nothing asked', async () => {
    await call(server, pki, '/metrics').expect(401);
    expect(specs()).toEqual([]);
  });
});

describe('pathRules: routes as Kubernetes resources', () => {
  let server: Server;
  let httpVerbs: Server;
  beforeAll(async () => {
    [server, httpVerbs] = await Promise.all([
      serve(pathRules({ rules: RULES })),
      serve(pathRules({ rules: RULES, verbs: 'http', default: 'nonResource' })),
    ]);
  });

  it('sends the namespace from the path and the name from the query', async () => {
    const res = await call(server, pki, '/namespaces/team-a/reports?name=weekly', {
      authorization: READER,
    }).expect(200);
    expect(res.body.user).toBe('reader');
    expect(specs()).toEqual([
      {
        resourceAttributes: {
          namespace: 'team-a',
          verb: 'get',
          group: 'example.com',
          resource: 'reports',
          name: 'weekly',
        },
        user: 'reader',
        groups: GROUPS,
      },
    ]);
  });

  it.each([
    ['/namespaces/team-b/reports?name=weekly', 'team-b', 'weekly'],
    ['/namespaces/team-a/reports?name=monthly', 'team-a', 'monthly'],
    ['/namespaces/team-a/reports', 'team-a', undefined],
  ])('RBAC decides %s: 403, one review', async (url, namespace, name) => {
    await call(server, pki, url, { authorization: READER }).expect(
      403,
      'Forbidden (user=reader, verb=get, resource=reports, subresource(s)=[])\n',
    );
    expect(specs().map((s) => s.resourceAttributes)).toEqual([
      { namespace, verb: 'get', group: 'example.com', resource: 'reports', ...(name && { name }) },
    ]);
  });

  it.each([
    '/namespaces/team-a/secrets',
    '/namespaces/team-a/reports/x',
    '/namespaces',
    '/namespaces/team-a/reports?name=weekly&name=monthly',
    '/elsewhere',
    '/exports',
  ])('%s: no rule applies, 403 without asking', async (url) => {
    const path = url.split('?')[0] as string;
    await call(server, pki, url, { authorization: READER }).expect(
      403,
      `Forbidden (user=reader, path=${path}): no authorization rule matches\n`,
    );
    expect(api.reviews.subjectAccessReviews).toHaveLength(0);
  });

  describe('allOf', () => {
    it('allows when every check is allowed, asking exactly each once', async () => {
      await call(server, pki, '/export', { method: 'POST', authorization: EXPORTER }).expect(200);
      expect(specs()).toEqual([
        {
          resourceAttributes: { verb: 'list', group: 'example.com', resource: 'reports' },
          user: 'exporter',
          groups: GROUPS,
        },
        {
          resourceAttributes: { verb: 'create', group: 'example.com', resource: 'exports' },
          user: 'exporter',
          groups: GROUPS,
        },
      ]);
    });

    it('denies when the second check is denied, and the 403 names it', async () => {
      await call(server, pki, '/export/weekly', { method: 'POST', authorization: READER }).expect(
        403,
        'Forbidden (user=reader, verb=create, resource=exports, subresource(s)=[])\n',
      );
      expect(specs().map((s) => s.resourceAttributes?.resource)).toEqual(['reports', 'exports']);
    });

    it('stops at the first denied check: one review, the 403 names it', async () => {
      await call(server, pki, '/export', { method: 'POST', authorization: NOBODY }).expect(
        403,
        'Forbidden (user=nobody, verb=list, resource=reports, subresource(s)=[])\n',
      );
      expect(specs().map((s) => s.resourceAttributes?.resource)).toEqual(['reports']);
    });
  });

  describe('verbs', () => {
    const url = '/namespaces/team-a/reports?name=weekly';
    const attributes = {
      namespace: 'team-a',
      group: 'example.com',
      resource: 'reports',
      name: 'weekly',
    };

    it("'kubelet' (the default): HEAD asks get (allowed), OPTIONS the empty verb (denied)", async () => {
      await call(server, pki, url, { method: 'HEAD', authorization: READER }).expect(200);
      await call(server, pki, url, { method: 'OPTIONS', authorization: READER }).expect(
        403,
        'Forbidden (user=reader, verb=, resource=reports, subresource(s)=[])\n',
      );
      expect(specs().map((s) => s.resourceAttributes)).toEqual([
        { ...attributes, verb: 'get' },
        attributes,
      ]);
    });

    it("'http': HEAD asks head (denied), OPTIONS asks options (allowed)", async () => {
      await call(httpVerbs, pki, url, { method: 'HEAD', authorization: READER }).expect(403);
      await call(httpVerbs, pki, url, { method: 'OPTIONS', authorization: READER }).expect(200);
      expect(specs().map((s) => s.resourceAttributes)).toEqual([
        { ...attributes, verb: 'head' },
        { ...attributes, verb: 'options' },
      ]);
    });
  });

  it("default 'nonResource': unmatched paths are asked as non-resource requests", async () => {
    await call(httpVerbs, pki, '/metrics', { authorization: READER }).expect(200);
    await call(httpVerbs, pki, '/elsewhere', { authorization: READER }).expect(
      403,
      'Forbidden (user=reader, verb=get, path=/elsewhere)\n',
    );
    expect(specs().map((s) => s.nonResourceAttributes)).toEqual([
      { path: '/metrics', verb: 'get' },
      { path: '/elsewhere', verb: 'get' },
    ]);
  });

  it('a rule that throws: 500, logged, nothing asked, and the server keeps serving', async () => {
    const broken = await Promise.all(
      [1, 2, 3].map(() => call(server, pki, '/broken/x', { authorization: READER })),
    );
    expect(broken.map((r) => [r.status, r.text])).toEqual([
      [500, 'Internal Server Error'],
      [500, 'Internal Server Error'],
      [500, 'Internal Server Error'],
    ]);
    expect(logged).toEqual([
      'authorization failed: bug in a rule',
      'authorization failed: bug in a rule',
      'authorization failed: bug in a rule',
    ]);
    expect(api.reviews.subjectAccessReviews).toHaveLength(0);
    await call(server, pki, '/namespaces/team-a/reports?name=weekly', {
      authorization: READER,
    }).expect(200);
  });
});
