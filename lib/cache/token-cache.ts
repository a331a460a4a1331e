import { createHmac, randomBytes } from 'node:crypto';
import type { TokenAuthenticator, TokenResult } from '../contracts.js';
import type { Logger } from '../logger.js';
import type { AuthMetrics } from '../metrics/observer.js';
import { AnswerCache, checkAnswerCacheOptions } from './answer-cache.js';
import { perConnectionKeys } from './connection-keys.js';
import { u32 } from './u32.js';
import { checkKnownKeys, checkMilliseconds, optionNames } from '../option-errors.js';

/** Options of {@link cachedTokenAuthenticator}. */
export interface TokenCacheOptions {
  /** How long an "authenticated" result is kept, in ms. Required; `0` keeps nothing. */
  ttlMs: number;
  /** How long a "not authenticated" result is kept, in ms. Default: `ttlMs` (as the kubelet). */
  failureTtlMs?: number;
  /** Most entries; the least recently used goes first. Default: 10000. */
  maxEntries?: number;
  /**
   * Stale-if-error: when no answer comes from the API server (connection refused or reset,
   * timeout, HTTP 5xx or 429), answer with a cached result that expired at most this long ago,
   * in ms, instead of refusing the token. Any answer replaces the cached result, an error
   * included (`status.error`, another 4xx, an unreadable 2xx): a revoked token is never served
   * from the past while the API server is up. Only a `ReviewFailedError` marked `unavailable`
   * counts as no answer. Default: `0` (off, as the kubelet).
   */
  staleIfErrorMs?: number;
  /** Where a stale answer is reported (never the token). Default: standard error. */
  logger?: Logger;
  /** Told of each lookup: `hit`, `miss`, `stale` (e.g. `prometheusMetrics()`). */
  metrics?: AuthMetrics;
  /** The clock, in ms (for tests). Default: `performance.now`. */
  now?: () => number;
}

const TOKEN_CACHE_OPTIONS = optionNames<TokenCacheOptions>({
  ttlMs: true,
  failureTtlMs: true,
  maxEntries: true,
  staleIfErrorMs: true,
  logger: true,
  metrics: true,
  now: true,
});

/**
 * Wraps a token authenticator with a bounded, expiring cache and coalescing, as the API server's
 * token cache does: results (positive and negative) are kept for their TTL, errors never (an
 * error answer drops the result kept before it); the key is an HMAC-SHA256 of the token and
 * audiences under a random per-process key, so the cache holds no token; concurrent lookups of
 * one token share one review. The HMAC is taken once per connection while the connection sends
 * the same token, which it holds meanwhile (`perConnectionKeys`); with both TTLs 0, on every
 * request.
 */
export function cachedTokenAuthenticator(
  inner: TokenAuthenticator,
  options: TokenCacheOptions,
): TokenAuthenticator {
  checkKnownKeys('cachedTokenAuthenticator', options, TOKEN_CACHE_OPTIONS);
  checkMilliseconds(options.ttlMs, 'cachedTokenAuthenticator: ttlMs');
  if (options.failureTtlMs !== undefined) {
    checkMilliseconds(options.failureTtlMs, 'cachedTokenAuthenticator: failureTtlMs');
  }
  checkAnswerCacheOptions(options, 'cachedTokenAuthenticator');
  const { ttlMs } = options;
  const failureTtlMs = options.failureTtlMs ?? ttlMs;
  const keyOf = tokenKeyFunction(randomBytes(32), inner.audiences ?? []);
  // With nothing kept, nothing is remembered per connection either.
  const tokenKey = ttlMs > 0 || failureTtlMs > 0 ? perConnectionKeys(keyOf) : keyOf;
  const answers = new AnswerCache<TokenResult>('token', options);

  /** The review's result; when no result came, a recently expired one if stale-if-error allows. */
  async function review(key: string, token: string): Promise<TokenResult> {
    let result: TokenResult;
    try {
      result = await inner.authenticateToken(token);
    } catch (error) {
      const kept = answers.staleAfter(key, error);
      if (kept === undefined) throw error;
      return kept;
    }
    answers.set(key, result, result.authenticated ? ttlMs : failureTtlMs);
    return result;
  }

  return {
    audiences: inner.audiences,
    peekToken(token: string, connection?: object): TokenResult | undefined {
      return answers.peek(tokenKey(token, connection));
    },
    authenticateToken(token: string, connection?: object): Promise<TokenResult> {
      const key = tokenKey(token, connection);
      return answers.get(key, () => review(key, token));
    },
  };
}

/**
 * HMAC-SHA256 over length-prefixed token and audiences, as upstream: the prefixes keep
 * `("ab", ["c"])` and `("a", ["bc"])` apart. The audiences' part is the same for every token of
 * a cache, so it is encoded once. The key is random per process, so no token can be recovered
 * from a cache key.
 */
export function tokenKeyFunction(
  hmacKey: Buffer,
  audiences: readonly string[],
): (token: string) => string {
  const parts: Buffer[] = [u32(audiences.length)];
  for (const audience of audiences) {
    const bytes = Buffer.from(audience, 'utf8');
    parts.push(u32(bytes.length), bytes);
  }
  const suffix = Buffer.concat(parts);
  return function tokenKey(token: string): string {
    return createHmac('sha256', hmacKey)
      .update(u32(Buffer.byteLength(token, 'utf8')))
      .update(token, 'utf8')
      .update(suffix)
      .digest('base64');
  };
}
