import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { kubeletAuth, KubeletAuthError } from '../../lib/index.js';
import type { KubeletAuthOptions } from '../../lib/options.js';
import {
  createCA,
  extensionApiserverAuthentication,
  mintClientCert,
  startApiServer,
  type CertificateAuthority,
  type IssuedCertificate,
  type StandInApiServer,
} from '../../lib/testing/index.js';
import { record, registerSecrets } from '../support/secrets.js';
import { call, close, listen, makePki, startPolicyApiServer, type Pki } from './harness.js';

/**
 * kubeletAuth with `authentication.clusterAuthentication`: the client CA and the front-proxy
 * configuration come from the stand-in API server's extension-apiserver-authentication
 * ConfigMap, read and watched through client-node, and change under a running server.
 */
const NS = 'kube-system';
const NAME = 'extension-apiserver-authentication';

let pki: Pki;
let api: StandInApiServer;
let otherCA: CertificateAuthority;
let frontProxyCA: CertificateAuthority;
let certs: Record<'aliceOther' | 'frontProxy', IssuedCertificate>;
const servers: Server[] = [];
const closers: (() => void)[] = [];

beforeAll(async () => {
  [pki, api, otherCA, frontProxyCA] = await Promise.all([
    makePki(),
    startPolicyApiServer(),
    createCA({ commonName: 'other-client-ca' }),
    createCA({ commonName: 'front-proxy-ca' }),
  ]);
  const [aliceOther, frontProxy] = await Promise.all([
    mintClientCert({ ca: otherCA, user: 'alice', groups: ['devs'] }),
    mintClientCert({ ca: frontProxyCA, user: 'front-proxy-client' }),
  ]);
  certs = { aliceOther, frontProxy };
  registerSecrets(otherCA.key, frontProxyCA.key, aliceOther.key, frontProxy.key);
});

afterEach(async () => {
  closers.splice(0).forEach((c) => c());
  await Promise.all(servers.splice(0).map(close));
  api.deleteConfigMap(NS, NAME);
  api.configMapRequests.length = 0;
});

afterAll(() => api.close());

