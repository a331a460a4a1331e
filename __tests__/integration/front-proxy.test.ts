import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request as httpsRequest, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import passport from 'passport';
import {
  ClientCertStrategy,
  kubeletAuthz,
  TokenReviewStrategy,
  webhookAuthorizer,
} from '../../lib/index.js';
import { RequestHeaderAuthenticator } from '../../lib/authn/request-header.js';
import { identityHeaders } from '../../lib/identity/identity-headers.js';
import {
  createCA,
  mintClientCert,
  startApiServer,
  type IssuedCertificate,
  type StandInApiServer,
} from '../../lib/testing/index.js';
import { recordingLogger, registerSecrets } from '../support/secrets.js';
import { close, listen, makePki, rawRequest, type Pki } from './harness.js';

/**
 * client ──TLS──▶ app (front-proxy / client-cert / token authentication, SubjectAccessReview,
 * identityHeaders, proxy) ──TLS, the app's own front-proxy certificate──▶ downstream, which
 * records the identity lines it received and authenticates them as a front-proxy client.
 */
let pki: Pki;
let api: StandInApiServer;
let frontProxyCAFile: string;
let certs: Record<'frontProxy' | 'otherName' | 'appAsProxy', IssuedCertificate>;
let downstream: Server;
let downstreamHits = 0;
const cleanups: (() => void)[] = [];
const servers: Server[] = [];

type Line = [string, string];
interface DownstreamView {
  lines: Line[];
  user: unknown;
}

beforeAll(async () => {
  registerSecrets('alice-token');
  [pki, api] = await Promise.all([
    makePki(),
    startApiServer({
      tokens: {
        'alice-token': {
          username: 'alice',
          uid: 'uid-alice',
          groups: ['devs'],
          extra: { scopes: ['node'] },
        },
      },
      policy: {
        rules: [
          { users: ['alice'], verbs: ['get'], resources: ['nodes/stats'] },
          // The front proxy's user is only allowed through a group its headers assert.
          { groups: ['proxied-viewers'], verbs: ['get'], resources: ['nodes/stats'] },
        ],
      },
    }),
  ]);
  registerSecrets(api.callerToken, api.authority.key);
  const frontProxyCA = await createCA({ commonName: 'front-proxy-ca' });
  const dir = mkdtempSync(join(tmpdir(), 'eka-front-proxy-'));
  frontProxyCAFile = join(dir, 'front-proxy-ca.crt');
  writeFileSync(frontProxyCAFile, frontProxyCA.cert);
  const [frontProxy, otherName, appAsProxy] = await Promise.all([
    mintClientCert({ ca: frontProxyCA, user: 'front-proxy-client' }),
    mintClientCert({ ca: frontProxyCA, user: 'not-the-front-proxy' }),
    mintClientCert({ ca: frontProxyCA, user: 'front-proxy-client' }),
  ]);
  certs = {
    frontProxy: frontProxy as IssuedCertificate,
    otherName: otherName as IssuedCertificate,
    appAsProxy: appAsProxy as IssuedCertificate,
  };
  registerSecrets(frontProxyCA.key, ...Object.values(certs).map((c) => c.key));

  // Downstream trusts the app as its front proxy, like an aggregated API server behind kube-apiserver.
  const downstreamAuth = new RequestHeaderAuthenticator({
    clientCAFile: frontProxyCAFile,
    allowedNames: ['front-proxy-client'],
    logger: recordingLogger,
  });
  cleanups.push(() => downstreamAuth.close());
  downstream = await listen(pki, (req: IncomingMessage, res: ServerResponse) => {
    downstreamHits++;
    const lines: Line[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i] as string;
      const value = Buffer.from(req.rawHeaders[i + 1] as string, 'latin1').toString('utf8');
      if (/^x-remote-/i.test(name)) lines.push([name.toLowerCase(), value]);
    }
    const outcome = downstreamAuth.authenticateRequest(req);
    const view: DownstreamView = { lines, user: outcome.kind === 'user' ? outcome.user : outcome };
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(view));
  });
  servers.push(downstream);
});
afterAll(async () => {
  cleanups.forEach((c) => c());
  await Promise.all(servers.map(close));
  await api.close();
});
beforeEach(() => {
  api.resetReviews();
  downstreamHits = 0;
});

