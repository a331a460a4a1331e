/**
 * How loosely a router may match a path prefix that the kubelet's tables and `pathRules` match
 * exactly, so that a path the two read differently can be refused instead of being authorized
 * under one rule and served by the handler of another.
 *
 * - Express 4 and 5 match routes and mount paths case-insensitively unless `caseSensitive` is set
 *   (per app or per `Router`), and a regular-expression route may carry the `i` flag; Connect
 *   always matches mount paths case-insensitively.
 * - Connect ends a mount path at `/`, at `.` or at the end: `app.use('/metrics', …)` serves
 *   `/metrics.json`.
 *
 * Case-insensitive matching there equates an ASCII letter with its other case only: regular
 * expressions without the `u` flag never fold a non-ASCII character to an ASCII one, and the
 * target Node hands a router has no character that lower-cases to ASCII but `A`–`Z`.
 */

/** Whether {@link routerMatches} can disagree with exact matching on `path`. */
export function mayRouteLoosely(path: string): boolean {
  return LOOSE.test(path);
}

/** `path` with ASCII capitals made lower case, as the matchers above compare it. */
export function foldCase(path: string): string {
  return path.replace(CAPITALS, (letter) => letter.toLowerCase());
}

/**
 * Whether a router may send `path` to a handler mounted at `prefix`: both already folded with
 * {@link foldCase}, `prefix` without a trailing `/` (`''` for `/`). The prefix must be followed
 * by `/`, `.` or the end of the path.
 */
export function routerMatches(foldedPath: string, foldedPrefix: string): boolean {
  if (!foldedPath.startsWith(foldedPrefix)) return false;
  const next = foldedPath.charCodeAt(foldedPrefix.length);
  return Number.isNaN(next) || next === SLASH || next === DOT;
}

const SLASH = 0x2f;
const DOT = 0x2e;
const CAPITALS = /[A-Z]/g;
const LOOSE = /[A-Z.]/;
