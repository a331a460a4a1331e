import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthRequest, Middleware } from '../contracts.js';
import { levelled, type Logger } from '../logger.js';
import { writeText } from '../responses.js';
import { kubeUser, type KubeUser } from '../user.js';
import { appendHeaderLines, inboundHeaderLines, removeHeadersWhere } from '../headers.js';
import { checkKnownKeys, invalidOption } from '../option-errors.js';

export { inboundHeaderLines };

/**
 * The headers an authenticating proxy writes and the server behind it reads (k8s.io/apiserver's
 * request-header authentication, client-go's `SetAuthProxyHeaders`). Names are matched without
 * regard to case.
 */
export interface IdentityHeaderNames {
  /** The user name. Default: `'X-Remote-User'`. */
  username?: string;
  /** The user's UID (sent only when the user has one). Default: `'X-Remote-Uid'`. */
  uid?: string;
  /** One header line per group. Default: `'X-Remote-Group'`. */
  group?: string;
  /**
   * Prefix of the `extra` headers: `<prefix><escaped key>: <value>`, one line per value.
   * Default: `'X-Remote-Extra-'`.
   */
  extraPrefix?: string;
}

/** The header names Kubernetes front proxies use (`--requestheader-*` as kubeadm sets them). */
export const DEFAULT_IDENTITY_HEADERS: Readonly<Required<IdentityHeaderNames>> = Object.freeze({
  username: 'X-Remote-User',
  uid: 'X-Remote-Uid',
  group: 'X-Remote-Group',
  extraPrefix: 'X-Remote-Extra-',
});

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

/** RFC 7230 `token`: the bytes a header name may hold. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Whether `name` may be a header name (an RFC 7230 `token`). */
export function isHeaderName(name: string): boolean {
  return TOKEN.test(name);
}
/** What Node (and Go) refuse in a header value once it is bytes: control characters but tab. */
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * Removes every inbound identity header (`X-Remote-User`, `X-Remote-Uid`, `X-Remote-Group`,
 * `X-Remote-Extra-*`, every repetition, and every spelling a server behind may read as one: any
 * case, `_` or another separator for `-`) from `req.headers`, `req.rawHeaders` and
 * `req.headersDistinct`, on HTTP/1.1 and HTTP/2 requests, so no route reads them and no proxy
 * forwards them, whichever of the three it copies. Returns how many header lines were removed. The lines as they arrived stay
 * readable to {@link express-kubelet-auth!RequestHeaderAuthenticator} only, which trusts them after verifying the
 * front proxy's certificate — so stripping first thing never breaks front-proxy authentication.
 *
 * @example
 * app.use((req, _res, next) => { stripIdentityHeaders(req); next(); });
 */
export function stripIdentityHeaders(req: AuthRequest, names?: IdentityHeaderNames): number {
  const n = resolveNames(names, 'stripIdentityHeaders');
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
 * as UTF-8, as Go sends it. Throws a `TypeError` for an empty user name or a value holding a
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
  const n = resolveNames(names, 'setIdentityHeaders');
  const lines = identityLines(user, n);
  removeHeaders(req, [n.username, n.uid, n.group], [n.extraPrefix]);
  appendHeaderLines(req, lines);
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
  if (typeof options !== 'object' || options === null) {
    throw invalidOption('identityHeaders: options must be an object');
  }
  const names = resolveNames(options.headers, 'identityHeaders: headers');
  const set = options.set ?? true;
  if (typeof set !== 'boolean') {
    throw invalidOption(`identityHeaders: set: expected true or false, got ${JSON.stringify(set)}`);
  }
  const logger = levelled(options.logger);
  const isIdentityHeader = identityNameMatcher(
    [names.username, names.uid, names.group],
    [names.extraPrefix],
  );
  return function identityHeadersMiddleware(
    req: IncomingMessage,
    res: ServerResponse,
    next: (error?: unknown) => void,
  ): void {
    const user = set ? kubeUser(req) : undefined;
    let lines: string[] | undefined;
    if (user) {
      try {
        lines = identityLines(user, names);
      } catch (error) {
        removeHeadersWhere(req, isIdentityHeader);
        logger.error(`identity headers not sent: ${(error as Error).message}`);
        return writeText(res, 500, 'Internal Server Error');
      }
    }
    removeHeadersWhere(req, isIdentityHeader);
    if (lines) appendHeaderLines(req, lines);
    next();
  };
}

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
      byte < 0x80 && char !== '%' && TOKEN.test(char)
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
  return removeHeadersWhere(req, identityNameMatcher(names, prefixes));
}

