import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import express from 'express';
import type { Server } from 'node:https';
import {
  kubeletAuth,
  nonResourceAttributes,
  pathRules,
  type KubeletAuthOptions,
} from '../../lib/index.js';
import { silentLogger } from '../../lib/logger.js';
import {
  createCA,
  mintClientCert,
  startApiServer,
  type IssuedCertificate,
  type StandInApiServer,
} from '../../lib/testing/index.js';
import { registerSecrets } from '../support/secrets.js';
import { call, close, listen, makePki, type Pki } from './harness.js';

// kubeletAuth in one call for an app that is not a kubelet: its own attributes, the
// in-process authorizers before the webhook, and TokenReview audiences — all through the real
// stand-in API server.

const TOKENS = {
  'viewer-token': { username: 'viewer', groups: ['viewers'] },
  'prom-token': { username: 'system:serviceaccount:monitoring:prometheus' },
  'root-token': { username: 'root', groups: ['system:masters'] },
  'app-token': { username: 'app', audiences: ['reports.example.com'] },
  'other-app-token': { username: 'other', audiences: ['elsewhere.example.com'] },
};
registerSecrets(...Object.keys(TOKENS));

const RBAC = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: viewer }
rules:
  - nonResourceURLs: ['/api/*']
    verbs: [get]
  - apiGroups: [example.com]
    resources: [reports]
    verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: viewer }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: viewer }
subjects:
  - { kind: Group, apiGroup: rbac.authorization.k8s.io, name: viewers }
  - { kind: User, apiGroup: rbac.authorization.k8s.io, name: app }
