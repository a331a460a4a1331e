import { createReviewClient } from '../apiserver/client.js';
import { resolveKubeConfig } from '../apiserver/kube-config.js';
import type { ReviewClient } from '../apiserver/reviews.js';
import type { KubeletAuthDependencies, ResolvedKubeletAuthConfig } from '../config.js';

/** The review client the configuration needs, and how to release it. */
export interface Reviews {
  /** `undefined` when neither token webhook nor webhook authorization is on. */
  client: ReviewClient | undefined;
  /** Closes idle connections of a client built here; one passed in is the caller's to close. */
  close(): void;
}

/** The review client given, else one built for the kubeconfig when a webhook needs it. */
export function reviewsFor(
  config: ResolvedKubeletAuthConfig,
  deps: KubeletAuthDependencies,
): Reviews {
  if (!config.tokenWebhook && config.mode !== 'Webhook') return { client: undefined, close() {} };
  if (deps.reviewClient) return { client: deps.reviewClient, close() {} };
  const needs = config.tokenWebhook ? 'webhook authentication' : 'webhook authorization';
  const client = createReviewClient(resolveKubeConfig(deps.kubeConfig, needs), {
    timeoutMs: config.timeoutMs,
    maxConcurrent: config.maxConcurrentReviews,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  });
  return { client, close: () => client.close?.() };
}
