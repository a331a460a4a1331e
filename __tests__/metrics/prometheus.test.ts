import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import express from 'express';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry, register as globalRegistry } from 'prom-client';
import { kubeletAuth, type DecisionEvent } from '../../lib/index.js';
import { prometheusMetrics, METRIC_NAMES } from '../../lib/metrics/prometheus.js';
import {
  createCA,
  mintClientCert,
  type IssuedCertificate,
  type StandInApiServer,
} from '../../lib/testing/index.js';
import { registerSecrets } from '../support/secrets.js';
import { silentLogger } from '../../lib/logger.js';
import {
  call,
  close,
  listen,
  makePki,
  startPolicyApiServer,
  type Pki,
} from '../integration/harness.js';

let pki: Pki;
let api: StandInApiServer;

beforeAll(async () => {
  pki = await makePki();
  api = await startPolicyApiServer();
});
afterAll(() => api.close());

/** A kubelet-like app with metrics in its own registry; `stale` turns stale-if-error on. */
async function start(staleIfError?: string) {
  const registry = new Registry();
  const auth = kubeletAuth({
    nodeName: 'node-a',
    kubeConfig: api.kubeConfig,
    timeout: '2s',
    authentication: {
      x509: { clientCAFile: pki.clientCAFile },
      anonymous: { enabled: true },
      webhook: { cacheTTL: '1ms' },
    },
    authorization: { webhook: { cacheAuthorizedTTL: '1ms', cacheUnauthorizedTTL: '1ms' } },
    logger: silentLogger,
    metrics: prometheusMetrics({ registry }),
    ...(staleIfError ? { staleIfError } : {}),
  });
  const app = express();
  app.use(auth);
  app.get('/{*rest}', (_req, res) => res.send('ok'));
  const server = await listen(pki, app);
  return { registry, server, auth };
}

/**
 * The sum of a metric's series matching `labels` (a histogram's `_count` series with `count`),
 * 0 when none match.
 */
async function value(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
  count = false,
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`${name} is not registered`);
  const { values } = await metric.get();
  const wanted = Object.entries(labels);
  return values
    .filter((v) => {
      const series = (v as { metricName?: string }).metricName;
      return count ? series === `${name}_count` : series === undefined || series === name;
    })
    .filter((v) => wanted.every(([k, want]) => v.labels[k] === want))
    .reduce((sum, v) => sum + v.value, 0);
}

/** A histogram's observation count for the labels. */
const observations = (registry: Registry, name: string, labels: Record<string, string>) =>
  value(registry, name, labels, true);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('prometheusMetrics through kubeletAuth', () => {
  let server: Server;
  let registry: Registry;
  let auth: ReturnType<typeof kubeletAuth>;
  beforeEach(async () => {
    api.setFault();
    api.resetReviews();
    ({ registry, server, auth } = await start());
  });
  afterEach(async () => {
    auth.close();
    await close(server);
  });

  test('authentication attempts by method and result, with durations', async () => {
    const n = METRIC_NAMES;
    await call(server, pki, '/stats/summary', { authorization: 'Bearer alice-token' }).expect(200);
    await call(server, pki, '/stats/summary', { authorization: 'Bearer nope-token' }).expect(401);
    await call(server, pki, '/stats/summary', { cert: pki.certs.alice }).expect(200);
    await call(server, pki, '/stats/summary', { cert: pki.certs.expired }).expect(401);
    await call(server, pki, '/healthz').expect(403); // anonymous, denied by RBAC
    api.setFault({ type: 'status', status: 400 });
    await call(server, pki, '/stats/summary', { authorization: 'Bearer bob-token' }).expect(401);
    api.setFault();

    const attempts = (labels: Record<string, string>) =>
      value(registry, n.authenticationAttempts, labels);
    expect(await attempts({ method: 'token', result: 'success' })).toBe(1);
    expect(await attempts({ method: 'token', result: 'failure' })).toBe(1);
    expect(await attempts({ method: 'token', result: 'error' })).toBe(1);
    expect(await attempts({ method: 'x509', result: 'success' })).toBe(1);
    expect(await attempts({ method: 'x509', result: 'failure' })).toBe(1);
    expect(await attempts({ method: 'anonymous', result: 'success' })).toBe(1);
    expect(await attempts({})).toBe(6);
    expect(
      await observations(registry, n.authenticationDuration, {
        method: 'token',
        result: 'success',
      }),
    ).toBe(1);
  });

  test('review requests by status code match what reached the API server; in flight returns to 0', async () => {
    const n = METRIC_NAMES;
    await call(server, pki, '/stats/summary', { authorization: 'Bearer alice-token' }).expect(200);
    await call(server, pki, '/pods', { authorization: 'Bearer bob-token' }).expect(403);
    api.setFault({ type: 'status', status: 500, times: 1 });
    await sleep(5); // let the 1 ms caches expire
    await call(server, pki, '/stats/summary', { authorization: 'Bearer alice-token' }).expect(200);

    const tokenReviews = api.reviews.tokenReviews.length;
    const sars = api.reviews.subjectAccessReviews.length;
    // The 500 was retried: one TokenReview request answered 500, then one 201.
    expect(await value(registry, n.authnRequests, { code: '500' })).toBe(1);
    expect(await value(registry, n.authnRequests, { code: '201' })).toBe(tokenReviews - 1);
    expect(await value(registry, n.authzRequests, { code: '201' })).toBe(sars);
    expect(await observations(registry, n.authzRequestDuration, { code: '201' })).toBe(sars);
    expect(await value(registry, n.authnInFlight)).toBe(0);
    expect(await value(registry, n.authzInFlight)).toBe(0);
  });

  test('a review with no answer is counted with code <error>', async () => {
    api.setFault({ type: 'reset' });
    await call(server, pki, '/stats/summary', { authorization: 'Bearer alice-token' }).expect(401);
    expect(await value(registry, METRIC_NAMES.authnRequests, { code: '<error>' })).toBeGreaterThan(
      0,
    );
    expect(await value(registry, METRIC_NAMES.authnInFlight)).toBe(0);
  });

  test('authorization decisions by decision and subresource', async () => {
    const n = METRIC_NAMES;
    await call(server, pki, '/stats/summary', { authorization: 'Bearer alice-token' }).expect(200);
    await call(server, pki, '/pods', { authorization: 'Bearer alice-token' }).expect(200);
    await call(server, pki, '/pods', { authorization: 'Bearer bob-token' }).expect(403);
    api.setFault({ type: 'both-allowed-and-denied' });
    await call(server, pki, '/metrics', { cert: pki.certs.alice }).expect(500);
    api.setFault();
    await call(server, pki, '/stats/summary', { authorization: 'Bearer nope-token' }).expect(401);

    const decisions = (labels: Record<string, string>) =>
      value(registry, n.authorizationDecisions, labels);
    expect(await decisions({ decision: 'allowed', resource: 'nodes', subresource: 'stats' })).toBe(
      1,
    );
    expect(await decisions({ decision: 'allowed', subresource: 'pods' })).toBe(1);
    // A plain forbidden list is labelled with the first record asked.
    expect(await decisions({ decision: 'denied', subresource: 'pods' })).toBe(1);
    expect(await decisions({ decision: 'error', subresource: 'metrics' })).toBe(1);
    // 401s are authentication outcomes, not authorization decisions.
    expect(await decisions({})).toBe(4);
  });
});

