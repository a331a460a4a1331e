/**
 * Timestamps as Go writes them: `metav1.Time` marshals RFC 3339 with whole seconds; log lines
 * use RFC3339Nano, whose fraction drops trailing zeros.
 */

/** `2026-01-02T03:04:05Z`. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

/** `2026-01-02T03:04:05.12Z` (Go's RFC3339Nano, millisecond precision here). */
export function rfc3339Nano(date: Date): string {
  return date.toISOString().replace(/\.(\d+)Z$/, (_match, fraction: string) => {
    const trimmed = fraction.replace(/0+$/, '');
    return trimmed === '' ? 'Z' : `.${trimmed}Z`;
  });
}