/** A minimal reverse proxy, copying `req.headers` (as http-proxy does) or `req.rawHeaders`. */
function proxy(copy: 'headers' | 'raw') {
  const port = (downstream.address() as AddressInfo).port;
  return function proxyMiddleware(req: IncomingMessage, res: ServerResponse): void {
    const out = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        path: req.url,
        method: req.method,
        ca: pki.serving.cert,
        cert: certs.appAsProxy.cert,
        key: certs.appAsProxy.key,
        agent: false,
        headers: copy === 'raw' ? req.rawHeaders : { ...req.headers },
      },
      (upstream) => {
        res.writeHead(upstream.statusCode ?? 502, upstream.headers);
        upstream.pipe(res);
      },
    );
    out.on('error', () => {
      res.statusCode = 502;
      res.end();
    });
    out.end();
  };
}

/** The app, in one of the two documented layouts. */
async function app(layout: 'strip first, set last' | 'set last', copy: 'headers' | 'raw') {
  const frontProxy = new RequestHeaderAuthenticator({
    clientCAFile: frontProxyCAFile,
    allowedNames: ['front-proxy-client'],
    logger: recordingLogger,
  });
  const clientCerts = new ClientCertStrategy({
    clientCAFile: pki.clientCAFile,
    logger: recordingLogger,
  });
  cleanups.push(
    () => frontProxy.close(),
    () => clientCerts.close(),
  );
  const auth = new passport.Authenticator();
  auth.use(frontProxy);
  auth.use(clientCerts);
  auth.use(
    new TokenReviewStrategy({ kubeConfig: api.kubeConfig, cacheTTL: 0, logger: recordingLogger }),
  );
  const application = express();
  if (layout === 'strip first, set last') application.use(identityHeaders({ set: false }));
  application.use(
    auth.authenticate(['kube-request-header', 'kube-x509', 'kube-token'], { session: false }),
  );
  application.use(
    kubeletAuthz({
      nodeName: 'node-a',
      authorizer: webhookAuthorizer({
        kubeConfig: api.kubeConfig,
        cacheAuthorizedTTL: 0,
        cacheUnauthorizedTTL: 0,
      }),
      logger: recordingLogger,
    }),
  );
  application.use(identityHeaders({ logger: recordingLogger }));
  application.use(proxy(copy));
  const server = await listen(pki, application);
  servers.push(server);
  return server;
}

/** Identity headers a caller injects: every kind, odd cases, repeated. */
const INJECTED = [
  'x-REMOTE-user: mallory',
  'X-Remote-User: mallory2',
  'X-REMOTE-GROUP: system:masters',
  'x-remote-group: system:masters',
  'X-Remote-Uid: 0',
  'x-remote-extra-scopes: everything',
];

const STATS = {
  verb: 'get',
  version: 'v1',
  resource: 'nodes',
  subresource: 'stats',
  name: 'node-a',
};

