import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import express from 'express';
import type { Server } from 'node:https';
import { Registry, register as globalRegistry } from 'prom-client';
import { kubeletAuth } from '../../lib/index.js';
import { prometheusMetrics, METRIC_NAMES } from '../../lib/metrics/prometheus.js';
import type { StandInApiServer } from '../../lib/testing/index.js';
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
