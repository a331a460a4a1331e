import { createHmac, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { TokenAuthenticator, TokenResult } from '../authn/token-authenticator.js';
import { SingleFlight } from './singleflight.js';

/** Default bound of every cache in the package, in entries. */
export const DEFAULT_CACHE_SIZE = 10_000;

/** Options of {@link cachedTokenAuthenticator}. */
export interface TokenCacheOptions {
  /** How long an "authenticated" result is kept, in ms. Required; `0` keeps nothing. */
  ttlMs: number;
  /** How long a "not authenticated" result is kept, in ms. Default: `ttlMs` (as the kubelet). */
  failureTtlMs?: number;
  /** Most entries; the least recently used goes first. Default: 10000. */
  maxEntries?: number;
  /** The clock, in ms (for tests). Default: `performance.now`. */
  now?: () => number;
}

/**
 * Wraps a token authenticator with a bounded, expiring cache and coalescing, as the API server's
 * token cache does: results (positive and negative) are kept for their TTL, errors never; the
 * key is an HMAC-SHA256 of the token and audiences under a random per-process key, so no token
 * is kept in memory; concurrent lookups of one token share one review.
 */
export function cachedTokenAuthenticator(
  inner: TokenAuthenticator,
  options: TokenCacheOptions,
): TokenAuthenticator {
  const { ttlMs } = options;
  const failureTtlMs = options.failureTtlMs ?? ttlMs;
  const hmacKey = randomBytes(32);
  const audiences = inner.audiences ?? [];
  const cache = new LRUCache<string, TokenResult>({
    max: options.maxEntries ?? DEFAULT_CACHE_SIZE,
    ttlAutopurge: false,
    ...(options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {}),
  });
  const flights = new SingleFlight<string, TokenResult>();

  return {
    audiences: inner.audiences,
    peekToken(token: string): TokenResult | undefined {
      return cache.get(tokenKey(hmacKey, token, audiences));
    },
    authenticateToken(token: string): Promise<TokenResult> {
      const key = tokenKey(hmacKey, token, audiences);
      const hit = cache.get(key);
      if (hit) return Promise.resolve(hit);
      return flights.do(key, async () => {
        const result = await inner.authenticateToken(token);
        const ttl = result.authenticated ? ttlMs : failureTtlMs;
        if (ttl > 0) cache.set(key, result, { ttl });
        return result;
      });
    },
  };
}

/**
 * HMAC-SHA256 over length-prefixed token and audiences, as upstream: the prefixes keep
 * `("ab", ["c"])` and `("a", ["bc"])` apart.
 */
function tokenKey(hmacKey: Buffer, token: string, audiences: readonly string[]): string {
  const mac = createHmac('sha256', hmacKey);
  writeField(mac, token);
  mac.update(u32(audiences.length));
  for (const audience of audiences) writeField(mac, audience);
  return mac.digest('base64');
}

function writeField(mac: ReturnType<typeof createHmac>, value: string): void {
  const bytes = Buffer.from(value, 'utf8');
  mac.update(u32(bytes.length));
  mac.update(bytes);
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n);
  return b;
}