describe.each([
  ['strip first, set last', 'raw'],
  ['set last', 'headers'],
] as const)('layout "%s", proxy copying req.%s', (layout, copy) => {
  let server: Server;
  beforeAll(async () => {
    server = await app(layout, copy);
  });

  /** GET /stats/summary with these header lines, exactly as written. */
  function get(lines: string[], cert?: IssuedCertificate) {
    return rawRequest(server, pki, ['GET /stats/summary HTTP/1.1', ...lines].join('\r\n'), cert);
  }

  it('the front proxy’s user is authorized by SubjectAccessReview and sent downstream', async () => {
    const res = await get(
      [
        'X-Remote-User: fp-user',
        'X-Remote-Uid: uid-fp',
        'X-Remote-Group: proxied-viewers',
        'x-remote-group: team-a',
        'X-Remote-Extra-Scopes: s1',
      ],
      certs.frontProxy,
    );
    expect(res.status).toBe(200);
    const view = JSON.parse(res.body) as DownstreamView;
    expect(view.lines).toEqual([
      ['x-remote-user', 'fp-user'],
      ['x-remote-uid', 'uid-fp'],
      ['x-remote-group', 'proxied-viewers'],
      ['x-remote-group', 'team-a'],
      ['x-remote-group', 'system:authenticated'],
      ['x-remote-extra-scopes', 's1'],
    ]);
    // Downstream reads back the very user that was authorized here.
    const user = {
      username: 'fp-user',
      uid: 'uid-fp',
      groups: ['proxied-viewers', 'team-a', 'system:authenticated'],
      extra: { scopes: ['s1'] },
    };
    expect(view.user).toEqual(user);
    expect(api.reviews.subjectAccessReviews.map((r) => r.spec)).toEqual([
      {
        resourceAttributes: STATS,
        user: 'fp-user',
        groups: user.groups,
        uid: 'uid-fp',
        extra: { scopes: ['s1'] },
      },
    ]);
    expect(api.reviews.tokenReviews).toHaveLength(0);
    expect(downstreamHits).toBe(1);
  });

  it('the front proxy’s user without the allowed group is forbidden, and nothing is sent on', async () => {
    const res = await get(['X-Remote-User: fp-user'], certs.frontProxy);
    expect(res.status).toBe(403);
    expect(res.body).toBe(
      'Forbidden (user=fp-user, verb=get, resource=nodes, subresource(s)=[stats])\n',
    );
    expect(api.reviews.subjectAccessReviews.map((r) => r.spec)).toEqual([
      { resourceAttributes: STATS, user: 'fp-user', groups: ['system:authenticated'] },
    ]);
    expect(downstreamHits).toBe(0);
  });

  it('with a client-CA certificate the headers are not trusted: the certificate’s user goes on', async () => {
    const res = await get(INJECTED, pki.certs.alice);
    expect(res.status).toBe(200);
    const view = JSON.parse(res.body) as DownstreamView;
    expect(view.lines.map(([name]) => name)).toEqual([
      'x-remote-user',
      'x-remote-group',
      'x-remote-group',
      'x-remote-extra-authentication.kubernetes.io%2fcredential-id',
    ]);
    expect(view.lines.slice(0, 3)).toEqual([
      ['x-remote-user', 'alice'],
      ['x-remote-group', 'devs'],
      ['x-remote-group', 'system:authenticated'],
    ]);
    expect(view.lines[3]?.[1]).toMatch(/^X509SHA256=[0-9a-f]{64}$/);
    expect(api.reviews.subjectAccessReviews.map((r) => r.spec.user)).toEqual(['alice']);
    expect(api.reviews.subjectAccessReviews[0]?.spec.groups).toEqual([
      'devs',
      'system:authenticated',
    ]);
  });

  it('a certificate from the front-proxy CA with an unlisted CN: 401, nothing asked or sent', async () => {
    const res = await get(INJECTED, certs.otherName);
    expect(res.status).toBe(401);
    expect(api.reviews.subjectAccessReviews).toHaveLength(0);
    expect(api.reviews.tokenReviews).toHaveLength(0);
    expect(downstreamHits).toBe(0);
  });

  it('no certificate: 401, nothing asked or sent', async () => {
    const res = await get(INJECTED);
    expect(res.status).toBe(401);
    expect(api.reviews.subjectAccessReviews).toHaveLength(0);
    expect(downstreamHits).toBe(0);
  });

  it('no certificate but a token: the token’s user, never the injected one', async () => {
    const res = await get([...INJECTED, 'Authorization: Bearer alice-token']);
    expect(res.status).toBe(200);
    const view = JSON.parse(res.body) as DownstreamView;
    expect(view.lines).toEqual([
      ['x-remote-user', 'alice'],
      ['x-remote-uid', 'uid-alice'],
      ['x-remote-group', 'devs'],
      ['x-remote-group', 'system:authenticated'],
      ['x-remote-extra-scopes', 'node'],
    ]);
    expect(api.reviews.tokenReviews.map((r) => r.spec)).toEqual([{ token: 'alice-token' }]);
    expect(api.reviews.subjectAccessReviews.map((r) => r.spec)).toEqual([
      {
        resourceAttributes: STATS,
        user: 'alice',
        groups: ['devs', 'system:authenticated'],
        uid: 'uid-alice',
        extra: { scopes: ['node'] },
      },
    ]);
  });

  it('the front proxy without X-Remote-User asserts nothing: the next authenticator decides', async () => {
    const res = await get(
      ['X-Remote-Group: proxied-viewers', 'Authorization: Bearer alice-token'],
      certs.frontProxy,
    );
    expect(res.status).toBe(200);
    const view = JSON.parse(res.body) as DownstreamView;
    expect(view.lines.slice(0, 1)).toEqual([['x-remote-user', 'alice']]);
    expect(view.lines.filter(([, v]) => v === 'proxied-viewers')).toEqual([]);
    expect(api.reviews.subjectAccessReviews.map((r) => r.spec.user)).toEqual(['alice']);
  });
});
