import { describe, expect, it } from '@jest/globals';
import { withRetry } from '../../lib/apiserver/retry.js';
import { DEFAULT_RETRY_BACKOFF } from '../../lib/defaults.js';

const fast = { ...DEFAULT_RETRY_BACKOFF, initialMs: 1 };
const never = new AbortController().signal;

describe('withRetry (upstream DefaultAuthWebhookRetryBackoff)', () => {
  it('has upstream’s parameters', () => {
    expect(DEFAULT_RETRY_BACKOFF).toEqual({
      initialMs: 500,
      factor: 1.5,
      jitter: 0.2,
      attempts: 5,
    });
  });

  it('tries at most 5 times for a retryable failure, then throws the last error', async () => {
    let calls = 0;
    const run = withRetry(
      async () => {
        calls++;
        throw new Error(`attempt ${calls}`);
      },
      { backoff: fast, deadline: Date.now() + 10_000, isRetryable: () => true, signal: never },
    );
    await expect(run).rejects.toThrow('attempt 5');
    expect(calls).toBe(5);
  });

  it('does not retry what is not retryable', async () => {
    let calls = 0;
    const run = withRetry(
      async () => {
        calls++;
        throw new Error('final');
      },
      { backoff: fast, deadline: Date.now() + 10_000, isRetryable: () => false, signal: never },
    );
    await expect(run).rejects.toThrow('final');
    expect(calls).toBe(1);
  });

  it('waits initial × factor^n with up to 20 % jitter', async () => {
    const waits: number[] = [];
    let last = Date.now();
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          const now = Date.now();
          if (calls++ > 0) waits.push(now - last);
          last = now;
          throw new Error('again');
        },
        {
          backoff: { initialMs: 40, factor: 1.5, jitter: 0.2, attempts: 4 },
          deadline: Date.now() + 10_000,
          isRetryable: () => true,
          signal: never,
          random: () => 1,
        },
      ),
    ).rejects.toThrow('again');
    // With random() = 1 the waits are 48, 72, 108 ms (timers may fire a little late).
    expect(waits).toHaveLength(3);
    [48, 72, 108].forEach((expected, i) => {
      expect(waits[i]).toBeGreaterThanOrEqual(expected - 2);
      expect(waits[i]).toBeLessThan(expected + 40);
    });
  });

  it('never waits past the deadline', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new Error('slow');
        },
        {
          backoff: { ...DEFAULT_RETRY_BACKOFF },
          deadline: Date.now() + 300,
          isRetryable: () => true,
          signal: never,
        },
      ),
    ).rejects.toThrow('slow');
    // The first wait (500–600 ms) would pass the 300 ms deadline: no second attempt.
    expect(calls).toBe(1);
  });
});
