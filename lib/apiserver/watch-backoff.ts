import type { WatchBackoff } from '../contracts.js';
import { invalidOption } from '../option-errors.js';

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

/** `value` as a {@link WatchBackoff}, every field checked; throws `ERR_INVALID_OPTION`, naming `where`. */
export function checkWatchBackoff(value: unknown, where: string): WatchBackoff {
  const backoff = value as Partial<WatchBackoff> | null;
  const ok =
    typeof backoff === 'object' &&
    backoff !== null &&
    isMs(backoff.initialMs) &&
    isMs(backoff.maxMs) &&
    typeof backoff.factor === 'number' &&
    backoff.factor >= 1 &&
    typeof backoff.jitter === 'number' &&
    backoff.jitter >= 0 &&
    (backoff.maxMs as number) >= (backoff.initialMs as number);
  if (!ok) {
    throw invalidOption(
      `${where}: expected { initialMs, maxMs, factor, jitter }: waits in ms above zero (maxMs ≥ initialMs), factor ≥ 1, jitter ≥ 0`,
    );
  }
  return backoff as WatchBackoff;
}

function isMs(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}
