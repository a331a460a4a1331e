import { removeHeader } from '../headers.js';
import type { AuthRequest } from '../contracts.js';
/**
 * The kubelet's reading of `Authorization: Bearer <token>` (k8s.io/apiserver `bearertoken`):
 * trim; split on single spaces into at most three parts; the scheme is `bearer` in any case;
 * the token is the second part exactly (a third part is ignored; two spaces give an empty token).
 * Returns `undefined` for "no bearer token here", which is not an error.
 *
 * @example parseBearerToken('Bearer abc def') === 'abc'
 */
export function parseBearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  // As `strings.Split(value, " ")`: the scheme, then the token up to the next space.
  const space = value.indexOf(' ');
  if (space !== 6 || value.slice(0, 6).toLowerCase() !== 'bearer') return undefined;
  const end = value.indexOf(' ', 7);
  const token = end === -1 ? value.slice(7) : value.slice(7, end);
  return token === '' ? undefined : token;
}

/** The `Authorization` header value (Node keeps only the first of repeated ones). */
export function authorizationHeader(req: AuthRequest): string | undefined {
  const value = req.headers.authorization;
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Removes every `Authorization` header from the request once a token was accepted, so that the
 * credential never reaches downstream handlers (the kubelet deletes it the same way).
 */
export function removeAuthorizationHeader(req: AuthRequest): void {
  removeHeader(req, 'authorization');
}
