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

/**
 * lru-cache's `get` allocates an options object when given none (and writes `status` into the
 * one it gets): one shared object keeps the warm path free of that allocation.
 */
const GET_OPTIONS = {};

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
    this.cache = new LRUCache<string, Entry<V>>({
      max: options.maxEntries,
      ttlAutopurge: false,
      // lru-cache's default (1 ms) caches its clock with a one-shot timer, set again on the
      // first lookup after it fires: on a server that is a timer and an extra event-loop wake-up
      // per request (or per millisecond when busy). Reading the clock is cheaper than that.
      ttlResolution: 0,
      ...(options.now ? { perf: { now: options.now } } : {}),
    });
  }

  /** The entry for `key` while it is fresh. */
  fresh(key: string): V | undefined {
    const entry = this.cache.get(key, GET_OPTIONS);
    if (entry === undefined) return undefined;
    if (this.staleMs === 0 || this.now() < entry.freshUntil) return entry.value;
    return undefined;
  }

  /** The entry for `key`, fresh or expired less than `staleMs` ago, and how long ago it expired. */
  stale(key: string): { value: V; expiredMs: number } | undefined {
    const entry = this.cache.get(key, GET_OPTIONS);
    if (entry === undefined) return undefined;
    return { value: entry.value, expiredMs: Math.max(0, this.now() - entry.freshUntil) };
  }

  /** Keeps `value` fresh for `ttlMs` (nothing is kept for 0). */
  set(key: string, value: V, ttlMs: number): void {
    if (ttlMs <= 0) return;
    this.cache.set(key, { value, freshUntil: this.now() + ttlMs }, { ttl: ttlMs + this.staleMs });
  }

  get size(): number {
    return this.cache.size;
  }
}
