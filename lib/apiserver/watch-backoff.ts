import type { WatchBackoff } from '../contracts.js';

/**
 * The wait before the next attempt after `failures` failures in a row (1 or more): `initialMs`
 * multiplied by `factor` for each failure after the first, at most `maxMs`, plus up to `jitter`
 * times as much at random.
 */
export function backoffDelay(
  backoff: WatchBackoff,
  failures: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(
    backoff.maxMs,
    backoff.initialMs * backoff.factor ** Math.max(0, failures - 1),
  );
  return base * (1 + random() * backoff.jitter);
}
