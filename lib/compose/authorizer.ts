import type { ReviewClient } from '../apiserver/reviews.js';
import { alwaysAllowGroups, alwaysAllowPaths } from '../authz/always-allow.js';
import { alwaysAllow, unionAuthorizer } from '../authz/authorizer.js';
import { staticAuthorizer } from '../authz/static-rules.js';
import { subjectAccessReviewAuthorizer } from '../authz/subject-access-review.js';
import { cachedAuthorizer } from '../cache/decision-cache.js';
import type { KubeletAuthDependencies, ResolvedKubeletAuthConfig } from '../config.js';
import type { Authorizer } from '../contracts.js';
import { KubeletAuthError } from '../errors.js';

/**
 * The authorizers decided in process, in k8s.io/apiserver's order: privileged groups,
 * always-allow paths, static rules. Built before anything is watched or connected, so that a
 * mistake in them throws first.
 */
export function inProcessAuthorizers(config: ResolvedKubeletAuthConfig): Authorizer[] {
  const authorizers: Authorizer[] = [];
  if (config.alwaysAllowGroups.length > 0)
    authorizers.push(alwaysAllowGroups(config.alwaysAllowGroups));
  if (config.alwaysAllowPaths.length > 0)
    authorizers.push(alwaysAllowPaths(config.alwaysAllowPaths));
  if (config.staticRules.length > 0) authorizers.push(staticAuthorizer(config.staticRules));
  return authorizers;
}

/** The in-process authorizers, then the cached SubjectAccessReview (mode Webhook) or AlwaysAllow. */
export function kubeletAuthorizer(
  config: ResolvedKubeletAuthConfig,
  deps: KubeletAuthDependencies,
  reviewClient: ReviewClient | undefined,
  inProcess: Authorizer[],
): Authorizer {
  if (config.mode === 'Webhook' && !reviewClient) {
    // Fail closed: Webhook mode never falls back to allowing everything.
    throw new KubeletAuthError(
      'ERR_INVALID_OPTION',
      'authorization.mode Webhook needs a review client',
    );
  }
  const decider =
    config.mode === 'Webhook' && reviewClient
      ? cachedAuthorizer(subjectAccessReviewAuthorizer(reviewClient), {
          authorizedTtlMs: config.authorizedTtlMs,
          unauthorizedTtlMs: config.unauthorizedTtlMs,
          maxEntries: config.cacheSize,
          staleIfErrorMs: config.staleIfErrorMs,
          logger: deps.logger,
          ...(deps.metrics ? { metrics: deps.metrics } : {}),
        })
      : alwaysAllow();
  return inProcess.length > 0 ? unionAuthorizer(...inProcess, decider) : decider;
}
