import { hash, randomBytes } from 'node:crypto';
import type { TokenAuthenticator, TokenResult } from '../authn/token-authenticator.js';
import { isUnavailable } from '../errors.js';
import { stderrLogger, type Logger } from '../logger.js';
import type { AuthMetrics } from '../metrics/observer.js';
import { ExpiringCache } from './expiring-cache.js';
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

/**
 * Wraps a token authenticator with a bounded, expiring cache and coalescing, as the API server's
 * token cache does: results (positive and negative) are kept for their TTL, errors never (an
 * error answer drops the result kept before it); the key is an HMAC-SHA256 of the token and
 * audiences under a random per-process key, so no token is kept in memory; concurrent lookups
 * of one token share one review.
 */
export function cachedTokenAuthenticator(
  inner: TokenAuthenticator,
  options: TokenCacheOptions,
): TokenAuthenticator {
  const { ttlMs } = options;
  const failureTtlMs = options.failureTtlMs ?? ttlMs;
  const tokenKey = tokenKeyFunction(randomBytes(32), inner.audiences ?? []);
  const staleMs = options.staleIfErrorMs ?? 0;
  const cache = new ExpiringCache<TokenResult>({
    maxEntries: options.maxEntries ?? DEFAULT_CACHE_SIZE,
    staleMs,
    ...(options.now ? { now: options.now } : {}),
  });
  const flights = new SingleFlight<string, TokenResult>();
  const lookup = options.metrics?.cacheLookup?.bind(options.metrics);
  const logger = options.logger ?? stderrLogger;

  /**
   * The review's result, or when no answer came a recently expired one, as stale-if-error
   * allows. An answer, even an error, replaces what was kept.
   */
  async function review(key: string, token: string): Promise<TokenResult> {
    let result: TokenResult;
    try {
      result = await inner.authenticateToken(token);
    } catch (error) {
      if (!isUnavailable(error)) {
        cache.delete(key);
        throw error;
      }
      const kept = staleMs > 0 ? cache.stale(key) : undefined;
      if (kept === undefined) throw error;
      lookup?.('token', 'stale');
      logger.warn(
        `token review failed (${error instanceof Error ? error.message : String(error)}); serving a result that expired ${Math.round(kept.expiredMs)} ms ago (staleIfError)`,
      );
      return kept.value;
    }
    cache.set(key, result, result.authenticated ? ttlMs : failureTtlMs);
    return result;
  }

  return {
    audiences: inner.audiences,
    peekToken(token: string): TokenResult | undefined {
      const hit = cache.fresh(tokenKey(token));
      if (hit) lookup?.('token', 'hit');
      return hit;
    },
    authenticateToken(token: string): Promise<TokenResult> {
      const key = tokenKey(token);
      const hit = cache.fresh(key);
      lookup?.('token', hit ? 'hit' : 'miss');
      if (hit) return Promise.resolve(hit);
      return flights.do(key, () => review(key, token));
    },
  };
}

/**
 * HMAC-SHA256 over length-prefixed token and audiences, as upstream: the prefixes keep
 * `("ab", ["c"])` and `("a", ["bc"])` apart. The audiences' part is the same for every token of
 * a cache, so it is encoded once.
 *
 * The HMAC is computed as RFC 2104 defines it, `H(K ⊕ opad ‖ H(K ⊕ ipad ‖ message))`, with two
 * one-shot `crypto.hash` calls on buffers made once: the message is written after `K ⊕ ipad`,
 * the inner digest comes back as a (latin1) string and is copied after `K ⊕ opad`. No memory
 * for bytes and no native handle is taken per call (a view of the buffer, kept per length),
 * which on the warm path of a busy server costs several times the hashing. The bytes of the
 * token are wiped from the buffer before returning, so no token outlives its request here.
 */
export function tokenKeyFunction(
  hmacKey: Buffer,
  audiences: readonly string[],
): (token: string) => string {
  if (hmacKey.length > BLOCK) throw new TypeError('tokenKeyFunction: key longer than one block');
  const parts: Buffer[] = [u32(audiences.length)];
  for (const audience of audiences) {
    const bytes = Buffer.from(audience, 'utf8');
    parts.push(u32(bytes.length), bytes);
  }
  const suffix = Buffer.concat(parts);
  // Inner input: K ⊕ ipad, the token's length, the token, the audiences (grown for long tokens).
  let inner = Buffer.alloc(TOKEN_AT + 3 * 1024 + suffix.length);
  // Views of the inner input by length, made once for the first few lengths seen: a client
  // sends one token again and again, and a view per call allocates more than the rest.
  let views = new Map<number, Buffer>();
  // Outer input: K ⊕ opad, then the inner digest.
  const outer = Buffer.alloc(BLOCK + 32);
  for (let i = 0; i < BLOCK; i++) {
    const k = hmacKey[i] ?? 0;
    inner[i] = k ^ 0x36;
    outer[i] = k ^ 0x5c;
  }
  return function tokenKey(token: string): string {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: room for any token before writing it.
    const room = TOKEN_AT + 3 * token.length + suffix.length;
    if (room > inner.length) {
      const bigger = Buffer.alloc(Math.max(room, inner.length * 2));
      inner.copy(bigger, 0, 0, BLOCK);
      inner = bigger;
      views = new Map();
    }
    const length = inner.write(token, TOKEN_AT, 'utf8');
    inner.writeUInt32BE(length, BLOCK);
    // A few bytes (4 without audiences): stored one by one, not through Buffer's copy.
    const at = TOKEN_AT + length;
    for (let i = 0; i < suffix.length; i++) inner[at + i] = suffix[i] as number;
    const end = at + suffix.length;
    let view = views.get(end);
    if (view === undefined) {
      view = inner.subarray(0, end);
      if (views.size < MAX_VIEWS) views.set(end, view);
    }
    const digest = hash('sha256', view, 'binary');
    // The typed array's own fill: Buffer's checks its arguments first, which these need not.
    typedArrayFill.call(inner, 0, TOKEN_AT, end);
    // 32 bytes, stored one by one: a call into Buffer's native writer costs more here.
    for (let i = 0; i < 32; i++) outer[BLOCK + i] = digest.charCodeAt(i);
    return hash('sha256', outer, 'base64');
  };
}

/** `Uint8Array`'s `fill`, which `Buffer` overrides with one that validates its arguments. */
const typedArrayFill = Uint8Array.prototype.fill;

/** How many token lengths get a view of their own (each one ~100 bytes). */
const MAX_VIEWS = 64;

/** SHA-256's block size, in bytes. */
const BLOCK = 64;
/** Where the token starts in the inner input: after `K ⊕ ipad` and its length. */
const TOKEN_AT = BLOCK + 4;

/** `n` as four big-endian bytes: the length prefix of the keys' hashed parts. */
export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
