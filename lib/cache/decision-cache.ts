import type { Attributes } from '../authz/attributes.js';
import { authorizeSafely, type AuthorizationResult, type Authorizer } from '../authz/authorizer.js';
import { isUnavailable } from '../errors.js';
import { stderrLogger, type Logger } from '../logger.js';
import type { AuthMetrics } from '../metrics/observer.js';
import { ExpiringCache } from './expiring-cache.js';
import { SingleFlight } from './singleflight.js';
import { DEFAULT_CACHE_SIZE } from './token-cache.js';

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
  const logger = options.logger ?? stderrLogger;

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
 * What is kept per user object (cached users are reused, one per token or certificate): its part
 * of the key, computed once, and the last question it asked with that question's key. A busy
 * client asks the same question again and again; its key is then found by comparing a few
 * fields rather than built anew, and being the same string each time, its hash is computed once.
 */
interface UserKeys {
  user: string;
  last: LastQuestion | undefined;
}

/**
 * A question's fields, copied (the caller's record may change), and its key. `path` is `''` for a
 * resource request, whose path is not part of the question.
 */
type LastQuestion = Omit<Attributes, 'user'> & { key: string };

const userKeys = new WeakMap<object, UserKeys>();

function keysOf(user: Attributes['user']): UserKeys {
  let keys = userKeys.get(user);
  if (keys === undefined) {
    const extra = user.extra
      ? Object.keys(user.extra)
          .sort()
          .map((k) => [k, user.extra?.[k] ?? []])
      : [];
    keys = {
      user: JSON.stringify([user.username, user.uid ?? '', [...user.groups].sort(), extra]),
      last: undefined,
    };
    userKeys.set(user, keys);
  }
  return keys;
}

function sameQuestion(q: LastQuestion, a: Attributes, path: string): boolean {
  return (
    q.verb === a.verb &&
    q.subresource === a.subresource &&
    q.name === a.name &&
    q.resource === a.resource &&
    q.namespace === a.namespace &&
    q.apiGroup === a.apiGroup &&
    q.apiVersion === a.apiVersion &&
    q.resourceRequest === a.resourceRequest &&
    q.path === path
  );
}

/**
 * A canonical serialization of the whole question: the user (name, uid, sorted groups, extra
 * by sorted key, as JSON) and every attribute, so no two questions share a key. The user's last
 * question's key is reused when every field is the same.
 *
 * The user's JSON has no raw control character, so the first one in the key ends it. After a
 * NUL come the attributes joined by NULs, when none of them holds one (the usual case, and the
 * cheap one: no serializer); after U+0001 come the attributes as JSON otherwise.
 */
export function decisionKey(a: Attributes): string {
  const keys = keysOf(a.user);
  const path = a.resourceRequest ? '' : a.path;
  const last = keys.last;
  if (last !== undefined && sameQuestion(last, a, path)) return last.key;
  const key = buildKey(keys.user, a, path);
  keys.last = {
    verb: a.verb,
    namespace: a.namespace,
    apiGroup: a.apiGroup,
    apiVersion: a.apiVersion,
    resource: a.resource,
    subresource: a.subresource,
    name: a.name,
    resourceRequest: a.resourceRequest,
    path,
    key,
  };
  return key;
}

function buildKey(user: string, a: Attributes, path: string): string {
  if (
    noNul(a.verb) &&
    noNul(a.namespace) &&
    noNul(a.apiGroup) &&
    noNul(a.apiVersion) &&
    noNul(a.resource) &&
    noNul(a.subresource) &&
    noNul(a.name) &&
    noNul(path)
  ) {
    return `${user}\u0000${a.verb}\u0000${a.namespace}\u0000${a.apiGroup}\u0000${a.apiVersion}\u0000${a.resource}\u0000${a.subresource}\u0000${a.name}\u0000${a.resourceRequest ? 1 : 0}\u0000${path}`;
  }
  return `${user}\u0001${JSON.stringify([
    a.verb,
    a.namespace,
    a.apiGroup,
    a.apiVersion,
    a.resource,
    a.subresource,
    a.name,
    a.resourceRequest,
    path,
  ])}`;
}

function noNul(value: string): boolean {
  return !value.includes('\u0000');
}
