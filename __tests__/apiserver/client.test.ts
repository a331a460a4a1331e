/**
 * The review client against the stand-in API server over real HTTPS, through whichever
 * client-node major Jest resolves (1.x by default; 2.x with EKA_CLIENT_NODE=2, as
 * `npm run test:matrix` and CI run it): answers, keep-alive, retries, timeouts and metrics.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { KubeConfig, RequestContext, type User } from '@kubernetes/client-node';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { createReviewClient, type ReviewClientOptions } from '../../lib/apiserver/client.js';
import type { ReviewClient } from '../../lib/apiserver/reviews.js';
import type { ReviewKind } from '../../lib/metrics/observer.js';
import {
  createCA,
  mintClientCert,
  startApiServer,
  type IssuedCertificate,
  type StandInApiServer,
} from '../../lib/testing/index.js';

/** 2.x's request context carries an undici dispatcher; 1.x's an https.Agent. */
const major = 'getDispatcher' in RequestContext.prototype ? 2 : 1;
const FAST_RETRY = { initialMs: 1, factor: 1, jitter: 0, attempts: 3 };

let api: StandInApiServer;
const clients: ReviewClient[] = [];
const finished: [ReviewKind, string][] = [];

/** A KubeConfig for the stand-in API server whose user is `user` (the cluster stays). */
function withUser(user: User): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: api.kubeConfig.clusters,
    contexts: api.kubeConfig.contexts,
    currentContext: api.kubeConfig.currentContext,
    users: [user],
  });
  return kubeConfig;
}

function client(options: ReviewClientOptions = {}, kubeConfig = api.kubeConfig): ReviewClient {
  const made = createReviewClient(kubeConfig, {
    backoff: FAST_RETRY,
    metrics: { reviewFinished: (kind, code) => finished.push([kind, code]) },
    ...options,
  });
  clients.push(made);
  return made;
}

beforeAll(async () => {
  api = await startApiServer({
    tokens: { 'alice-token': { username: 'alice', groups: ['viewers'] } },
    policy: {
      rbac: `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: alice-admin }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: alice }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: cluster-admin }
rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]
`,
    },
  });
});

afterAll(async () => {
  for (const made of clients) made.close?.();
  await api.close();
});

beforeEach(() => {
  api.setFault();
  finished.length = 0;
});

