import { createHash } from 'node:crypto';
import type { Verified } from '../contracts.js';
import { DEFAULT_CACHE_SIZE } from '../defaults.js';
import { ExpiringCache } from './expiring-cache.js';
import { u32 } from './u32.js';

/** Verifies the certificates a client sent (DER, leaf first; none: no certificate), at `now`. */
export type ChainVerifier<V> = (sent: readonly Buffer[], now: number) => Verified<V>;

/** Options of {@link cachedChainVerifier}. */
export interface ChainCacheOptions {
  /**
   * The version of what else decides a verdict (the CA bundle's, and for a front proxy its
   * allowed names): a verdict made under another version is not used.
   */
  version: () => number;
  /** The verifier's clock, in ms (verdicts' `validUntil` are on it). */
  now: () => number;
  /** Most chains whose verdict is kept; the least recently used goes first. Default: 10000. */
  maxEntries?: number;
}

/**
 * Wraps a client-certificate verifier with a bounded cache keyed by what the verdict depends on:
 * the certificates the client sent (a SHA-256 over their DER bytes, not the bytes themselves;
 * the leaf, then the others in any order) and the version of what else decides it (the CA
 * bundle's). A client that opens many connections with one certificate (the API server, a
 * scraper) has its chain parsed and verified once, not once per connection; each verdict is kept until its own `validUntil` (the chain's
 * earliest expiry, or a refusal's minute). A connection without a certificate goes straight to
 * the verifier.
 */
export function cachedChainVerifier<V extends object>(
  verify: ChainVerifier<V>,
  options: ChainCacheOptions,
): ChainVerifier<V> {
  const cache = new ExpiringCache<Verified<V>>({
    maxEntries: options.maxEntries ?? DEFAULT_CACHE_SIZE,
    staleMs: 0,
    now: options.now,
  });
  return (sent, now) => {
    if (sent.length === 0) return verify(sent, now);
    const hash = createHash('sha256');
    // The leaf, then the others in one order whatever order they came in: a client cannot miss
    // the cache by shuffling them. Each certificate's length goes before it, so no two sets hash
    // alike.
    const [leaf, ...others] = sent as [Buffer, ...Buffer[]];
    for (const der of [leaf, ...others.sort(Buffer.compare)]) {
      hash.update(u32(der.length)).update(der);
    }
    const key = `${options.version()}:${hash.digest('base64')}`;
    const known = cache.fresh(key);
    // The verdict's own end, on the caller's clock: the cache's TTL is counted from when it was
    // stored, after verification ran, so it may outlast the chain by that long.
    if (known !== undefined && now <= known.validUntil) return known;
    const verified = verify(sent, now);
    cache.set(key, verified, verified.validUntil - now);
    return verified;
  };
}
