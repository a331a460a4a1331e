/**
 * express-kubelet-auth/metrics: Prometheus metrics through prom-client (an optional peer).
 *
 * @module express-kubelet-auth/metrics
 */
import { Counter, Gauge, Histogram, register as defaultRegistry, type Registry } from 'prom-client';
import type { Attributes, DecisionEvent } from '../contracts.js';
import type {
  AuthenticationMethod,
  AuthenticationResult,
  AuthMetrics,
  CacheStatus,
  ReviewKind,
} from './observer.js';
import { checkKnownKeys, invalidOption, optionNames } from '../option-errors.js';

export type {
  AuthMetrics,
  AuthenticationMethod,
  AuthenticationResult,
  CacheStatus,
  ReviewKind,
} from './observer.js';

/** Options of {@link prometheusMetrics}. */
export interface PrometheusMetricsOptions {
  /** Where the metrics are registered. Default: prom-client's global `register`. */
  registry?: Registry;
}

/** The names, after the API server's and kubelet's own metrics where those exist. */
export const METRIC_NAMES = Object.freeze({
  authenticationAttempts: 'authentication_attempts',
  authenticationDuration: 'authentication_duration_seconds',
  authorizationDecisions: 'apiserver_authorization_decisions_total',
  authnRequests: 'apiserver_delegated_authn_request_total',
  authnRequestDuration: 'apiserver_delegated_authn_request_duration_seconds',
  authnInFlight: 'apiserver_delegated_authn_requests_in_flight',
  authzRequests: 'apiserver_delegated_authz_request_total',
  authzRequestDuration: 'apiserver_delegated_authz_request_duration_seconds',
  authzInFlight: 'apiserver_delegated_authz_requests_in_flight',
  tokenCache: 'authentication_token_cache_request_total',
  decisionCache: 'authorization_decision_cache_request_total',
});

/** The kubelet's buckets for delegated authn/authz request latency. */
const REVIEW_BUCKETS = [0.25, 0.5, 0.7, 1, 1.5, 3, 5, 10];
/** The API server's `authentication_duration_seconds` buckets: 1 ms doubling 15 times. */
const AUTHENTICATION_BUCKETS = Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i);

/**
 * Prometheus metrics for `kubeletAuth({ metrics })` (or the composed pieces' `metrics` options),
 * through prom-client, an optional peer dependency: nothing is registered until this is called.
 * Calling it twice with one registry shares the metrics (two middlewares, one `/metrics`).
 *
 * | metric | type | labels |
 * | --- | --- | --- |
 * | `authentication_attempts` | counter | `method`, `result` |
 * | `authentication_duration_seconds` | histogram | `method`, `result` |
 * | `apiserver_authorization_decisions_total` | counter | `decision`, `resource`, `subresource` |
 * | `apiserver_delegated_authn_request_total`, `…_duration_seconds` | counter, histogram | `code` |
 * | `apiserver_delegated_authz_request_total`, `…_duration_seconds` | counter, histogram | `code` |
 * | `apiserver_delegated_authn_requests_in_flight`, `…_authz_…` | gauge | — |
 * | `authentication_token_cache_request_total` | counter | `status` |
 * | `authorization_decision_cache_request_total` | counter | `status` |
 *
 * `authentication_attempts` counts, per authenticator, the requests that tried it (a front-proxy
 * attempt names a user in a request header; ordinary client-certificate traffic is not one):
 * see `AuthMetrics.authentication` for each method.
 *
 * @example
 * import { prometheusMetrics } from 'express-kubelet-auth/metrics';
 * app.use(kubeletAuth({ nodeName, kubeConfig, metrics: prometheusMetrics({ registry }) }));
 */
