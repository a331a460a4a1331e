import {
  authorizeSafely,
  type Attributes,
  type AuthorizationResult,
  type Authorizer,
} from '../contracts.js';
import { DEFAULT_CACHE_SIZE } from '../defaults.js';
import { isUnavailable } from '../errors.js';
import { levelled, type Logger } from '../logger.js';
import type { AuthMetrics } from '../metrics/observer.js';
import { ExpiringCache } from './expiring-cache.js';
import { SingleFlight } from './singleflight.js';

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
  const staleMs = options.staleIfErrorMs ?? 0;
  const cache = new ExpiringCache<AuthorizationResult>({
    maxEntries: options.maxEntries ?? DEFAULT_CACHE_SIZE,
    staleMs,
    ...(options.now ? { now: options.now } : {}),
  });
  const flights = new SingleFlight<string, AuthorizationResult>();
  const lookup = options.metrics?.cacheLookup?.bind(options.metrics);
  const logger = levelled(options.logger);

  /**
   * The inner answer, or when no answer came a recently expired one, as stale-if-error allows.
   * An answer, even one with an error or one not to be kept, replaces what was kept.
   */
  async function ask(key: string, attributes: Attributes): Promise<AuthorizationResult> {
    const result = await authorizeSafely(inner, attributes);
    if (result.error) {
      if (!isUnavailable(result.error)) {
        cache.delete(key);
        return result;
      }
      const kept = staleMs > 0 ? cache.stale(key) : undefined;
      if (kept === undefined) return result;
      lookup?.('authorization', 'stale');
      logger.warn(
        `authorization failed (${result.error.message}); serving a decision that expired ${Math.round(kept.expiredMs)} ms ago (staleIfError)`,
      );
      return kept.value;
    }
    if (result.cacheable === false) cache.delete(key);
    else {
      cache.set(
        key,
        result,
        result.decision === 'Allow' ? options.authorizedTtlMs : options.unauthorizedTtlMs,
      );
    }
    return result;
  }

  return {
    peek(attributes: Attributes): AuthorizationResult | undefined {
      if (requesterControlledSize(attributes) >= MAX_CACHEABLE_SIZE) return undefined;
      const hit = cache.fresh(decisionKey(attributes));
      if (hit) lookup?.('authorization', 'hit');
      return hit;
    },
    authorize(attributes: Attributes): Promise<AuthorizationResult> {
      if (requesterControlledSize(attributes) >= MAX_CACHEABLE_SIZE) {
        return authorizeSafely(inner, attributes);
      }
      const key = decisionKey(attributes);
      const hit = cache.fresh(key);
      lookup?.('authorization', hit ? 'hit' : 'miss');
      if (hit) return Promise.resolve(hit);
      return flights.do(key, () => ask(key, attributes));
    },
  };
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
