/** Waits between attempts after consecutive failures. */
export interface RetryPolicy {
  /** Wait after the second failure in a row, in ms (the first failure is retried at once). */
  initialMs: number;
  /** Longest wait, in ms; the wait doubles up to it. */
  maxMs: number;
}

/**
 * One fetch from the issuer at a time, shared by every caller, and a bound on how often a
 * failing issuer is tried. Its callers are requests of unauthenticated clients, so they must not
 * decide the issuer's load: the first failure may be retried at once (a blip), each further
 * failure in a row waits longer (1 s, 2 s, 4 s, … up to the maximum), and callers in the wait
 * get the last failure without a request being made. The fetch made at start-up, before any
 * client asked, does not count: an issuer that was down then is tried again by the first token.
 */
export class SharedFetch<T> {
  private inFlight: Promise<T> | undefined;
  private failures = 0;
  private lastError: unknown;
  private retryAt = 0;

  constructor(
    private readonly work: () => Promise<T>,
    private readonly now: () => number,
    private readonly retry: RetryPolicy,
  ) {}

  /** Whether a fetch is running now (joining it costs the issuer nothing). */
  get running(): boolean {
    return this.inFlight !== undefined;
  }

  /** Whether failures are being waited out: {@link run} would answer the last one. */
  get waiting(): boolean {
    return this.inFlight === undefined && this.failures > 0 && this.now() < this.retryAt;
  }

  /** The running fetch, a new one, or the last failure while waiting to retry. */
  run(): Promise<T> {
    if (this.inFlight) return this.inFlight;
    if (this.waiting) return Promise.reject(this.lastError);
    return this.start(true);
  }

  /** A fetch at start-up: like {@link run}, but its failure does not delay the next attempt. */
  prefetch(): Promise<T> {
    return this.inFlight ?? this.start(false);
  }

  private start(counted: boolean): Promise<T> {
    const started = (async () => this.work())().then(
      (value) => {
        this.inFlight = undefined;
        this.failures = 0;
        return value;
      },
      (error: unknown) => {
        this.inFlight = undefined;
        if (counted) {
          this.failures += 1;
          this.lastError = error;
          this.retryAt = this.now() + this.delay();
        }
        throw error;
      },
    );
    this.inFlight = started;
    return started;
  }

  private delay(): number {
    if (this.failures < 2) return 0;
    return Math.min(this.retry.initialMs * 2 ** (this.failures - 2), this.retry.maxMs);
  }
}