`;

let pki: Pki;
let api: StandInApiServer;

beforeAll(async () => {
  pki = await makePki();
  api = await startApiServer({ tokens: TOKENS, policy: { rbac: RBAC } });
  registerSecrets(api.callerToken, api.authority.key);
});
afterAll(() => api.close());
beforeEach(() => {
  api.setFault();
  api.resetReviews();
});

async function serve(
  options: Omit<KubeletAuthOptions, 'kubeConfig'>,
  run: (server: Server) => Promise<void>,
): Promise<void> {
  const auth = kubeletAuth({ kubeConfig: api.kubeConfig, logger: silentLogger, ...options });
  const app = express();
  app.use(auth);
  app.all('/{*rest}', (req, res) => {
    res.json({ user: (req as { user?: { username: string } }).user?.username });
  });
  const server = await listen(pki, app);
  try {
    await run(server);
  } finally {
    auth.close();
    await close(server);
  }
}

const sars = () => api.reviews.subjectAccessReviews.map((r) => r.spec);

describe('kubeletAuth({ attributes }) needs no nodeName', () => {
  test('nonResourceAttributes: the review asks for the path with the lower-case method', async () => {
    await serve({ attributes: nonResourceAttributes() }, async (server) => {
      await call(server, pki, '/api/things', { authorization: 'Bearer viewer-token' }).expect(200, {
        user: 'viewer',
      });
      await call(server, pki, '/api/things', {
        method: 'POST',
        authorization: 'Bearer viewer-token',
      }).expect(403, 'Forbidden (user=viewer, verb=post, path=/api/things)\n');
      expect(sars()).toEqual([
        {
          nonResourceAttributes: { path: '/api/things', verb: 'get' },
          user: 'viewer',
          groups: ['viewers', 'system:authenticated'],
        },
        {
          nonResourceAttributes: { path: '/api/things', verb: 'post' },
          user: 'viewer',
          groups: ['viewers', 'system:authenticated'],
        },
      ]);
    });
  });

  test('pathRules: namespace from the path, allOf needs every check', async () => {
    const attributes = pathRules({
      rules: {
        '/reports': (_req, _user, _path, { segments: [namespace] }) =>
          namespace ? { resource: 'reports', group: 'example.com', namespace } : null,
        '/export': {
          allOf: [
            { resource: 'reports', group: 'example.com', verb: 'list' },
            { resource: 'exports', group: 'example.com', verb: 'create' },
          ],
        },
      },
    });
    await serve({ attributes }, async (server) => {
      await call(server, pki, '/reports/team-a', { authorization: 'Bearer viewer-token' }).expect(
        200,
      );
      expect(sars()).toEqual([
        {
          resourceAttributes: {
            namespace: 'team-a',
            verb: 'get',
            group: 'example.com',
            resource: 'reports',
          },
          user: 'viewer',
          groups: ['viewers', 'system:authenticated'],
        },
      ]);
      api.resetReviews();
      await call(server, pki, '/export', { authorization: 'Bearer viewer-token' }).expect(
        403,
        'Forbidden (user=viewer, verb=create, resource=exports, subresource(s)=[])\n',
      );
      expect(sars().map((s) => s.resourceAttributes?.resource)).toEqual(['reports', 'exports']);
      api.resetReviews();
      await call(server, pki, '/elsewhere', { authorization: 'Bearer viewer-token' }).expect(403);
      expect(sars()).toEqual([]);
    });
  });
});

describe('in-process authorizers before the webhook', () => {
  const options: Omit<KubeletAuthOptions, 'kubeConfig'> = {
    nodeName: 'node-a',
    authorization: {
      alwaysAllowPaths: ['/healthz', '/readyz'],
      alwaysAllowGroups: ['system:masters'],
      static: [
        {
          users: ['system:serviceaccount:monitoring:prometheus'],
          verbs: ['get'],
          resources: ['nodes/metrics'],
        },
      ],
    },
  };

  test('each of them allows with no review at all', async () => {
    await serve(options, async (server) => {
      await call(server, pki, '/healthz', { authorization: 'Bearer viewer-token' }).expect(200);
      await call(server, pki, '/metrics/cadvisor', { authorization: 'Bearer prom-token' }).expect(
        200,
      );
      await call(server, pki, '/exec/default/web/app', {
        method: 'POST',
        authorization: 'Bearer root-token',
      }).expect(200);
      expect(sars()).toEqual([]);
    });
  });

  test('everything else still goes to the webhook; authentication still comes first', async () => {
    await serve(options, async (server) => {
      await call(server, pki, '/stats/summary', { authorization: 'Bearer prom-token' }).expect(403);
      expect(sars()).toHaveLength(1);
      await call(server, pki, '/healthz/').expect(401);
      await call(server, pki, '/healthz', { authorization: 'Bearer nope-token' }).expect(401);
      // Not the same path: no prefix trick reaches the always-allow list.
      await call(server, pki, '/healthzx', { authorization: 'Bearer viewer-token' }).expect(403);
      await call(server, pki, '/healthz/../pods', { authorization: 'Bearer viewer-token' }).expect(
        400,
      );
    });
  });

  test('decisions behind the union are still cached: one review for three requests', async () => {
    await serve(options, async (server) => {
      for (let i = 0; i < 3; i++) {
        await call(server, pki, '/stats/summary', { authorization: 'Bearer prom-token' }).expect(
          403,
        );
      }
      // The denial was cached: one review for three requests, the union asked its cache.
      expect(sars()).toHaveLength(1);
    });
  });
});

test('a warm request passes the union and both caches without waiting: next() before return', async () => {
  const auth = kubeletAuth({
    kubeConfig: api.kubeConfig,
    logger: silentLogger,
    attributes: nonResourceAttributes(),
    authorization: { alwaysAllowPaths: ['/healthz'], alwaysAllowGroups: ['system:masters'] },
  });
  const { IncomingMessage, ServerResponse } = await import('node:http');
  const { Socket } = await import('node:net');
  const request = () => {
    const req = new IncomingMessage(new Socket());
    req.method = 'GET';
    req.url = '/api/things';
    req.headers = { authorization: 'Bearer viewer-token' };
    return { req, res: new ServerResponse(req) };
  };
  try {
    const cold = request();
    let coldPassed = false;
    await new Promise<void>((resolve) => {
      auth(cold.req, cold.res, () => {
        coldPassed = true;
        resolve();
      });
    });
    expect(coldPassed).toBe(true);
    expect(api.reviews.tokenReviews).toHaveLength(1);
    expect(sars()).toHaveLength(1);

    const warm = request();
    let passed = false;
    auth(warm.req, warm.res, () => (passed = true));
    expect(passed).toBe(true);
    expect(api.reviews.tokenReviews).toHaveLength(1);
    expect(sars()).toHaveLength(1);
  } finally {
    auth.close();
  }
});

describe('TokenReview audiences', () => {
  const options = { attributes: nonResourceAttributes(), audiences: ['reports.example.com'] };

  test('are sent, and a token bound to them is accepted', async () => {
    await serve(options, async (server) => {
      await call(server, pki, '/api/x', { authorization: 'Bearer app-token' }).expect(200, {
        user: 'app',
      });
      expect(api.reviews.tokenReviews.map((r) => r.spec.audiences)).toEqual([
        ['reports.example.com'],
      ]);
    });
  });

  test('a token for other audiences is refused by the API server: 401', async () => {
    await serve(options, async (server) => {
      await call(server, pki, '/api/x', { authorization: 'Bearer other-app-token' }).expect(
        401,
        'Unauthorized',
      );
    });
  });

  test('an answer whose status.audiences names none of ours is refused here: 401', async () => {
    api.setFault({ type: 'foreign-audiences', audience: 'elsewhere.example.com' });
    await serve(options, async (server) => {
      await call(server, pki, '/api/x', { authorization: 'Bearer viewer-token' }).expect(
        401,
        'Unauthorized',
      );
      expect(api.reviews.tokenReviews).toHaveLength(1);
      expect(sars()).toEqual([]);
    });
  });
});

describe('front proxy and identity headers in one call', () => {
  let frontProxyCAFile: string;
  let frontProxy: IssuedCertificate;
  let stranger: IssuedCertificate;

  beforeAll(async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const ca = await createCA({ commonName: 'front-proxy-ca' });
    frontProxyCAFile = join(mkdtempSync(join(tmpdir(), 'eka-front-proxy-')), 'ca.crt');
    writeFileSync(frontProxyCAFile, ca.cert);
    frontProxy = await mintClientCert({ ca, user: 'front-proxy-client' });
    stranger = await mintClientCert({ ca, user: 'someone-else' });
    registerSecrets(ca.key, frontProxy.key, stranger.key);
  });

  const options = (): Omit<KubeletAuthOptions, 'kubeConfig'> => ({
    attributes: nonResourceAttributes(),
    authentication: {
      requestHeader: { clientCAFile: frontProxyCAFile, allowedNames: ['front-proxy-client'] },
    },
    identityHeaders: true,
  });

  /** The middleware with this block's options; `authentication`, when given, replaces theirs. */
  const build = (authentication?: KubeletAuthOptions['authentication']) =>
    kubeletAuth({
      kubeConfig: api.kubeConfig,
      logger: silentLogger,
      ...options(),
      ...(authentication ? { authentication } : {}),
    });

  /** An app that shows the identity headers it receives, every line of them. */
  async function serveEcho(run: (server: Server) => Promise<void>): Promise<void> {
    const auth = build();
    const app = express();
    app.use(auth);
    app.all('/{*rest}', (req, res) => {
      const lines: string[] = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i] as string;
        if (/^x-remote-/i.test(name)) lines.push(`${name.toLowerCase()}: ${req.rawHeaders[i + 1]}`);
      }
      res.json(lines.sort());
    });
    const server = await listen(pki, app);
    try {
      await run(server);
    } finally {
      auth.close();
      await close(server);
    }
  }

  test('a bad option met after a CA file was opened still throws at construction', () => {
    expect(() =>
      build({ requestHeader: { clientCAFile: frontProxyCAFile, allowedNames: [''] } }),
    ).toThrow(/allowedNames/);
    expect(() =>
      build({
        requestHeader: { clientCAFile: frontProxyCAFile },
        x509: { clientCAFile: '/nonexistent/client-ca.crt' },
      }),
    ).toThrow(/^authentication\.x509\.clientCAFile/);
  });

  test('a trusted front proxy asserts the user; the review is for that user', async () => {
    await serveEcho(async (server) => {
      await call(server, pki, '/api/report', { cert: frontProxy })
        .set('X-Remote-User', 'viewer')
        .set('X-Remote-Group', 'viewers')
        .expect(200, [
          'x-remote-group: system:authenticated',
          'x-remote-group: viewers',
          'x-remote-user: viewer',
        ]);
      expect(sars()).toEqual([
        {
          nonResourceAttributes: { path: '/api/report', verb: 'get' },
          user: 'viewer',
          groups: ['viewers', 'system:authenticated'],
        },
      ]);
    });
  });

  test('headers from anyone else are ignored, and replaced before the app sees them', async () => {
    await serveEcho(async (server) => {
      // A token caller injecting an identity: authenticated as the token's user only.
      await call(server, pki, '/api/report', { authorization: 'Bearer viewer-token' })
        .set('X-Remote-User', 'root')
        .set('x-remote-group', 'system:masters')
        .set('X-REMOTE-EXTRA-scopes', 'all')
        .expect(200, [
          'x-remote-group: system:authenticated',
          'x-remote-group: viewers',
          'x-remote-user: viewer',
        ]);
      // A certificate from the front-proxy CA with a CN not allowed: refused, never anonymous.
      await call(server, pki, '/api/report', { cert: stranger })
        .set('X-Remote-User', 'viewer')
        .expect(401, 'Unauthorized');
      // A client-CA certificate cannot assert headers either.
      await call(server, pki, '/api/report', { cert: pki.certs.alice })
        .set('X-Remote-User', 'viewer')
        .expect(401);
      expect(sars().map((s) => s.user)).toEqual(['viewer']);
    });
  });
});