/** A logger whose lines a test can wait for. */
function logs() {
  const lines: string[] = [];
  const waiting: { pattern: RegExp; resolve: () => void }[] = [];
  const push = (level: string) => (message: string) => {
    const line = `${level}: ${message}`;
    record(line);
    lines.push(line);
    for (const w of [...waiting]) {
      if (w.pattern.test(line)) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  return {
    lines,
    logger: { error: push('error'), warn: push('warn'), info: push('info'), debug: push('debug') },
    next: (pattern: RegExp) => new Promise<void>((resolve) => waiting.push({ pattern, resolve })),
  };
}

/** A kubelet whose authentication comes from the cluster, with `authentication` on top. */
async function kubelet(
  authentication: KubeletAuthOptions['authentication'] = {},
  on: StandInApiServer = api,
) {
  const log = logs();
  const auth = kubeletAuth({
    nodeName: 'node-a',
    kubeConfig: on.kubeConfig,
    authentication: { clusterAuthentication: true, ...authentication },
    logger: log.logger,
  });
  closers.push(() => auth.close());
  const app = express();
  app.use(auth);
  app.get('/stats/summary', (req, res) =>
    res.json({ user: (req.user as { username: string }).username }),
  );
  const server = await listen(pki, app);
  servers.push(server);
  return { auth, server, log };
}

function publish(config: Parameters<typeof extensionApiserverAuthentication>[0]): void {
  api.setConfigMap(NS, NAME, extensionApiserverAuthentication(config));
}

describe('kubeletAuth({ authentication: { clusterAuthentication: true } })', () => {
  it('authenticates with the ConfigMap’s client CA and front proxy, and follows a rotation without restart', async () => {
    publish({
      clientCA: pki.clientCA.cert,
      requestHeaderCA: frontProxyCA.cert,
      allowedNames: ['front-proxy-client'],
    });
    const { auth, server, log } = await kubelet();
    await auth.ready;
    await call(server, pki, '/stats/summary', { cert: pki.certs.alice }).expect(200, {
      user: 'alice',
    });
    await call(server, pki, '/stats/summary', { cert: certs.frontProxy })
      .set('X-Remote-User', 'alice')
      .expect(200, { user: 'alice' });
    await call(server, pki, '/stats/summary', { cert: certs.aliceOther }).expect(401);

    const loaded = log.next(/loaded client-ca-file/);
    publish({ clientCA: otherCA.cert, requestHeaderCA: frontProxyCA.cert });
    await loaded;
    await call(server, pki, '/stats/summary', { cert: pki.certs.alice }).expect(
      401,
      'Unauthorized',
    );
    await call(server, pki, '/stats/summary', { cert: certs.aliceOther }).expect(200, {
      user: 'alice',
    });
    // Tokens never depended on the ConfigMap.
    await call(server, pki, '/stats/summary', { authorization: 'Bearer alice-token' }).expect(200);
  });

  it('a client CA file given here wins over client-ca-file; the front proxy still comes from the cluster', async () => {
    publish({ clientCA: otherCA.cert, requestHeaderCA: frontProxyCA.cert });
    const { auth, server } = await kubelet({ x509: { clientCAFile: pki.clientCAFile } });
    await auth.ready;
    await call(server, pki, '/stats/summary', { cert: pki.certs.alice }).expect(200, {
      user: 'alice',
    });
    await call(server, pki, '/stats/summary', { cert: certs.aliceOther }).expect(401);
    await call(server, pki, '/stats/summary', { cert: certs.frontProxy })
      .set('X-Remote-User', 'alice')
      .expect(200, { user: 'alice' });
  });

  it('with both set here, the ConfigMap is not read at all', async () => {
    publish({ clientCA: otherCA.cert });
    const dir = mkdtempSync(join(tmpdir(), 'eka-cluster-'));
    writeFileSync(join(dir, 'front-proxy-ca.crt'), frontProxyCA.cert);
    const { auth, server, log } = await kubelet({
      x509: { clientCAFile: pki.clientCAFile },
      requestHeader: { clientCAFile: join(dir, 'front-proxy-ca.crt') },
    });
    await auth.ready;
    await call(server, pki, '/stats/summary', { cert: pki.certs.alice }).expect(200);
    expect(api.configMapRequests).toEqual([]);
    expect(log.lines).toEqual([
      'info: authentication.clusterAuthentication: configmap kube-system/extension-apiserver-authentication not read: x509.clientCAFile and requestHeader are set here, and win over it',
    ]);
  });

  it('close() stops watching the ConfigMap', async () => {
    publish({ clientCA: pki.clientCA.cert });
    const { auth } = await kubelet();
    await auth.ready;
    await openWatches(1);
    auth.close();
    await openWatches(0);
  });
});

describe('kubeletAuth: a ConfigMap that cannot be read', () => {
  let guarded: StandInApiServer;
  beforeAll(async () => {
    guarded = await startApiServer({
      authorizeReads: true,
      tokens: { 'alice-token': { username: 'alice' } },
      policy: { rules: [{ users: ['alice'], verbs: ['get'], resources: ['nodes/stats'] }] },
    });
    registerSecrets(guarded.callerToken, guarded.authority.key);
  });
  afterAll(() => guarded.close());

  it('forbidden and not tolerated: ready rejects; certificates get 401, tokens still work', async () => {
    const { auth, server, log } = await kubelet({}, guarded);
    await expect(auth.ready).rejects.toThrow(KubeletAuthError);
    await expect(auth.ready).rejects.toMatchObject({
      code: 'ERR_CLUSTER_AUTHENTICATION',
      message:
        'configmap kube-system/extension-apiserver-authentication: cannot be read (HTTP 403): bind the Role extension-apiserver-authentication-reader in kube-system to this client',
    });
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatch(
      /^error: configmap kube-system\/extension-apiserver-authentication: cannot be read \(HTTP 403\)/,
    );
    await call(server, pki, '/stats/summary', { cert: pki.certs.alice }).expect(
      401,
      'Unauthorized',
    );
    await call(server, pki, '/stats/summary', { authorization: 'Bearer alice-token' }).expect(200, {
      user: 'alice',
    });
  });

  it('forbidden and tolerated: ready resolves with one warning', async () => {
    const { auth, log } = await kubelet(
      { clusterAuthentication: { tolerateLookupFailure: true } },
      guarded,
    );
    await auth.ready;
    expect(log.lines).toEqual([
      expect.stringMatching(
        /^warn: .*cannot be read \(HTTP 403\).*carrying on \(tolerateLookupFailure\)/,
      ),
    ]);
  });
});

describe('kubeletAuth: clusterAuthentication options', () => {
  it.each([
    [
      { tolerateLookupFailur: true },
      'authentication.clusterAuthentication: unknown option "tolerateLookupFailur" (did you mean "tolerateLookupFailure"?)',
    ],
    [
      'yes',
      'authentication.clusterAuthentication: expected true, false or { namespace?, name?, tolerateLookupFailure?, timeout? }',
    ],
    [
      { namespace: 'kube system' },
      'authentication.clusterAuthentication: namespace: not a namespace name: "kube system"',
    ],
    [{ timeout: 'soon' }, /^authentication\.clusterAuthentication: timeout: /],
  ])('refuses %p at construction', (option, message) => {
    expect(() =>
      kubeletAuth({
        nodeName: 'node-a',
        kubeConfig: api.kubeConfig,
        authentication: { clusterAuthentication: option as never },
      }),
    ).toThrow(message);
  });

  it('counts as an authentication method on its own', () => {
    const auth = kubeletAuth({
      nodeName: 'node-a',
      kubeConfig: api.kubeConfig,
      authentication: { webhook: { enabled: false }, clusterAuthentication: true },
      authorization: { mode: 'AlwaysAllow' },
      logger: logs().logger,
    });
    auth.close();
  });
});

/** Waits until the stand-in API server has `n` ConfigMap watches open. */
async function openWatches(n: number): Promise<void> {
  for (let i = 0; api.openWatches !== n; i++) {
    if (i > 500) throw new Error(`expected ${n} open watches, have ${api.openWatches}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