export function prometheusMetrics(options: PrometheusMetricsOptions = {}): AuthMetrics {
  checkKnownKeys(
    'prometheusMetrics',
    options,
    optionNames<PrometheusMetricsOptions>({ registry: true }),
  );
  const registry = options.registry ?? defaultRegistry;
  const n = METRIC_NAMES;
  const attempts = counter(
    registry,
    n.authenticationAttempts,
    'Counter of authenticated attempts, by authenticator and result.',
    ['method', 'result'],
  );
  const authnDuration = histogram(
    registry,
    n.authenticationDuration,
    'Authentication duration in seconds, by authenticator and result.',
    ['method', 'result'],
    AUTHENTICATION_BUCKETS,
  );
  const decisions = counter(
    registry,
    n.authorizationDecisions,
    'Total number of terminal authorization decisions, by decision and the attributes that decided.',
    ['decision', 'resource', 'subresource'],
  );
  const reviews = {
    TokenReview: {
      total: counter(
        registry,
        n.authnRequests,
        'Number of TokenReview requests to the API server, by status code.',
        ['code'],
      ),
      duration: histogram(
        registry,
        n.authnRequestDuration,
        'TokenReview request latency in seconds, by status code.',
        ['code'],
        REVIEW_BUCKETS,
      ),
      inFlight: gauge(
        registry,
        n.authnInFlight,
        'TokenReview requests to the API server in flight.',
      ),
    },
    SubjectAccessReview: {
      total: counter(
        registry,
        n.authzRequests,
        'Number of SubjectAccessReview requests to the API server, by status code.',
        ['code'],
      ),
      duration: histogram(
        registry,
        n.authzRequestDuration,
        'SubjectAccessReview request latency in seconds, by status code.',
        ['code'],
        REVIEW_BUCKETS,
      ),
      inFlight: gauge(
        registry,
        n.authzInFlight,
        'SubjectAccessReview requests to the API server in flight.',
      ),
    },
  } satisfies Record<ReviewKind, unknown>;
  const caches = {
    token: counter(registry, n.tokenCache, 'Token cache lookups, by status (hit, miss, stale).', [
      'status',
    ]),
    authorization: counter(
      registry,
      n.decisionCache,
      'Authorization decision cache lookups, by status (hit, miss, stale).',
      ['status'],
    ),
  };

  return {
    authentication(method: AuthenticationMethod, result: AuthenticationResult, seconds: number) {
      attempts.inc({ method, result });
      authnDuration.observe({ method, result }, seconds);
    },
    reviewStarted(review: ReviewKind) {
      reviews[review].inFlight.inc();
    },
    reviewFinished(review: ReviewKind, code: string, seconds: number) {
      const metrics = reviews[review];
      metrics.inFlight.dec();
      metrics.total.inc({ code });
      metrics.duration.observe({ code }, seconds);
    },
    cacheLookup(cache: 'token' | 'authorization', status: CacheStatus) {
      caches[cache].inc({ status });
    },
    decision(event: DecisionEvent) {
      const decision = AUTHORIZATION_DECISIONS[event.decision];
      if (decision === undefined) return; // not an authorization outcome (401, 400)
      const record = event.decidedBy ?? event.attributes[0];
      decisions.inc({ decision, ...labelsOf(record) });
    },
  };
}

const AUTHORIZATION_DECISIONS: Partial<Record<DecisionEvent['decision'], string>> = {
  allowed: 'allowed',
  forbidden: 'denied',
  error: 'error',
};

/** Bounded labels: a non-resource record's path is not one (it is whatever the caller sent). */
function labelsOf(record: Attributes | undefined): { resource: string; subresource: string } {
  if (!record?.resourceRequest) return { resource: '', subresource: '' };
  return { resource: record.resource, subresource: record.subresource };
}

/** The metric already registered under `name` (another middleware's), if it is of this type. */
function registered<M>(
  registry: Registry,
  name: string,
  type: abstract new (...args: never[]) => M,
): M | undefined {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof type) return existing;
  if (existing) throw invalidOption(`registry: ${name} is already registered as another type`);
  return undefined;
}

function counter(registry: Registry, name: string, help: string, labelNames: string[]): Counter {
  return (
    registered(registry, name, Counter) ??
    new Counter({ name, help, labelNames, registers: [registry] })
  );
}

function gauge(registry: Registry, name: string, help: string): Gauge {
  return registered(registry, name, Gauge) ?? new Gauge({ name, help, registers: [registry] });
}

function histogram(
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[],
  buckets: number[],
): Histogram {
  return (
    registered(registry, name, Histogram) ??
    new Histogram({ name, help, labelNames, buckets, registers: [registry] })
  );
}
