import {
  authorizeSafely,
  type Attributes,
  type AuthorizationResult,
  type Authorizer,
} from '../contracts.js';
import type { Logger } from '../logger.js';
import { isDeeplyFrozen, isFrozenPlainObject } from '../user.js';
import type { AuthMetrics } from '../metrics/observer.js';
import { AnswerCache, checkAnswerCacheOptions } from './answer-cache.js';
import { checkKnownKeys, checkMilliseconds, optionNames } from '../option-errors.js';

/** Options of {@link cachedAuthorizer}. */
export interface DecisionCacheOptions {
  /** How long an `Allow` is kept, in ms (the kubelet's `cacheAuthorizedTTL`). */
  authorizedTtlMs: number;
  /** How long a `Deny`/`NoOpinion` is kept, in ms (the kubelet's `cacheUnauthorizedTTL`). */
  unauthorizedTtlMs: number;
  /** Most entries; the least recently used goes first. Default: 10000. */
  maxEntries?: number;
  /**
   * Stale-if-error: when no answer comes from the API server (connection refused or reset,
   * timeout, HTTP 5xx or 429), answer with a cached decision that expired at most this long
   * ago, in ms, instead of failing (500). Any answer replaces the cached decision, an error
   * included (allowed and denied at once, an `evaluationError`, another 4xx, an unreadable 2xx).
   * Only a `ReviewFailedError` marked `unavailable` counts as no answer. Default: `0` (off, as
   * the kubelet).
   */
  staleIfErrorMs?: number;
  /** Where a stale answer is reported. Default: standard error. */
  logger?: Logger;
  /** Told of each lookup: `hit`, `miss`, `stale` (e.g. `prometheusMetrics()`). */
  metrics?: AuthMetrics;
  /** The clock, in ms (for tests). Default: `performance.now`. */
  now?: () => number;
}

const DECISION_CACHE_OPTIONS = optionNames<DecisionCacheOptions>({
  authorizedTtlMs: true,
  unauthorizedTtlMs: true,
  maxEntries: true,
  staleIfErrorMs: true,
  logger: true,
  metrics: true,
  now: true,
});

/**
 * Upstream does not cache a request whose requester-controlled fields add up to this many
 * characters (a huge path must not pin memory), and neither does this cache.
 */
const MAX_CACHEABLE_SIZE = 10_000;

/**
 * Wraps an authorizer with a bounded, expiring decision cache and coalescing: allowed decisions
 * are kept for `authorizedTtlMs`, others for `unauthorizedTtlMs`, errors never (an error
 * answer drops the decision kept before it); concurrent identical questions share one call.
 * The key is the whole question: user name, uid, groups (sorted), extra (sorted keys) and every
 * attribute, so no decision serves another user.
 */
export function cachedAuthorizer(inner: Authorizer, options: DecisionCacheOptions): Authorizer {
  checkKnownKeys('cachedAuthorizer', options, DECISION_CACHE_OPTIONS);
  checkMilliseconds(options.authorizedTtlMs, 'cachedAuthorizer: authorizedTtlMs');
  checkMilliseconds(options.unauthorizedTtlMs, 'cachedAuthorizer: unauthorizedTtlMs');
  checkAnswerCacheOptions(options, 'cachedAuthorizer');
  const answers = new AnswerCache<AuthorizationResult>('authorization', options);

  /**
   * The inner answer; when it failed without an answer coming, a recently expired one if
   * stale-if-error allows. An answer, even one with an error or one not to be kept, replaces
   * what was kept.
   */
  async function ask(key: string, attributes: Attributes): Promise<AuthorizationResult> {
    const result = await authorizeSafely(inner, attributes);
    if (result.error) return answers.staleAfter(key, result.error) ?? result;
    if (result.cacheable === false) answers.delete(key);
    else {
      const ttlMs =
        result.decision === 'Allow' ? options.authorizedTtlMs : options.unauthorizedTtlMs;
      answers.set(key, result, ttlMs);
    }
    return result;
  }

  return {
    peek(attributes: Attributes): AuthorizationResult | undefined {
      if (requesterControlledSize(attributes) >= MAX_CACHEABLE_SIZE) return undefined;
      return answers.peek(keyOf(attributes));
    },
    authorize(attributes: Attributes): Promise<AuthorizationResult> {
      if (requesterControlledSize(attributes) >= MAX_CACHEABLE_SIZE) {
        return authorizeSafely(inner, attributes);
      }
      const key = keyOf(attributes);
      return answers.get(key, () => ask(key, attributes));
    },
  };
}

/**
 * The key of each frozen plain record whose user is frozen plain data too, made once: the
 * kubelet's attributes hand the same frozen records to a client that repeats its request, and
 * such a record cannot change. Any other record's key is made afresh. (Its gain, measured with
 * that memo: see `kubeletAttributes`.)
 */
const keys = new WeakMap<Attributes, string>();

function keyOf(attributes: Attributes): string {
  const kept = keys.get(attributes);
  if (kept !== undefined) return kept;
  const key = decisionKey(attributes);
  if (isFrozenPlainObject(attributes) && isDeeplyFrozen(attributes.user)) keys.set(attributes, key);
  return key;
}

function requesterControlledSize(a: Attributes): number {
  return (
    a.namespace.length +
    a.verb.length +
    a.apiGroup.length +
    a.apiVersion.length +
    a.resource.length +
    a.subresource.length +
    a.name.length +
    a.path.length
  );
}

/**
 * A canonical serialization of the whole question, as upstream keys its cache by the serialized
 * review: the user (name, uid, sorted groups, extra by sorted key) and every attribute, as JSON,
 * so no two questions share a key. A resource request's path is not part of its question.
 */
export function decisionKey(a: Attributes): string {
  const { user } = a;
  const extra = user.extra
    ? Object.keys(user.extra)
        .sort()
        .map((k) => [k, user.extra?.[k] ?? []])
    : [];
  return JSON.stringify([
    user.username,
    user.uid ?? '',
    [...user.groups].sort(),
    extra,
    a.verb,
    a.namespace,
    a.apiGroup,
    a.apiVersion,
    a.resource,
    a.subresource,
    a.name,
    a.resourceRequest,
    a.resourceRequest ? '' : a.path,
  ]);
}