describe('front-proxy attempts', () => {
  let server: Server;
  let registry: Registry;
  let auth: ReturnType<typeof kubeletAuth>;
  let frontProxy: IssuedCertificate;
  const events: DecisionEvent[] = [];

  beforeAll(async () => {
    const frontProxyCA = await createCA({ commonName: 'front-proxy-ca' });
    frontProxy = await mintClientCert({ ca: frontProxyCA, user: 'front-proxy-client' });
    registerSecrets(frontProxyCA.key, frontProxy.key);
    const dir = mkdtempSync(join(tmpdir(), 'eka-metrics-'));
    const frontProxyCAFile = join(dir, 'front-proxy-ca.crt');
    writeFileSync(frontProxyCAFile, frontProxyCA.cert);
    registry = new Registry();
    auth = kubeletAuth({
      nodeName: 'node-a',
      kubeConfig: api.kubeConfig,
      authentication: {
        requestHeader: { clientCAFile: frontProxyCAFile, allowedNames: ['front-proxy-client'] },
        x509: { clientCAFile: pki.clientCAFile },
        anonymous: { enabled: true },
      },
      logger: silentLogger,
      metrics: prometheusMetrics({ registry }),
      onDecision: (event) => events.push(event),
    });
    const app = express().use(auth);
    app.get('/{*rest}', (_req, res) => res.send('ok'));
    server = await listen(pki, app);
  });
  afterAll(async () => {
    auth.close();
    await close(server);
  });

  const attempts = (labels: Record<string, string>) =>
    value(registry, METRIC_NAMES.authenticationAttempts, labels);

  test('only requests naming a user in a front-proxy header count as requestheader attempts', async () => {
    const statsSummary = () => call(server, pki, '/stats/summary', { cert: pki.certs.alice });
    // Ordinary client-certificate traffic: no front-proxy attempt, whatever the certificate.
    await statsSummary().expect(200);
    await statsSummary().expect(200);
    await call(server, pki, '/stats/summary', { cert: pki.certs.wrongCA }).expect(401);
    await call(server, pki, '/stats/summary', { authorization: 'Bearer alice-token' }).expect(200);
    expect(await attempts({ method: 'requestheader' })).toBe(0);
    expect(await attempts({ method: 'x509', result: 'success' })).toBe(2);
    expect(await attempts({ method: 'x509', result: 'failure' })).toBe(1);

    // A user name header sent with a certificate that is not a front proxy's: a failed attempt
    // (the client certificate then authenticates the request).
    await statsSummary().set('X-Remote-User', 'root').expect(200);
    // From the front proxy: a successful one.
    await call(server, pki, '/stats/summary', { cert: frontProxy })
      .set('X-Remote-User', 'alice')
      .expect(200);
    // The front proxy's certificate without a user name: no attempt (and not a client's either).
    await call(server, pki, '/stats/summary', { cert: frontProxy }).expect(401);
    expect(await attempts({ method: 'requestheader', result: 'failure' })).toBe(1);
    expect(await attempts({ method: 'requestheader', result: 'success' })).toBe(1);
    expect(await attempts({ method: 'requestheader' })).toBe(2);
  });

  test('a certificate no authenticator accepts still never becomes anonymous', async () => {
    // Signed by the client CA, but without a CN: the client-certificate authenticator finds no
    // user in it, and the front-proxy one refuses it, as upstream does.
    await call(server, pki, '/stats/summary', { cert: pki.certs.emptyCN }).expect(401);
    expect(await attempts({ method: 'anonymous' })).toBe(0);
  });

  test('a 401 names the refusal of the credentials the request tried', async () => {
    events.length = 0;
    await call(server, pki, '/stats/summary', { cert: pki.certs.wrongCA }).expect(401);
    expect(events).toHaveLength(1);
    expect(events[0]?.reason).toMatch(/^verifying certificate SN=\d+ failed: x509: /);
  });
});