describe(`review client on client-node ${major}.x`, () => {
  it('runs on the major the matrix asked for', () => {
    expect(major).toBe(process.env.EKA_CLIENT_NODE === '2' ? 2 : 1);
  });

  it('sends a TokenReview and returns its status', async () => {
    const status = await client().tokenReview({ token: 'alice-token' });
    expect(status).toMatchObject({
      authenticated: true,
      user: { username: 'alice', groups: ['viewers'] },
    });
    expect(api.reviews.tokenReviews.at(-1)?.spec).toEqual({ token: 'alice-token' });
  });

  it('sends a SubjectAccessReview and returns its status', async () => {
    const status = await client().subjectAccessReview({
      user: 'alice',
      resourceAttributes: { verb: 'get', resource: 'nodes', subresource: 'stats', name: 'n' },
    });
    expect(status.allowed).toBe(true);
  });

  it('keeps one connection alive across reviews', async () => {
    const reviews = client();
    // undici (2.x) may open a second connection for the second request while the first one is
    // being released; after that, no review opens one.
    await reviews.tokenReview({ token: 'alice-token' });
    await reviews.tokenReview({ token: 'alice-token' });
    const before = api.connectionCount;
    for (let i = 0; i < 5; i++) await reviews.tokenReview({ token: 'alice-token' });
    expect(api.connectionCount).toBe(before);
  });

  it.each(['exec', 'auth-provider exec'])(
    'presents the client certificate an exec plugin (%s) hands out, and a new one once it rotates',
    async (form) => {
      const dir = mkdtempSync(join(tmpdir(), 'eka-exec-'));
      const handedOut = join(dir, 'credential.json');
      const plugin = join(dir, 'plugin.cjs');
      writeFileSync(
        plugin,
        `process.stdout.write(require('node:fs').readFileSync(${JSON.stringify(handedOut)}, 'utf8'));`,
      );
      const handOut = (cert: IssuedCertificate): void =>
        writeFileSync(
          handedOut,
          JSON.stringify({
            apiVersion: 'client.authentication.k8s.io/v1',
            kind: 'ExecCredential',
            status: {
              clientCertificateData: cert.cert,
              clientKeyData: cert.key,
              // Already expired, so client-node runs the plugin again for every request.
              expirationTimestamp: new Date(Date.now() - 60_000).toISOString(),
            },
          }),
        );
      const exec = {
        apiVersion: 'client.authentication.k8s.io/v1',
        command: process.execPath,
        args: [plugin],
        interactiveMode: 'Never',
      };
      const kubeConfig = withUser(
        form === 'exec'
          ? { name: 'stand-in-caller', exec }
          : { name: 'stand-in-caller', authProvider: { name: 'exec', config: { exec } } },
      );
      const stranger = await createCA({ commonName: 'not the API server CA' });
      const [trusted, untrusted] = await Promise.all([
        mintClientCert({ ca: api.authority, user: 'system:node:node-a' }),
        mintClientCert({ ca: stranger, user: 'system:node:node-a' }),
      ]);
      const reviews = client({}, kubeConfig);
      handOut(trusted);
      await expect(reviews.tokenReview({ token: 'alice-token' })).resolves.toMatchObject({
        authenticated: true,
      });
      // The API server refuses a certificate its CA did not sign: the new one was presented.
      handOut(untrusted);
      await expect(reviews.tokenReview({ token: 'alice-token' })).rejects.toMatchObject({
        code: 'ERR_TOKEN_REVIEW_FAILED',
        status: 401,
      });
      handOut(trusted);
      await expect(reviews.tokenReview({ token: 'alice-token' })).resolves.toMatchObject({
        authenticated: true,
      });
    },
  );

  it('never carries its own credential in an error: a token ending in a newline (client-node 1.x refuses to send it; 2.x trims it)', async () => {
    const kubeConfig = withUser({ name: 'stand-in-caller', token: `${api.callerToken}\n` });
    const outcome = await client({}, kubeConfig)
      .tokenReview({ token: 'alice-token' })
      .then(
        (status) => ({ status }),
        (error: unknown) => ({ error }),
      );
    if ('status' in outcome) {
      expect(outcome.status.authenticated).toBe(true);
    } else {
      expect(outcome.error).toMatchObject({ code: 'ERR_TOKEN_REVIEW_FAILED' });
      expect(inspect(outcome.error, { depth: 10 })).not.toContain(api.callerToken);
    }
    expect(major === 2 ? 'status' in outcome : 'error' in outcome).toBe(true);
  });

  it("never carries an exec plugin's arguments in an error: a plugin that cannot start", async () => {
    const secret = 'oidc-client-secret-3f9d';
    const kubeConfig = withUser({
      name: 'stand-in-caller',
      exec: {
        apiVersion: 'client.authentication.k8s.io/v1',
        command: join(mkdtempSync(join(tmpdir(), 'eka-exec-')), 'no-such-plugin'),
        args: [`--oidc-client-secret=${secret}`],
        interactiveMode: 'Never',
      },
    });
    const error = await client({}, kubeConfig)
      .tokenReview({ token: 'alice-token' })
      .then(
        () => undefined,
        (failure: unknown) => failure,
      );
    expect(error).toMatchObject({ code: 'ERR_TOKEN_REVIEW_FAILED' });
    expect(inspect(error, { depth: 10 })).not.toContain(secret);
  });

  it.each(['the port is closed', "the server's certificate is not from the kubeconfig's CA"])(
    'keeps the connection failure as the cause when %s',
    async (what) => {
      const other = await createCA({ commonName: 'not the API server CA' });
      // A port that was just free: nothing listens on it.
      const probe = createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const closedPort = (probe.address() as AddressInfo).port;
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      const cluster = api.kubeConfig.getCurrentCluster();
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromOptions({
        clusters: [
          what === 'the port is closed'
            ? { ...cluster, name: 'stand-in', server: `https://127.0.0.1:${closedPort}` }
            : {
                ...cluster,
                name: 'stand-in',
                caData: Buffer.from(other.cert).toString('base64'),
                caFile: undefined,
              },
        ],
        contexts: api.kubeConfig.contexts,
        currentContext: api.kubeConfig.currentContext,
        users: api.kubeConfig.users,
      });
      const error = await client({}, kubeConfig)
        .tokenReview({ token: 'alice-token' })
        .then(
          () => undefined,
          (failure: unknown) => failure as { code?: string; cause?: unknown },
        );
      expect(error?.code).toBe('ERR_TOKEN_REVIEW_FAILED');
      expect(error?.cause).toBeInstanceOf(Error);
    },
  );

  it('fails on an answer cut short, without retrying it (as upstream: not a connection reset)', async () => {
    api.setFault({ type: 'reset', times: 1 });
    const before = api.requestCount;
    await expect(client().tokenReview({ token: 'alice-token' })).rejects.toMatchObject({
      code: 'ERR_TOKEN_REVIEW_FAILED',
    });
    expect(api.requestCount - before).toBe(1);
    expect(finished).toEqual([['TokenReview', '<error>']]);
  });

  it('retries a 500, and reports its status code', async () => {
    api.setFault({ type: 'status', status: 500, times: 2 });
    const status = await client().tokenReview({ token: 'alice-token' });
    expect(status.authenticated).toBe(true);
    expect(finished.map(([, code]) => code)).toEqual(['500', '500', '201']);
  });

  it('does not retry a 403 for the reviewer itself', async () => {
    api.setFault({ type: 'status', status: 403 });
    const before = api.requestCount;
    await expect(client().tokenReview({ token: 'alice-token' })).rejects.toMatchObject({
      code: 'ERR_TOKEN_REVIEW_FAILED',
      status: 403,
    });
    expect(api.requestCount - before).toBe(1);
  });

  it('gives up at its deadline when the API server does not answer', async () => {
    api.setFault({ type: 'hang' });
    await expect(
      client({ timeoutMs: 200 }).subjectAccessReview({
        user: 'alice',
        nonResourceAttributes: { path: '/healthz', verb: 'get' },
      }),
    ).rejects.toMatchObject({ code: 'ERR_REVIEW_TIMEOUT' });
    expect(finished).toEqual([['SubjectAccessReview', '<error>']]);
  });
});
