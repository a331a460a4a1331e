import { decodeExtraHeaderKey } from '../identity/identity-headers.js';

/**
 * Reading a front proxy's identity headers as k8s.io/apiserver's `headerrequest` does, from the
 * request's header lines as they arrived (`[name, value, name, value, …]`), names matched without
 * regard to case.
 */

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A header's text. Node reads header bytes one per character (latin1); Go keeps them as bytes,
 * which are UTF-8 from Go clients — so valid UTF-8 is decoded, anything else kept as it is.
 */
function headerText(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(value) || /[^\x00-\xff]/.test(value)) return value;
  try {
    return utf8.decode(Buffer.from(value, 'latin1'));
  } catch {
    return value;
  }
}

/** Go's `headerValue`: for each name in order, its first line; the first non-empty one wins. */
export function firstValue(lines: readonly string[], names: readonly string[]): string {
  for (const name of names) {
    const lower = name.toLowerCase();
    for (let i = 0; i + 1 < lines.length; i += 2) {
      if ((lines[i] as string).toLowerCase() !== lower) continue;
      const value = lines[i + 1] as string;
      if (value !== '') return headerText(value);
      break;
    }
  }
  return '';
}

/** Go's `allHeaderValues`: every non-empty line of every name, names in order. */
export function allValues(lines: readonly string[], names: readonly string[]): string[] {
  const values: string[] = [];
  for (const name of names) {
    const lower = name.toLowerCase();
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const value = lines[i + 1] as string;
      if ((lines[i] as string).toLowerCase() === lower && value !== '')
        values.push(headerText(value));
    }
  }
  return values;
}

/** Go's `newExtra`: key = the name after the prefix, lower-cased and unescaped; every value kept. */
export function extraValues(
  lines: readonly string[],
  prefixes: readonly string[],
): Record<string, string[]> {
  const extra = new Map<string, string[]>();
  for (const prefix of prefixes) {
    const lower = prefix.toLowerCase();
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const name = lines[i] as string;
      if (!name.toLowerCase().startsWith(lower)) continue;
      const key = decodeExtraHeaderKey(name.slice(prefix.length));
      const values = extra.get(key) ?? [];
      values.push(headerText(lines[i + 1] as string));
      extra.set(key, values);
    }
  }
  // fromEntries defines own properties, so a `__proto__` key is just a key.
  return Object.fromEntries(extra);
}
