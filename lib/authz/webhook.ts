import type { KubeConfig } from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import { reviewClientFor } from '../apiserver/client.js';
import type { ReviewClient } from '../apiserver/reviews.js';
import { answerCacheOptionsOf } from '../cache/answer-cache.js';
import { cachedAuthorizer } from '../cache/decision-cache.js';
import { KUBELET_CONFIGURATION_DEFAULTS } from '../defaults.js';
import { toMilliseconds, type Duration } from '../duration.js';
import type { Logger } from '../logger.js';
import type { AuthMetrics } from '../metrics/observer.js';
import type { Authorizer } from '../contracts.js';
import { subjectAccessReviewAuthorizer } from './subject-access-review.js';
import { checkKnownKeys, optionNames } from '../option-errors.js';

/** Options of {@link webhookAuthorizer}. */
export interface WebhookAuthorizerOptions {
  /** The API server. Default: client-node's `loadFromDefault()`. Ignored with `reviewClient`. */
  kubeConfig?: KubeConfig;
  /** Use this review client (e.g. shared with token authentication). */
  reviewClient?: ReviewClient;
  /** How long an allowed decision is cached. Default: `'5m'`. */
  cacheAuthorizedTTL?: Duration;
  /** How long a denied decision is cached. Default: `'30s'`. */
  cacheUnauthorizedTTL?: Duration;
  /** Most cached decisions. Default: `10000`. */
  cacheSize?: number;
  /** Longest time one review may take, retries included. Default: `'10s'`. */
  timeout?: Duration;
  /**
   * Stale-if-error: when no answer comes from the API server (connection refused or reset,
   * timeout, HTTP 5xx or 429), answer with a cached decision that expired at most this long ago
   * instead of failing with 500. Any answer replaces the cached decision, an error answer
   * included. Logged, and counted as `stale` in metrics. Default: `0` (off, as the kubelet).
   */
  staleIfError?: Duration;
  /** Where stale answers are reported. Default: standard error. */
  logger?: Logger;
  /** Told of cache lookups and, through the review client it builds, of reviews. */
  metrics?: AuthMetrics;
}

const WEBHOOK_AUTHORIZER_OPTIONS = optionNames<WebhookAuthorizerOptions>({
  kubeConfig: true,
  reviewClient: true,
  cacheAuthorizedTTL: true,
  cacheUnauthorizedTTL: true,
  cacheSize: true,
  timeout: true,
  staleIfError: true,
  logger: true,
  metrics: true,
});

/**
 * The kubelet's `Webhook` authorization mode: SubjectAccessReview, cached with the kubelet's
 * TTLs — `cachedAuthorizer(subjectAccessReviewAuthorizer(client), …)`.
 *
 * @example kubeletAuthz({ nodeName: 'node-a', authorizer: webhookAuthorizer({ kubeConfig }) })
 */
export function webhookAuthorizer(options: WebhookAuthorizerOptions = {}): Authorizer {
  checkKnownKeys('webhookAuthorizer', options, WEBHOOK_AUTHORIZER_OPTIONS);
  const cache = answerCacheOptionsOf(options, 'webhookAuthorizer');
  const client = reviewClientFor(options, 'webhook authorization');
  return cachedAuthorizer(subjectAccessReviewAuthorizer(client), {
    authorizedTtlMs: toMilliseconds(
      options.cacheAuthorizedTTL ?? KUBELET_CONFIGURATION_DEFAULTS.cacheAuthorizedTTL,
      'cacheAuthorizedTTL',
    ),
    unauthorizedTtlMs: toMilliseconds(
      options.cacheUnauthorizedTTL ?? KUBELET_CONFIGURATION_DEFAULTS.cacheUnauthorizedTTL,
      'cacheUnauthorizedTTL',
    ),
    ...cache,
  });
}
