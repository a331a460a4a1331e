import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent, createServer, request as httpsRequest, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { ClusterAuthentication } from '../../../lib/authn/cluster-authentication/cluster-authentication.js';
import { authenticateUnion, NO_CREDENTIALS } from '../../../lib/authn/request-authenticator.js';
import { RequestHeaderAuthenticator } from '../../../lib/authn/request-header.js';
import { ClientCertStrategy } from '../../../lib/authn/x509.js';
import type { AuthnOutcome } from '../../../lib/contracts.js';
import { KubeletAuthError } from '../../../lib/errors.js';
import {
  createCA,
  extensionApiserverAuthentication,
  mintClientCert,
  mintServingCert,
  startApiServer,
  type CertificateAuthority,
  type IssuedCertificate,
  type StandInApiServer,
} from '../../../lib/testing/index.js';
import { record, registerSecrets } from '../../support/secrets.js';

/**
 * client ──TLS──▶ app (front proxy, then client certificate, configured from the stand-in API
 * server's extension-apiserver-authentication ConfigMap through client-node) ──▶ who it is.
 */
const NS = 'kube-system';
const NAME = 'extension-apiserver-authentication';

let api: StandInApiServer;
let app: Server;
let serving: IssuedCertificate;
let cas: Record<'client1' | 'client2' | 'proxy1' | 'proxy2', CertificateAuthority>;
let certs: Record<'alice1' | 'alice2' | 'proxy1' | 'proxy2' | 'otherProxy', IssuedCertificate>;
/** What the app authenticates with; each test sets it. */
let authenticate: (req: IncomingMessage) => AuthnOutcome;
const open: { close(): void }[] = [];

beforeAll(async () => {
  const [client1, client2, proxy1, proxy2] = await Promise.all([
    createCA({ commonName: 'client-ca-1' }),
    createCA({ commonName: 'client-ca-2' }),
    createCA({ commonName: 'front-proxy-ca-1' }),
    createCA({ commonName: 'front-proxy-ca-2' }),
  ]);
  cas = {
    client1: client1 as CertificateAuthority,
    client2: client2 as CertificateAuthority,
    proxy1: proxy1 as CertificateAuthority,
    proxy2: proxy2 as CertificateAuthority,
  };
  const minted = await Promise.all([
    mintClientCert({ ca: cas.client1, user: 'alice', groups: ['devs'] }),
    mintClientCert({ ca: cas.client2, user: 'alice', groups: ['devs'] }),
    mintClientCert({ ca: cas.proxy1, user: 'front-proxy-client' }),
    mintClientCert({ ca: cas.proxy2, user: 'front-proxy-client' }),
    mintClientCert({ ca: cas.proxy1, user: 'other-proxy' }),
    mintServingCert({ hosts: ['127.0.0.1'] }),
  ]);
  const [alice1, alice2, p1, p2, otherProxy] = minted as IssuedCertificate[];
  certs = {
    alice1: alice1 as IssuedCertificate,
    alice2: alice2 as IssuedCertificate,
    proxy1: p1 as IssuedCertificate,
    proxy2: p2 as IssuedCertificate,
    otherProxy: otherProxy as IssuedCertificate,
  };
  serving = minted[5] as IssuedCertificate;
  registerSecrets(...Object.values(cas).map((c) => c.key), ...minted.map((c) => c.key));
  api = await startApiServer();
  registerSecrets(api.callerToken, api.authority.key);
  app = createServer(
    { key: serving.key, cert: serving.cert, requestCert: true, rejectUnauthorized: false },
    (req: IncomingMessage, res: ServerResponse) => {
      const outcome = authenticate(req);
      res.writeHead(outcome.kind === 'user' ? 200 : 401, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify(
          outcome.kind === 'user'
            ? { user: outcome.user.username, groups: outcome.user.groups }
            : { kind: outcome.kind },
        ),
      );
    },
  );
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
});

afterEach(() => {
  for (const it of open.splice(0)) it.close();
  api.deleteConfigMap(NS, NAME);
  api.configMapRequests.length = 0;
});

afterAll(async () => {
  app.closeAllConnections();
  await new Promise((resolve) => app.close(resolve));
  await api.close();
});

