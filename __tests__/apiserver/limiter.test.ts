import { describe, expect, it } from '@jest/globals';
import { Limiter } from '../../lib/apiserver/limiter.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Limiter', () => {
  it('never runs more than its limit at once, and runs everything in arrival order', async () => {
    const limiter = new Limiter(3);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const never = new AbortController().signal;
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        limiter.run(
          async () => {
            started.push(i);
            most = Math.max(most, ++running);
            await tick(5);
            running--;
          },
          never,
          () => new Error('aborted'),
        ),
      ),
    );
    expect(most).toBe(3);
    expect(started).toEqual([...started].sort((a, b) => a - b));
    expect(limiter.stats).toEqual({ running: 0, waiting: 0 });
  });

  it('drops a waiter whose deadline passes, with the given error, and frees nothing twice', async () => {
    const limiter = new Limiter(1);
    const never = new AbortController().signal;
    const first = limiter.run(
      () => tick(50),
      never,
      () => new Error('x'),
    );
    const deadline = new AbortController();
    const second = limiter.run(
      async () => 'ran',
      deadline.signal,
      () => new Error('deadline passed'),
    );
    expect(limiter.stats).toEqual({ running: 1, waiting: 1 });
    deadline.abort();
    await expect(second).rejects.toThrow('deadline passed');
    expect(limiter.stats).toEqual({ running: 1, waiting: 0 });
    await first;
    await expect(
      limiter.run(
        async () => 'ok',
        never,
        () => new Error('x'),
      ),
    ).resolves.toBe('ok');
    expect(limiter.stats).toEqual({ running: 0, waiting: 0 });
  });

  it('passes a failure through and releases the slot', async () => {
    const limiter = new Limiter(1);
    const never = new AbortController().signal;
    await expect(
      limiter.run(
        () => Promise.reject(new Error('boom')),
        never,
        () => new Error('x'),
      ),
    ).rejects.toThrow('boom');
    await expect(
      limiter.run(
        async () => 1,
        never,
        () => new Error('x'),
      ),
    ).resolves.toBe(1);
  });
});
