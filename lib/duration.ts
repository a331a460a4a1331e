import { invalidOption } from './option-errors.js';

/**
 * Go duration strings (`time.ParseDuration`), the format every KubeletConfiguration TTL uses.
 * Options accept either such a string or a number of milliseconds.
 */

/** A duration: a Go duration string such as `'2m0s'`, `'30s'`, `'1h'`, or milliseconds. */
export type Duration = string | number;

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3, // U+00B5 micro sign
  μs: 1e-3, // U+03BC Greek mu
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

// One "<number><unit>" element; Go allows `1.5h`, `.5s`, `1.s`.
const ELEMENT = /(\d*\.?\d*)([a-zµμ]+)/y;

/**
 * Parses a Go duration string into milliseconds, as Go's `time.ParseDuration` accepts it.
 * Returns `undefined` for text Go would reject.
 *
 * @example parseGoDuration('2m0s') === 120000
 */
export function parseGoDuration(text: string): number | undefined {
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let total = 0;
  ELEMENT.lastIndex = 0;
  while (ELEMENT.lastIndex < rest.length) {
    const match = ELEMENT.exec(rest);
    if (!match) return undefined;
    const [, digits = '', unit = ''] = match;
    const scale = UNIT_MS[unit];
    // Go requires at least one digit in each element and a known unit.
    if (scale === undefined || !/\d/.test(digits)) return undefined;
    total += Number(digits) * scale;
  }
  return sign * total;
}

/**
 * Resolves a {@link Duration} option to milliseconds, throwing an `ERR_INVALID_OPTION` naming the
 * option when it is not a valid, non-negative duration.
 */
export function toMilliseconds(value: Duration, optionName: string): number {
  const ms = typeof value === 'number' ? value : parseGoDuration(value);
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) {
    throw invalidOption(
      `${optionName}: expected a non-negative duration such as '2m0s', '30s' or a number of milliseconds, got ${JSON.stringify(value)}`,
    );
  }
  return ms;
}

/**
 * Formats milliseconds the way Go's `time.Duration.String` does (`2m0s`, `30s`, `1h0m0s`,
 * `500ms`), for showing effective configuration.
 */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  if (rest < 1000) {
    if (rest >= 1) return `${sign}${trim(rest)}ms`;
    if (rest >= 1e-3) return `${sign}${trim(rest * 1e3)}µs`;
    return `${sign}${trim(rest * 1e6)}ns`;
  }
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = `${trim(rest / 1000)}s`;
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}`;
  return `${sign}${seconds}`;
}

function trim(n: number): string {
  return String(Number(n.toFixed(9)));
}
