/**
 * Go's `strconv.ParseBool`, which pflag uses for every boolean flag: exactly these spellings,
 * nothing else (`yes`, `on`, `tRuE` are errors in the kubelet, so they are errors here).
 */
const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Returns the boolean Go would read from `text`, or `undefined` where Go reports a syntax error. */
export function parseGoBool(text: string): boolean | undefined {
  if (TRUE.has(text)) return true;
  if (FALSE.has(text)) return false;
  return undefined;
}
