import { KubeletAuthError } from './errors.js';

/**
 * A bad option or configuration, found when a factory runs, never on a request: a
 * `KubeletAuthError` with code `ERR_INVALID_OPTION` and a message naming the option.
 */
export function invalidOption(message: string): KubeletAuthError {
  return new KubeletAuthError('ERR_INVALID_OPTION', message);
}

/**
 * Throws {@link invalidOption} when `value` is not an object, or for the first key of `value`
 * that is not in `known`, naming it and the known name it most likely misspells (or, when none
 * is close, every known name). `aliases` maps names people write (other tools' flags and
 * fields) to the one they mean.
 */
export function checkKnownKeys(
  where: string,
  value: unknown,
  known: readonly string[],
  {
    aliases = {},
    noun = 'option',
  }: { aliases?: Readonly<Record<string, string>>; noun?: string } = {},
): void {
  if (typeof value !== 'object' || value === null) {
    throw invalidOption(
      `${where}: options must be an object, got ${value === null ? 'null' : typeof value}`,
    );
  }
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const hint = Object.hasOwn(aliases, key) ? aliases[key] : closest(key, known);
    throw invalidOption(
      `${where}: unknown ${noun} ${JSON.stringify(key)}${hint === undefined ? ` (known: ${known.join(', ')})` : ` (did you mean ${JSON.stringify(hint)}?)`}`,
    );
  }
}

/**
 * Throws {@link invalidOption} naming `where` unless `value` is a whole number ≥ 1 (a count, of
 * `unit` when given: `entries`, `characters`).
 */
export function checkCount(value: unknown, where: string, unit?: string): void {
  if (!Number.isInteger(value) || (value as number) < 1) {
    const what = unit === undefined ? 'a whole number' : `a whole number of ${unit}`;
    throw invalidOption(`${where}: expected ${what} ≥ 1, got ${String(value)}`);
  }
}

/** `value`, or `fallback` when it is undefined; throws {@link invalidOption} naming `where` unless a boolean. */
export function booleanOption(value: unknown, where: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw invalidOption(`${where}: expected true or false, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Throws {@link invalidOption} naming `where` unless `value` is an array of non-empty strings. */
export function checkNonEmptyStrings(value: unknown, where: string): void {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v !== '')) {
    throw invalidOption(`${where}: expected an array of non-empty strings`);
  }
}

/** Throws {@link invalidOption} naming `where` unless `value` is a finite number of ms ≥ 0. */
export function checkMilliseconds(value: unknown, where: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalidOption(`${where}: expected a number of milliseconds ≥ 0, got ${String(value)}`);
  }
}

/**
 * The option names of an options interface `T`, for {@link checkKnownKeys}, written as an object
 * of `true`s so that the compiler holds the list to the interface: a name missing or extra fails
 * to compile.
 *
 * @example const NAMES = optionNames<StderrLoggerOptions>({ level: true });
 */
export function optionNames<T>(names: Record<keyof T, true>): readonly string[] {
  return Object.keys(names);
}

/**
 * The candidate `word` most likely misspells: the same word in another case, or one at most two
 * edits away (the nearest). Undefined when none is that close.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  const sameLetters = candidates.find((c) => c.toLowerCase() === lower);
  if (sameLetters !== undefined) return sameLetters;
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** ` (did you mean "x"?)` for a close candidate, or nothing. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const hint = closest(word, candidates);
  return hint === undefined ? '' : ` (did you mean ${JSON.stringify(hint)}?)`;
}

// Levenshtein distance; the words here are short option, field and kind names.
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