/** A logger whose lines a test can wait for. */
function logs() {
  const lines: string[] = [];
  const waiting: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const push = (level: string) => (message: string) => {
    const line = `${level}: ${message}`;
    record(line);
    lines.push(line);
    for (const w of [...waiting]) {
      if (w.pattern.test(line)) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  return {
    lines,
    logger: { error: push('error'), warn: push('warn'), info: push('info'), debug: push('debug') },
    /** The next line matching `pattern` (lines already logged do not count). */
    next: (pattern: RegExp) => new Promise<string>((resolve) => waiting.push({ pattern, resolve })),
  };
}

/** A source for the stand-in API server, with the app authenticating through it. */
function start(options: { tolerateLookupFailure?: boolean; on?: StandInApiServer } = {}) {
  const log = logs();
  const cluster = new ClusterAuthentication({
    kubeConfig: (options.on ?? api).kubeConfig,
    logger: log.logger,
    ...(options.tolerateLookupFailure !== undefined
      ? { tolerateLookupFailure: options.tolerateLookupFailure }
      : {}),
  });
  open.push(cluster);
  const frontProxy = new RequestHeaderAuthenticator({
    bundle: cluster.requestHeaderCA,
    settings: cluster.requestHeader,
    logger: log.logger,
  });
  const x509 = new ClientCertStrategy({ bundle: cluster.clientCA, logger: log.logger });
  authenticate = (req) =>
    authenticateUnion([frontProxy, x509], req, NO_CREDENTIALS) as AuthnOutcome;
  return { cluster, log };
}

function publish(config: Parameters<typeof extensionApiserverAuthentication>[0]): void {
  api.setConfigMap(NS, NAME, extensionApiserverAuthentication(config));
}

interface Answer {
  status: number;
  body: { user?: string; groups?: string[]; kind?: string };
}

/** One request to the app with `cert`, on a new connection unless an agent is given. */
function get(
  cert: IssuedCertificate | undefined,
  headers: Record<string, string> = {},
  agent?: Agent,
): Promise<Answer> {
  const port = (app.address() as AddressInfo).port;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        headers,
        ...(agent
          ? { agent }
          : { agent: false, ca: serving.cert, cert: cert?.cert, key: cert?.key }),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const ALICE = { status: 200, body: { user: 'alice', groups: ['devs', 'system:authenticated'] } };
const REFUSED = { status: 401, body: { kind: 'refused' } };

describe('ClusterAuthentication: loading and live reload', () => {
  it('authenticates client certificates and front proxies with what the ConfigMap says', async () => {
    publish({
      clientCA: cas.client1.cert,
      requestHeaderCA: cas.proxy1.cert,
      allowedNames: ['front-proxy-client'],
    });
    const { cluster, log } = start();
    await cluster.ready;
    expect(log.lines).toEqual([
      expect.stringMatching(
        /^info: configmap kube-system\/extension-apiserver-authentication: loaded client-ca-file \(1 certificate\), requestheader-client-ca-file \(1 certificate\) and the requestheader-\* settings from resourceVersion \d+$/,
      ),
    ]);
    expect(await get(certs.alice1)).toEqual(ALICE);
    expect(await get(certs.proxy1, { 'X-Remote-User': 'bob', 'X-Remote-Group': 'ops' })).toEqual({
      status: 200,
      body: { user: 'bob', groups: ['ops', 'system:authenticated'] },
    });
    // Not an allowed name: the headers are not believed.
    expect(await get(certs.otherProxy, { 'X-Remote-User': 'bob' })).toEqual(REFUSED);
    // One list, then one watch from the list's resourceVersion.
    expect(api.configMapRequests).toEqual([
      { verb: 'list', namespace: NS, name: NAME },
      { verb: 'watch', namespace: NS, name: NAME, resourceVersion: expect.stringMatching(/^\d+$/) },
    ]);
  });

  it('takes a rotated client CA without a restart: the old certificate is refused, the new one accepted', async () => {
    publish({ clientCA: cas.client1.cert });
    const { cluster, log } = start();
    await cluster.ready;
    // A kept-alive connection, verified once under the old CA.
    const agent = new Agent({
      keepAlive: true,
      maxSockets: 1,
      ca: serving.cert,
      cert: certs.alice1.cert,
      key: certs.alice1.key,
    });
    try {
      expect(await get(undefined, {}, agent)).toEqual(ALICE);
      const loaded = log.next(/loaded client-ca-file/);
      publish({ clientCA: cas.client2.cert });
      await loaded;
      expect(await get(undefined, {}, agent)).toEqual(REFUSED);
      expect(await get(certs.alice1)).toEqual(REFUSED);
      expect(await get(certs.alice2)).toEqual(ALICE);
      expect(cluster.resourceVersion).toMatch(/^\d+$/);
    } finally {
      agent.destroy();
    }
  });

  it('follows the request-header settings live: CA, header names and allowed names as one', async () => {
    publish({ clientCA: cas.client1.cert, requestHeaderCA: cas.proxy1.cert });
    const { cluster, log } = start();
    await cluster.ready;
    expect(await get(certs.otherProxy, { 'X-Remote-User': 'bob' })).toMatchObject({ status: 200 });

    const loaded = log.next(/loaded requestheader-client-ca-file/);
    publish({
      clientCA: cas.client1.cert,
      requestHeaderCA: cas.proxy2.cert,
      allowedNames: ['front-proxy-client'],
      usernameHeaders: ['X-Proxy-User'],
      groupHeaders: ['X-Proxy-Group'],
    });
    expect(await loaded).toMatch(/\(1 certificate\) and the requestheader-\* settings/);
    // The old proxy CA is no longer trusted; the new one is, with the new header names.
    expect(await get(certs.proxy1, { 'X-Proxy-User': 'bob' })).toEqual(REFUSED);
    expect(
      await get(certs.proxy2, {
        'X-Proxy-User': 'carol',
        'X-Proxy-Group': 'ops',
        'X-Remote-User': 'mallory',
      }),
    ).toEqual({ status: 200, body: { user: 'carol', groups: ['ops', 'system:authenticated'] } });
    // The old header name names nobody now (and the proxy's certificate is no client's).
    expect(await get(certs.proxy2, { 'X-Remote-User': 'mallory' })).toEqual(REFUSED);
  });

  it('keeps the last good configuration, and says why, when the ConfigMap breaks', async () => {
    publish({ clientCA: cas.client1.cert, requestHeaderCA: cas.proxy1.cert });
    const { cluster, log } = start();
    await cluster.ready;
    const broken = log.next(/client-ca-file is not a valid CA bundle/);
    api.setConfigMap(NS, NAME, {
      ...extensionApiserverAuthentication({ requestHeaderCA: cas.proxy2.cert }),
      'client-ca-file': '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
      'requestheader-username-headers': '["X-Remote-User"',
    });
    expect(await broken).toBe(
      'warn: configmap kube-system/extension-apiserver-authentication: client-ca-file is not a valid CA bundle: certificate 1 of the bundle cannot be parsed; keeping the one read last, if any',
    );
    expect(log.lines).toContain(
      'warn: configmap kube-system/extension-apiserver-authentication: requestheader-username-headers is not JSON (expected an array of strings); keeping the one read last, if any',
    );
    expect(await get(certs.alice1)).toEqual(ALICE);
    // The request-header part is kept whole: still the first proxy CA.
    expect(await get(certs.proxy1, { 'X-Remote-User': 'bob' })).toMatchObject({ status: 200 });
    expect(await get(certs.proxy2, { 'X-Remote-User': 'bob' })).toEqual(REFUSED);

    // Fixed again: taken at once, the problem not told twice.
    const fixed = log.next(/loaded/);
    publish({ clientCA: cas.client2.cert, requestHeaderCA: cas.proxy2.cert });
    await fixed;
    expect(await get(certs.alice2)).toEqual(ALICE);
    expect(log.lines.filter((l) => l.startsWith('warn:'))).toHaveLength(2);
  });

  it('keeps the configuration read last when the ConfigMap is deleted, and takes a new one', async () => {
    publish({ clientCA: cas.client1.cert });
    const { cluster, log } = start();
    await cluster.ready;
    const deleted = log.next(/deleted/);
    api.deleteConfigMap(NS, NAME);
    expect(await deleted).toBe(
      'warn: configmap kube-system/extension-apiserver-authentication: deleted; keeping the configuration read last, and watching for a new one',
    );
    expect(await get(certs.alice1)).toEqual(ALICE);
    const loaded = log.next(/loaded client-ca-file/);
    publish({ clientCA: cas.client2.cert });
    await loaded;
    expect(await get(certs.alice2)).toEqual(ALICE);
  });
});

describe('ClusterAuthentication: the watch', () => {
  it('watches again from the last resourceVersion when the API server drops the watch', async () => {
    publish({ clientCA: cas.client1.cert });
    const { cluster, log } = start();
    await cluster.ready;
    // The watch brings a change, so it worked before it was dropped.
    let loaded = log.next(/loaded client-ca-file/);
    publish({ clientCA: cas.client2.cert });
    await loaded;
    const seen = cluster.resourceVersion;
    const again = api.nextWatch();
    expect(api.dropWatches()).toBe(1);
    expect(await again).toEqual({
      verb: 'watch',
      namespace: NS,
      name: NAME,
      resourceVersion: seen,
    });
    // No second list: the watch carried on.
    expect(api.configMapRequests.map((r) => r.verb)).toEqual(['list', 'watch', 'watch']);
    loaded = log.next(/loaded client-ca-file/);
    publish({ clientCA: cas.client1.cert });
    await loaded;
    expect(await get(certs.alice1)).toEqual(ALICE);
    expect(await get(certs.alice2)).toEqual(REFUSED);
  });

  it('lists again when its resourceVersion expired (410 Gone), then watches from the new one', async () => {
    publish({ clientCA: cas.client1.cert });
    const { cluster, log } = start();
    await cluster.ready;
    await waitForWatches(1);
    const again = api.nextWatch();
    api.dropWatches({ expired: true });
    const watch = await again;
    const verbs = api.configMapRequests.map((r) => r.verb);
    expect(verbs).toEqual(['list', 'watch', 'list', 'watch']);
    expect(Number(watch.resourceVersion)).toBeGreaterThanOrEqual(Number(cluster.resourceVersion));
    expect(log.lines).toContainEqual(
      expect.stringMatching(/expired \(410 Gone\); reading the ConfigMap again$/),
    );
    const loaded = log.next(/loaded client-ca-file/);
    publish({ clientCA: cas.client2.cert });
    await loaded;
    expect(await get(certs.alice2)).toEqual(ALICE);
  });

  it('close() stops the watch: no connection stays open, and later changes are not taken', async () => {
    publish({ clientCA: cas.client1.cert });
    const { cluster } = start();
    await cluster.ready;
    await waitForWatches(1);
    cluster.close();
    await waitForWatches(0);
    publish({ clientCA: cas.client2.cert });
    expect(await get(certs.alice1)).toEqual(ALICE);
    expect(api.configMapRequests.map((r) => r.verb)).toEqual(['list', 'watch']);
  });
});

describe('ClusterAuthentication: a ConfigMap that cannot be read', () => {
  it('missing: ready resolves, one warning, certificates refused until the ConfigMap appears', async () => {
    const { cluster, log } = start();
    await cluster.ready;
    expect(log.lines).toEqual([
      'warn: configmap kube-system/extension-apiserver-authentication: not found; client certificates and front proxies are refused until it exists (watching for it)',
    ]);
    expect(await get(certs.alice1)).toEqual(REFUSED);
    const loaded = log.next(/loaded client-ca-file/);
    publish({ clientCA: cas.client1.cert });
    await loaded;
    expect(await get(certs.alice1)).toEqual(ALICE);
  });

  it('API server down at start: ready rejects, and the configuration is read once it is back', async () => {
    publish({ clientCA: cas.client1.cert });
    await api.setFault({ type: 'refuse' });
    const { cluster, log } = start();
    const loaded = log.next(/loaded client-ca-file/);
    try {
      await expect(cluster.ready).rejects.toMatchObject({
        code: 'ERR_CLUSTER_AUTHENTICATION',
        message:
          'configmap kube-system/extension-apiserver-authentication: cannot be read (ECONNREFUSED)',
      });
    } finally {
      await api.setFault();
    }
    await loaded;
    expect(log.lines).toContain(
      'info: configmap kube-system/extension-apiserver-authentication: read again',
    );
    expect(await get(certs.alice1)).toEqual(ALICE);
  });

  describe('forbidden (the caller has no RBAC for it)', () => {
    let guarded: StandInApiServer;
    beforeAll(async () => {
      guarded = await startApiServer({ authorizeReads: true, policy: { defaults: true } });
      registerSecrets(guarded.callerToken, guarded.authority.key);
      guarded.setConfigMap(
        NS,
        NAME,
        extensionApiserverAuthentication({ clientCA: cas.client1.cert }),
      );
    });
    afterAll(() => guarded.close());

    const FORBIDDEN =
      'configmap kube-system/extension-apiserver-authentication: cannot be read (HTTP 403): bind the Role extension-apiserver-authentication-reader in kube-system to this client';

    it('not tolerated: ready rejects with a clear error, one error line, certificates refused', async () => {
      const { cluster, log } = start({ on: guarded });
      await expect(cluster.ready).rejects.toThrow(
        new KubeletAuthError('ERR_CLUSTER_AUTHENTICATION', FORBIDDEN),
      );
      await expect(cluster.ready).rejects.toMatchObject({ code: 'ERR_CLUSTER_AUTHENTICATION' });
      expect(log.lines).toEqual([
        `error: ${FORBIDDEN}; client certificates and front proxies are refused until it is read (set tolerateLookupFailure to start anyway)`,
      ]);
      expect(await get(certs.alice1)).toEqual(REFUSED);
    });

    it('tolerated: ready resolves with a warning; once RBAC allows it, the configuration is read', async () => {
      const { cluster, log } = start({ on: guarded, tolerateLookupFailure: true });
      await cluster.ready;
      expect(log.lines).toEqual([
        `warn: ${FORBIDDEN}; carrying on (tolerateLookupFailure): client certificates and front proxies are refused until it is read`,
      ]);
      expect(await get(certs.alice1)).toEqual(REFUSED);
      // The RoleBinding the guide gives, for the caller's own user.
      const loaded = log.next(/loaded client-ca-file/);
      guarded.setPolicy({
        defaults: true,
        rbac: [
          {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'RoleBinding',
            metadata: { name: 'my-server:authentication-reader', namespace: 'kube-system' },
            roleRef: {
              apiGroup: 'rbac.authorization.k8s.io',
              kind: 'Role',
              name: 'extension-apiserver-authentication-reader',
            },
            subjects: [
              { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'system:node:node-a' },
            ],
          },
        ],
      });
      await loaded;
      expect(log.lines).toContain(
        'info: configmap kube-system/extension-apiserver-authentication: read again',
      );
      expect(await get(certs.alice1)).toEqual(ALICE);
      guarded.setPolicy({ defaults: true });
    });
  });
});

describe('ClusterAuthentication: options', () => {
  it.each([
    [
      { tolerateLookupFailur: true },
      'ClusterAuthentication: unknown option "tolerateLookupFailur" (did you mean "tolerateLookupFailure"?)',
    ],
    [
      { tolerateInClusterLookupFailure: true },
      'ClusterAuthentication: unknown option "tolerateInClusterLookupFailure" (did you mean "tolerateLookupFailure"?)',
    ],
    [
      { namespace: 'Kube_System' },
      'ClusterAuthentication: namespace: not a namespace name: "Kube_System"',
    ],
    [{ name: '' }, 'ClusterAuthentication: name: not a ConfigMap name: ""'],
    [
      { tolerateLookupFailure: 'yes' },
      'ClusterAuthentication: tolerateLookupFailure: expected true or false, got "yes"',
    ],
    [{ timeout: '0s' }, 'ClusterAuthentication: timeout: must be more than zero'],
  ])('refuses %p at construction', (options, message) => {
    expect(
      () => new ClusterAuthentication({ kubeConfig: api.kubeConfig, ...(options as object) }),
    ).toThrow(new KubeletAuthError('ERR_INVALID_OPTION', message));
  });
});

/** Waits until the stand-in API server has `n` ConfigMap watches open. */
async function waitForWatches(n: number): Promise<void> {
  for (let i = 0; api.openWatches !== n; i++) {
    if (i > 500) throw new Error(`expected ${n} open watches, have ${api.openWatches}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