describe('cache metrics and stale-if-error', () => {
  test('token and decision caches count hits and misses', async () => {
    const registry = new Registry();
    const auth = kubeletAuth({
      nodeName: 'node-a',
      kubeConfig: api.kubeConfig,
      logger: silentLogger,
      metrics: prometheusMetrics({ registry }),
    });
    const app = express().use(auth);
    app.get('/{*rest}', (_req, res) => res.send('ok'));
    const server = await listen(pki, app);
    try {
      for (let i = 0; i < 3; i++) {
        await call(server, pki, '/stats/summary', { authorization: 'Bearer alice-token' }).expect(
          200,
        );
      }
      const n = METRIC_NAMES;
      expect(await value(registry, n.tokenCache, { status: 'miss' })).toBe(1);
      expect(await value(registry, n.tokenCache, { status: 'hit' })).toBe(2);
      expect(await value(registry, n.decisionCache, { status: 'miss' })).toBe(1);
      expect(await value(registry, n.decisionCache, { status: 'hit' })).toBe(2);
    } finally {
      auth.close();
      await close(server);
    }
  });

  test('staleIfError serves expired answers while the API server fails, and counts them', async () => {
    api.setFault();
    const { registry, server, auth } = await start('1h');
    try {
      await call(server, pki, '/stats/summary', { authorization: 'Bearer alice-token' }).expect(
        200,
      );
      await call(server, pki, '/pods', { authorization: 'Bearer bob-token' }).expect(403);
      await sleep(5); // both 1 ms caches have expired
      api.setFault({ type: 'status', status: 503 });
      api.resetReviews();
      await call(server, pki, '/stats/summary', { authorization: 'Bearer alice-token' }).expect(
        200,
      );
      // A stale denial stays a denial.
      await call(server, pki, '/pods', { authorization: 'Bearer bob-token' }).expect(403);
      // Nothing stale to serve for a token never seen: the kubelet's 401.
      await call(server, pki, '/stats/summary', { authorization: 'Bearer admin-token' }).expect(
        401,
      );
      expect(api.reviews.tokenReviews.length).toBeGreaterThanOrEqual(3);
      expect(await value(registry, METRIC_NAMES.tokenCache, { status: 'stale' })).toBe(2);
      expect(await value(registry, METRIC_NAMES.decisionCache, { status: 'stale' })).toBe(3);
    } finally {
      api.setFault();
      auth.close();
      await close(server);
    }
  });

  test('without staleIfError the same failure is the kubelet 401', async () => {
    api.setFault();
    const { server, auth } = await start();
    try {
      await call(server, pki, '/stats/summary', { authorization: 'Bearer alice-token' }).expect(
        200,
      );
      await sleep(5);
      api.setFault({ type: 'status', status: 503 });
      await call(server, pki, '/stats/summary', { authorization: 'Bearer alice-token' }).expect(
        401,
      );
    } finally {
      api.setFault();
      auth.close();
      await close(server);
    }
  });
});

describe('nothing is registered unless asked', () => {
  test('kubeletAuth without metrics leaves the global registry empty', async () => {
    const auth = kubeletAuth({ nodeName: 'node-a', kubeConfig: api.kubeConfig });
    auth.close();
    expect(globalRegistry.getMetricsAsArray()).toHaveLength(0);
  });

  test('two calls on one registry share the metrics', () => {
    const registry = new Registry();
    const a = prometheusMetrics({ registry });
    const b = prometheusMetrics({ registry });
    a.cacheLookup?.('token', 'hit');
    b.cacheLookup?.('token', 'hit');
    expect(registry.getMetricsAsArray()).toHaveLength(Object.keys(METRIC_NAMES).length);
    return expect(value(registry, METRIC_NAMES.tokenCache, { status: 'hit' })).resolves.toBe(2);
  });
});
