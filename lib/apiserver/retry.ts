/**
 * The backoff the kubelet's webhooks use (`DefaultAuthWebhookRetryBackoff` in k8s.io/apiserver):
 * 500 ms, ×1.5 per step, 20 % jitter, at most 5 attempts. A retry never outlives the deadline.
 */
export interface RetryBackoff {
  /** First wait, in ms. Default: 500. */
  initialMs: number;
  /** Growth per attempt. Default: 1.5. */
  factor: number;
  /** Up to this fraction is added at random to each wait. Default: 0.2. */
  jitter: number;
  /** Attempts in all, the first included. Default: 5. */
  attempts: number;
}

export const DEFAULT_RETRY_BACKOFF: Readonly<RetryBackoff> = {
  initialMs: 500,
  factor: 1.5,
  jitter: 0.2,
  attempts: 5,
};

/** Why one attempt failed, and whether upstream's `DefaultShouldRetry` would try again. */
export interface AttemptFailure {
  retryable: boolean;
}

/**
 * Runs `attempt` until it succeeds, fails for good, the attempts run out, or waiting once more
 * would pass `deadline` (ms since epoch). The last error is thrown as it was.
 */
export async function withRetry<T>(
  attempt: () => Promise<T>,
  options: {
    backoff: RetryBackoff;
    deadline: number;
    isRetryable: (error: unknown) => boolean;
    signal: AbortSignal;
    random?: () => number;
  },
): Promise<T> {
  const random = options.random ?? Math.random;
  let wait = options.backoff.initialMs;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (n >= options.backoff.attempts || !options.isRetryable(error)) throw error;
      const pause = wait * (1 + random() * options.backoff.jitter);
      if (options.signal.aborted || Date.now() + pause >= options.deadline) throw error;
      await sleep(pause, options.signal);
      if (options.signal.aborted) throw error;
      wait *= options.backoff.factor;
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
