import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthRequest, Middleware } from '../contracts.js';
import { appendHeaderLines, linesOf, removeHeadersWhere } from '../headers.js';
import { levelled, type Logger } from '../logger.js';
import { checkKnownKeys, invalidOption, optionNames } from '../option-errors.js';
import { writeText } from '../responses.js';
import { kubeUser, type KubeUser } from '../user.js';
import { encodeExtraHeaderKey } from './extra-key.js';
import { resolveIdentityHeaderNames, type IdentityHeaderNames } from './header-names.js';
import { identityNameMatcher } from './header-spelling.js';

// What the authenticators, the options and the package's root import from here.
export {
  DEFAULT_IDENTITY_HEADERS,
  isHeaderName,
  type IdentityHeaderNames,
} from './header-names.js';
export { decodeExtraHeaderKey, encodeExtraHeaderKey } from './extra-key.js';

/** Options of {@link identityHeaders}. */
export interface IdentityHeadersOptions {
  /** The header names to strip and write. Default: {@link DEFAULT_IDENTITY_HEADERS}. */
  headers?: IdentityHeaderNames;
  /**
   * Write `req.user` as headers after stripping the inbound ones. `false` only strips: the form
   * to put first in the stack. Default: `true`.
   */
  set?: boolean;
  /** Where a user that cannot be written as headers is reported. Default: standard error. */
  logger?: Logger;
}

const IDENTITY_HEADERS_OPTIONS = optionNames<IdentityHeadersOptions>({
  headers: true,
  set: true,
  logger: true,
});

/**
 * Removes every inbound identity header (`X-Remote-User`, `X-Remote-Uid`, `X-Remote-Group`,
 * `X-Remote-Extra-*`, every repetition, and every spelling a server behind may read as one: any
 * case, `_` or another separator for `-`) from `req.headers`, `req.rawHeaders` and
 * `req.headersDistinct`, on HTTP/1.1 and HTTP/2 requests, so no route reads them and no proxy
 * forwards them, whichever of the three it copies. Returns how many header lines were removed.
 * The lines as they arrived stay readable to {@link express-kubelet-auth!RequestHeaderAuthenticator} only, which
 * trusts them after verifying the front proxy's certificate — so stripping first thing never
 * breaks front-proxy authentication.
 *
 * @example
 * app.use((req, _res, next) => { stripIdentityHeaders(req); next(); });
 */
export function stripIdentityHeaders(req: AuthRequest, names?: IdentityHeaderNames): number {
  const n = resolveIdentityHeaderNames(names, 'stripIdentityHeaders');
  return removeHeaders(req, [n.username, n.uid, n.group], [n.extraPrefix]);
}

/**
 * Replaces the request's identity headers with `user`, as client-go's `SetAuthProxyHeaders` does
 * for the aggregator: first strips every inbound one (see {@link stripIdentityHeaders}), then
 * writes `X-Remote-User`, `X-Remote-Uid` (when the user has one), one `X-Remote-Group` line per
 * group and one `X-Remote-Extra-<key>` line per extra value, the key escaped as upstream expects
 * ({@link encodeExtraHeaderKey}). Written to `req.headers` (a header with several lines as an
 * array, which `http.request` and http-proxy send as repeated lines — never joined with commas,
 * which would merge groups), `req.rawHeaders` and `req.headersDistinct`. Non-ASCII text is sent
 * as UTF-8, as Go sends it. Throws `ERR_INVALID_OPTION` for an empty user name or a value holding a
 * control character (such a header cannot be sent). The caller's user object is not changed.
 *
 * @example
 * setIdentityHeaders(req, kubeUser(req)!); // then proxy the request onward
 */
export function setIdentityHeaders(
  req: AuthRequest,
  user: KubeUser,
  names?: IdentityHeaderNames,
): void {
  const n = resolveIdentityHeaderNames(names, 'setIdentityHeaders');
  const lines = identityLines(user, n);
  removeHeaders(req, [n.username, n.uid, n.group], [n.extraPrefix]);
  appendIdentityLines(req, lines);
}

/**
 * Middleware for apps that proxy requests onward: strips the inbound identity headers, then (by
 * default) writes the authenticated `req.user` as headers, so the server behind sees exactly who
 * was authenticated and authorized here and nothing a caller sent. Put it after authorization,
 * right before the proxy. Optionally also put `identityHeaders({ set: false })` first in the
 * stack, so no middleware in between sees what a caller sent; front-proxy authentication still
 * works (it reads the stripped lines, and only from a verified front proxy). Without a `req.user`
 * it only strips. A user that cannot be written (see {@link setIdentityHeaders}) gets 500.
 *
 * @example
 * app.use(identityHeaders({ set: false })); // first: nothing below sees injected headers
 * app.use(auth);                            // kubeletAuth, or passport + kubeletAuthz
 * app.use(identityHeaders());               // last before the proxy: who was authorized here
 * app.use(proxy);
 */
