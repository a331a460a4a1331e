import { DEFAULT_CACHE_SIZE, DEFAULT_STALE_IF_ERROR_MS } from '../defaults.js';
import { isUnavailable } from '../errors.js';
import { levelled, type Logger } from '../logger.js';
import type { AuthMetrics, CacheStatus } from '../metrics/observer.js';
import { checkCount, checkMilliseconds } from '../option-errors.js';
import { toMilliseconds, type Duration } from '../duration.js';
import { ExpiringCache } from './expiring-cache.js';
import { SingleFlight } from './singleflight.js';

/** The options the token cache and the decision cache share (documented on each). */
export interface AnswerCacheOptions {
  maxEntries?: number;
  staleIfErrorMs?: number;
  logger?: Logger;
  metrics?: AuthMetrics;
  now?: () => number;
}

/** Checks the options both caches share, naming `where` (the factory) in the error. */
export function checkAnswerCacheOptions(options: AnswerCacheOptions, where: string): void {
  if (options.maxEntries !== undefined)
    checkCount(options.maxEntries, `${where}: maxEntries`, 'entries');
  if (options.staleIfErrorMs !== undefined) {
    checkMilliseconds(options.staleIfErrorMs, `${where}: staleIfErrorMs`);
  }
}

/**
 * The shared cache options a public factory's own options give (`cacheSize`, `staleIfError`,
 * `logger`, `metrics`), checked, with their defaults; `where` names the factory in an error.
 */
export function answerCacheOptionsOf(
  options: { cacheSize?: number; staleIfError?: Duration; logger?: Logger; metrics?: AuthMetrics },
  where: string,
): AnswerCacheOptions {
  if (options.cacheSize !== undefined)
    checkCount(options.cacheSize, `${where}: cacheSize`, 'entries');
  return {
    maxEntries: options.cacheSize ?? DEFAULT_CACHE_SIZE,
    staleIfErrorMs: toMilliseconds(
      options.staleIfError ?? DEFAULT_STALE_IF_ERROR_MS,
      'staleIfError',
    ),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
  };
}

/** What a failure is called in the log line, and what is served in its place. */
const WORDING = {
  token: { failed: 'token review failed', served: 'result' },
  authorization: { failed: 'authorization failed', served: 'decision' },
} as const;

/**
 * The answers of one kind of review, by key: kept fresh for their TTL in a bounded cache, asked
 * for at most once at a time per key, and with stale-if-error, an answer that expired at most
 * `staleIfErrorMs` ago standing in when no answer came. Lookups are reported to `metrics`.
 */
export class AnswerCache<V extends object> {
  readonly #kind: keyof typeof WORDING;
  readonly #cache: ExpiringCache<V>;
  readonly #flights = new SingleFlight<string, V>();
  readonly #staleMs: number;
  readonly #lookup: AuthMetrics['cacheLookup'];
  readonly #logger: Required<Logger>;

  constructor(kind: keyof typeof WORDING, options: AnswerCacheOptions) {
    this.#kind = kind;
    this.#staleMs = options.staleIfErrorMs ?? DEFAULT_STALE_IF_ERROR_MS;
    this.#cache = new ExpiringCache<V>({
      maxEntries: options.maxEntries ?? DEFAULT_CACHE_SIZE,
      staleMs: this.#staleMs,
      ...(options.now ? { now: options.now } : {}),
    });
    this.#lookup = options.metrics?.cacheLookup?.bind(options.metrics);
    this.#logger = levelled(options.logger);
  }

  /** The fresh answer for `key` (reported as a hit), or `undefined`. */
  peek(key: string): V | undefined {
    const hit = this.#cache.fresh(key);
    if (hit) this.#report('hit');
    return hit;
  }

  /** The fresh answer for `key`, else `ask()`'s, which concurrent callers of one key share. */
  get(key: string, ask: () => Promise<V>): Promise<V> {
    const hit = this.#cache.fresh(key);
    this.#report(hit ? 'hit' : 'miss');
    if (hit) return Promise.resolve(hit);
    return this.#flights.do(key, ask);
  }

  /** Keeps `value` fresh for `ttlMs`; a TTL of 0 keeps nothing and drops what was kept. */
  set(key: string, value: V, ttlMs: number): void {
    this.#cache.set(key, value, ttlMs);
  }

  /** Drops the answer kept for `key`. */
  delete(key: string): void {
    this.#cache.delete(key);
  }

  /**
   * What stands in for an answer that failed with `error`: when no answer came
   * ({@link isUnavailable}), the one kept for `key` if it expired at most `staleIfErrorMs` ago,
   * reported as stale and logged; else `undefined`. A failure that is an answer drops what was
   * kept.
   */
  staleAfter(key: string, error: unknown): V | undefined {
    if (!isUnavailable(error)) {
      this.#cache.delete(key);
      return undefined;
    }
    const kept = this.#staleMs > 0 ? this.#cache.stale(key) : undefined;
    if (kept === undefined) return undefined;
    this.#report('stale');
    const { failed, served } = WORDING[this.#kind];
    const message = error instanceof Error ? error.message : String(error);
    this.#logger.warn(
      `${failed} (${message}); serving a ${served} that expired ${Math.round(kept.expiredMs)} ms ago (staleIfError)`,
    );
    return kept.value;
  }

  #report(status: CacheStatus): void {
    this.#lookup?.(this.#kind, status);
  }
}
