import { LRUCache } from 'lru-cache';
import type { Attributes } from '../authz/attributes.js';
import { authorizeSafely, type AuthorizationResult, type Authorizer } from '../authz/authorizer.js';
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
 * are kept for `authorizedTtlMs`, others for `unauthorizedTtlMs`, errors never; concurrent
 * identical questions share one call. The key is the whole question: user name, uid, groups
 * (sorted), extra (sorted keys) and every attribute, so no decision serves another user.
 */
export function cachedAuthorizer(inner: Authorizer, options: DecisionCacheOptions): Authorizer {
  const cache = new LRUCache<string, AuthorizationResult>({
    max: options.maxEntries ?? DEFAULT_CACHE_SIZE,
    ttlAutopurge: false,
    ...(options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {}),
  });
  const flights = new SingleFlight<string, AuthorizationResult>();

  return {
    peek(attributes: Attributes): AuthorizationResult | undefined {
      if (requesterControlledSize(attributes) >= MAX_CACHEABLE_SIZE) return undefined;
      return cache.get(decisionKey(attributes));
    },
    authorize(attributes: Attributes): Promise<AuthorizationResult> {
      if (requesterControlledSize(attributes) >= MAX_CACHEABLE_SIZE) {
        return authorizeSafely(inner, attributes);
      }
      const key = decisionKey(attributes);
      const hit = cache.get(key);
      if (hit) return Promise.resolve(hit);
      return flights.do(key, async () => {
        const result = await authorizeSafely(inner, attributes);
        if (!result.error && result.cacheable !== false) {
          const ttl =
            result.decision === 'Allow' ? options.authorizedTtlMs : options.unauthorizedTtlMs;
          if (ttl > 0) cache.set(key, result, { ttl });
        }
        return result;
      });
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

/** Each user's part of the key, computed once per user object (cached users are reused). */
const userKeys = new WeakMap<object, string>();

function userKey(user: Attributes['user']): string {
  let key = userKeys.get(user);
  if (key === undefined) {
    const extra = user.extra
      ? Object.keys(user.extra)
          .sort()
          .map((k) => [k, user.extra?.[k] ?? []])
      : [];
    key = JSON.stringify([user.username, user.uid ?? '', [...user.groups].sort(), extra]);
    userKeys.set(user, key);
  }
  return key;
}

/**
 * A canonical serialization of the whole question: the user (name, uid, sorted groups, extra
 * by sorted key) and every attribute, as JSON, so no separator can be forged.
 */
export function decisionKey(a: Attributes): string {
  return `${userKey(a.user)}${JSON.stringify([
    a.verb,
    a.namespace,
    a.apiGroup,
    a.apiVersion,
    a.resource,
    a.subresource,
    a.name,
    a.resourceRequest,
    a.resourceRequest ? '' : a.path,
  ])}`;
}
