import { LRUCache } from 'lru-cache';

/** Options of {@link ExpiringCache}. */
export interface ExpiringCacheOptions {
  /** Most entries; the least recently used goes first. */
  maxEntries: number;
  /** How long past its TTL an entry is still kept for {@link ExpiringCache.stale}, in ms. */
  staleMs: number;
  /** The clock, in ms (for tests). Default: `performance.now`. */
  now?: () => number;
}

interface Entry<V> {
  value: V;
  /** When the entry stops being fresh, on the cache's clock. */
  freshUntil: number;
}

/**
 * A bounded LRU whose entries expire after their own TTL, and that can keep an expired entry a
 * while longer (`staleMs`) for a caller that would rather serve it than fail (stale-if-error).
 * With `staleMs` 0 an entry is gone at its TTL, as a plain TTL cache.
 */
export class ExpiringCache<V extends object> {
  private readonly cache: LRUCache<string, Entry<V>>;
  private readonly now: () => number;
  private readonly staleMs: number;

  constructor(options: ExpiringCacheOptions) {
    this.now = options.now ?? (() => performance.now());
    this.staleMs = options.staleMs;
    // Expiry is this class's (each entry knows until when it is fresh, on the injected clock):
    // lru-cache only bounds the count.
    this.cache = new LRUCache<string, Entry<V>>({ max: options.maxEntries });
  }

  /** The entry for `key` while it is fresh (until and including its expiry time, as upstream). */
  fresh(key: string): V | undefined {
    const now = this.now();
    const entry = this.kept(key, now);
    return entry !== undefined && now <= entry.freshUntil ? entry.value : undefined;
  }

  /** The entry for `key`, fresh or expired at most `staleMs` ago, and how long ago it expired. */
  stale(key: string): { value: V; expiredMs: number } | undefined {
    const now = this.now();
    const entry = this.kept(key, now);
    if (entry === undefined) return undefined;
    return { value: entry.value, expiredMs: Math.max(0, now - entry.freshUntil) };
  }

  /** The entry for `key` unless it expired more than `staleMs` ago (then it is dropped). */
  private kept(key: string, now: number): Entry<V> | undefined {
    const entry = this.cache.get(key);
    if (entry !== undefined && now - entry.freshUntil > this.staleMs) {
      this.cache.delete(key);
      return undefined;
    }
    return entry;
  }

  /**
   * Keeps `value` fresh for `ttlMs`. A TTL of 0 keeps nothing, and also drops what was kept:
   * the new value replaces the old one even when it is not itself worth keeping.
   */
  set(key: string, value: V, ttlMs: number): void {
    if (ttlMs <= 0) this.cache.delete(key);
    else this.cache.set(key, { value, freshUntil: this.now() + ttlMs });
  }

  /** Drops the entry for `key`, fresh or stale: a newer answer made it wrong. */
  delete(key: string): void {
    this.cache.delete(key);
  }

  get size(): number {
    return this.cache.size;
  }
}
