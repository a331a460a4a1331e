/**
 * Text that came from a request or a user, made safe to print on a terminal or write into a log
 * line: control characters (C0, DEL, C1), the line and paragraph separators and the
 * bidirectional formatting characters are written as escapes, so the input can neither drive
 * the terminal (colours, cursor, window title), nor start a forged line, nor reorder what is
 * displayed. The escapes (`\n`, `\r`, `\t`, `\uXXXX`) are also valid in JSON and YAML strings.
 */

// eslint-disable-next-line no-control-regex
const ESCAPED = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;
const ESCAPED_ALL = new RegExp(ESCAPED.source, 'g');

const SHORT: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * `text` with every control, separator and bidirectional formatting character escaped; other
 * text (backslashes included) unchanged.
 *
 * @example escapeControlCharacters('a\x1b[31mb\u2028') // 'a\\u001b[31mb\\u2028'
 */
export function escapeControlCharacters(text: string): string {
  if (!ESCAPED.test(text)) return text;
  return text.replace(
    ESCAPED_ALL,
    (c) => SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * Like {@link escapeControlCharacters}, but keeps line breaks: for output of several lines
 * (a command's report) whose values were escaped where they were put in.
 */
export function escapeControlCharactersInLines(text: string): string {
  return text.split('\n').map(escapeControlCharacters).join('\n');
}

/**
 * `text` as a double-quoted JSON string holding printable characters only: for a value inside a
 * log line or message, where quotes and backslashes must not end the value either.
 *
 * @example quoted('eve" decision=allowed') // '"eve\\" decision=allowed"'
 */
export function quoted(text: string): string {
  return escapeControlCharacters(JSON.stringify(text));
}