export function identityHeaders(options: IdentityHeadersOptions = {}): Middleware {
  const rewrite = identityRewrite(options, 'identityHeaders');
  return function identityHeadersMiddleware(
    req: IncomingMessage,
    res: ServerResponse,
    next: (error?: unknown) => void,
  ): void {
    if (rewrite(req)) next();
    else writeText(res, 500, 'Internal Server Error');
  };
}

/**
 * What {@link identityHeaders} does to a request, apart from any framework: strips the inbound
 * identity headers and (unless `set` is `false`) writes `req.user` as headers. Returns `false`,
 * the headers stripped and the reason logged, for a user that cannot be written as headers:
 * the request then gets 500. `caller` names the option in errors.
 */
export function identityRewrite(
  options: IdentityHeadersOptions,
  caller: string,
): (req: AuthRequest) => boolean {
  if (typeof options !== 'object' || options === null) {
    throw invalidOption(`${caller}: options must be an object`);
  }
  checkKnownKeys(caller, options, IDENTITY_HEADERS_OPTIONS);
  const names = resolveIdentityHeaderNames(options.headers, `${caller}: headers`);
  const set = options.set ?? true;
  if (typeof set !== 'boolean') {
    throw invalidOption(`${caller}: set: expected true or false, got ${JSON.stringify(set)}`);
  }
  const logger = levelled(options.logger);
  const isIdentityHeader = identityNameMatcher(
    [names.username, names.uid, names.group],
    [names.extraPrefix],
  );
  return function rewriteIdentityHeaders(req) {
    const user = set ? kubeUser(req) : undefined;
    let lines: string[] | undefined;
    if (user) {
      try {
        lines = identityLines(user, names);
      } catch (error) {
        removeHeadersWhere(req, isIdentityHeader, keepArrivedLines);
        logger.error(`identity headers not sent: ${(error as Error).message}`);
        return false;
      }
    }
    removeHeadersWhere(req, isIdentityHeader, keepArrivedLines);
    if (lines) appendIdentityLines(req, lines);
    return true;
  };
}

/**
 * Removes header lines whose name is one of `names` or starts with one of `prefixes` as servers
 * behind may read it (see {@link identityNameMatcher}) from `headers`, `rawHeaders` and
 * `headersDistinct`. Returns how many lines (or, without `rawHeaders`, header fields) were
 * removed.
 */
export function removeHeaders(
  req: AuthRequest,
  names: readonly string[],
  prefixes: readonly string[],
): number {
  return removeHeadersWhere(req, identityNameMatcher(names, prefixes), keepArrivedLines);
}

/** The header lines of each request as they were before its identity headers were first changed. */
const arrived = new WeakMap<object, readonly string[]>();

/**
 * The header lines `req` arrived with, flat as `rawHeaders` (`[name, value, …]`): as they were
 * before its identity headers were first changed here (the front proxy's assertion stays
 * readable), else the current ones.
 */
export function inboundHeaderLines(req: AuthRequest): readonly string[] {
  return arrived.get(req) ?? currentLines(req);
}

function keepArrivedLines(req: AuthRequest): void {
  if (!arrived.has(req)) arrived.set(req, [...currentLines(req)]);
}

/** The header lines `req` has now: `rawHeaders`, or lines made from `headers` without it. */
function currentLines(req: AuthRequest): readonly string[] {
  return Array.isArray(req.rawHeaders) ? req.rawHeaders : linesOf(req.headers);
}

function appendIdentityLines(req: AuthRequest, lines: readonly string[]): void {
  keepArrivedLines(req);
  appendHeaderLines(req, lines);
}

/** The lines that carry `user`, flat `[name, value, …]`, values as header bytes (UTF-8). */
function identityLines(user: KubeUser, names: Required<IdentityHeaderNames>): string[] {
  if (user.username === '') throw invalidOption('the user has an empty name');
  const lines = [names.username, headerValue(user.username, 'user name')];
  if (user.uid) lines.push(names.uid, headerValue(user.uid, 'uid'));
  for (const group of user.groups) lines.push(names.group, headerValue(group, 'a group'));
  for (const [key, values] of Object.entries(user.extra ?? {})) {
    const name = `${names.extraPrefix}${encodeExtraHeaderKey(key)}`;
    for (const value of values) lines.push(name, headerValue(value, 'an extra value'));
  }
  return lines;
}

/** What Node (and Go) refuse in a header value once it is bytes: control characters but tab. */
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/** `value` as the one-byte-per-character string Node writes: its UTF-8 bytes. */
function headerValue(value: string, what: string): string {
  const bytes = Buffer.from(value, 'utf8').toString('latin1');
  if (INVALID_VALUE.test(bytes)) {
    throw invalidOption(`${what} holds a control character and cannot be sent as a header`);
  }
  return bytes;
}
