import type { RetryBackoff } from '../contracts.js';

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
