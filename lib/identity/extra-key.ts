import { isHeaderName } from './header-names.js';

/**
 * Escapes an `extra` key for a header name as client-go does: every byte of its UTF-8 form that
 * is not an HTTP token character, and `%` itself, becomes `%XX`. Upper-case letters are kept;
 * readers lower-case the name, so keys should be lower-case (Kubernetes' own are).
 *
 * @example encodeExtraHeaderKey('authentication.kubernetes.io/credential-id') // 'authentication.kubernetes.io%2Fcredential-id'
 */
export function encodeExtraHeaderKey(key: string): string {
  let out = '';
  for (const byte of Buffer.from(key, 'utf8')) {
    const char = String.fromCharCode(byte);
    out +=
      byte < 0x80 && char !== '%' && isHeaderName(char)
        ? char
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * The `extra` key a header name suffix stands for, as k8s.io/apiserver reads it: lower-cased,
 * then `%XX` decoded (Go's `url.PathUnescape`: `+` stays `+`); a suffix with a malformed escape
 * is kept as it is (lower-cased).
 *
 * @example decodeExtraHeaderKey('Authentication.kubernetes.io%2fcredential-id') // 'authentication.kubernetes.io/credential-id'
 */
export function decodeExtraHeaderKey(suffix: string): string {
  const lower = suffix.toLowerCase();
  if (!lower.includes('%')) return lower;
  const bytes: number[] = [];
  for (let i = 0; i < lower.length; i++) {
    const code = lower.charCodeAt(i);
    if (code !== 0x25) {
      bytes.push(...Buffer.from(lower[i] as string, 'utf8'));
      continue;
    }
    const hex = lower.slice(i + 1, i + 3);
    if (!/^[0-9a-f]{2}$/.test(hex)) return lower;
    bytes.push(parseInt(hex, 16));
    i += 2;
  }
  return Buffer.from(bytes).toString('utf8');
}
