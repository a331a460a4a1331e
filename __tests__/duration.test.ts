import { describe, expect, it } from '@jest/globals';
import { formatGoDuration, parseGoDuration, toMilliseconds } from '../lib/duration.js';
import { KubeletAuthError } from '../lib/errors.js';

describe('Go durations', () => {
  it.each([
    ['2m0s', 120_000],
    ['2m', 120_000],
    ['30s', 30_000],
    ['5m0s', 300_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['.5s', 500],
    ['1.s', 1000],
    ['500ms', 500],
    ['1500us', 1.5],
    ['1500µs', 1.5],
    ['2000000ns', 2],
    ['0', 0],
    ['0s', 0],
    ['+1s', 1000],
    ['-1s', -1000],
  ])('parses %s as %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toBeCloseTo(ms, 9);
  });

  it.each(['', '1', '2 m', 'm', '1x', '1.2.3s', 's1', '1m ', '.s', 'abc', '1d'])(
    'rejects %j as Go does',
    (text) => {
      expect(parseGoDuration(text)).toBeUndefined();
    },
  );

  it.each([
    [120_000, '2m0s'],
    [300_000, '5m0s'],
    [30_000, '30s'],
    [3_600_000, '1h0m0s'],
    [1500, '1.5s'],
    [500, '500ms'],
    [0, '0s'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatGoDuration(ms)).toBe(text);
  });

  it('accepts milliseconds numbers and names the option for bad values', () => {
    expect(toMilliseconds(2500, 'cacheTTL')).toBe(2500);
    expect(() => toMilliseconds('2 minutes', 'authentication.webhook.cacheTTL')).toThrow(
      /^authentication\.webhook\.cacheTTL: expected a non-negative duration/,
    );
    expect(() => toMilliseconds(-1, 'timeout')).toThrow(KubeletAuthError);
    expect(() => toMilliseconds('-5s', 'timeout')).toThrow(/timeout/);
    expect(() => toMilliseconds(Number.NaN, 'timeout')).toThrow(/timeout/);
  });
});