/**
 * Whether a header name is one of `names` or starts with one of `prefixes`, read as the servers
 * behind a proxy may read it: case ignored, and any character but a letter or digit taken for
 * `-`. CGI, WSGI and PHP turn `-` into `_` (some servers every such character), so to them
 * `X_Remote_User` or `x.remote.user` is `X-Remote-User`, merged with or overriding it.
 */
export function identityNameMatcher(
  names: readonly string[],
  prefixes: readonly string[],
): (name: string) => boolean {
  const exact = names.map(spelling);
  const starts = prefixes.map(spelling);
  return function isIdentityHeader(name: string): boolean {
    for (const candidate of exact) {
      if (name.length === candidate.length && sameSpelling(name, candidate)) return true;
    }
    for (const prefix of starts) {
      if (name.length >= prefix.length && sameSpelling(name, prefix)) return true;
    }
    return false;
  };
}

/** `name` as servers behind may read it: ASCII letters lower-cased, any other but digits `-`. */
function spelling(name: string): string {
  let out = '';
  for (let i = 0; i < name.length; i++) out += String.fromCharCode(spellingCode(name, i));
  return out;
}

/** Whether `name` begins with `spelled` (already a {@link spelling}) as servers may read it. */
function sameSpelling(name: string, spelled: string): boolean {
  for (let i = 0; i < spelled.length; i++) {
    if (spellingCode(name, i) !== spelled.charCodeAt(i)) return false;
  }
  return true;
}

function spellingCode(name: string, i: number): number {
  const c = name.charCodeAt(i);
  if (c >= 0x61 && c <= 0x7a) return c; // a-z
  if (c >= 0x41 && c <= 0x5a) return c | 0x20; // A-Z
  if (c >= 0x30 && c <= 0x39) return c; // 0-9
  return 0x2d; // '-'
}

/** Resolves header names, throwing a `TypeError` naming the one that is not a header name. */
function resolveNames(
  names: IdentityHeaderNames | undefined,
  where: string,
): Required<IdentityHeaderNames> {
  if (names === undefined) return DEFAULT_IDENTITY_HEADERS;
  if (typeof names !== 'object' || names === null) {
    throw invalidOption(`${where}: expected an object of header names`);
  }
  const known = Object.keys(DEFAULT_IDENTITY_HEADERS);
  checkKnownKeys(where, names, known);
  const resolved = { ...DEFAULT_IDENTITY_HEADERS };
  for (const key of known as (keyof IdentityHeaderNames)[]) {
    const value = names[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || !TOKEN.test(value)) {
      throw invalidOption(`${where}.${key}: not a header name: ${JSON.stringify(value)}`);
    }
    resolved[key] = value;
  }
  return resolved;
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

/** `value` as the one-byte-per-character string Node writes: its UTF-8 bytes. */
function headerValue(value: string, what: string): string {
  // eslint-disable-next-line no-control-regex
  const bytes = /^[\x00-\x7f]*$/.test(value)
    ? value
    : Buffer.from(value, 'utf8').toString('latin1');
  if (INVALID_VALUE.test(bytes)) {
    throw invalidOption(`${what} holds a control character and cannot be sent as a header`);
  }
  return bytes;
}
