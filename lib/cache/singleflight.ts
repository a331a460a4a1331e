/**
 * One call in flight per key: concurrent callers with the same key share the first caller's
 * promise, success or failure (Go's `singleflight`, which the API server's token cache uses).
 * The entry is dropped as soon as the call settles, so a failure is never remembered.
 */
export class SingleFlight<K, V> {
  private readonly inFlight = new Map<K, Promise<V>>();

  /** Runs `work` unless a call for `key` is already running; then joins that one. */
  do(key: K, work: () => Promise<V>): Promise<V> {
    const running = this.inFlight.get(key);
    if (running) return running;
    const started = (async () => {
      try {
        return await work();
      } finally {
        this.inFlight.delete(key);
      }
    })();
    this.inFlight.set(key, started);
    return started;
  }

  /** How many distinct calls are running now. */
  get size(): number {
    return this.inFlight.size;
  }
}
