/**
 * At most `limit` API calls at once; later ones wait in arrival order. A waiter whose signal
 * aborts (its deadline passed) leaves the queue, so a storm of distinct tokens cannot flood the
 * API server, and cannot pile up waiters past their deadline either.
 */
export class Limiter {
  private running = 0;
  private readonly waiting: { start: () => void; signal: AbortSignal; onAbort: () => void }[] = [];

  constructor(private readonly limit: number) {}

  /** Runs `work` when a slot is free; rejects with `onAbort()`'s error if `signal` aborts first. */
  async run<T>(work: () => Promise<T>, signal: AbortSignal, aborted: () => Error): Promise<T> {
    if (this.running >= this.limit) await this.slot(signal, aborted);
    else this.running++;
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  /** Calls in progress, and calls waiting for a slot. */
  get stats(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  private slot(signal: AbortSignal, aborted: () => Error): Promise<void> {
    if (signal.aborted) return Promise.reject(aborted());
    return new Promise<void>((resolve, reject) => {
      const entry = {
        signal,
        start: () => {
          signal.removeEventListener('abort', entry.onAbort);
          resolve();
        },
        onAbort: () => {
          const i = this.waiting.indexOf(entry);
          if (i !== -1) this.waiting.splice(i, 1);
          reject(aborted());
        },
      };
      signal.addEventListener('abort', entry.onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next waiter; `running` stays the same.
    if (next) next.start();
    else this.running--;
  }
}
