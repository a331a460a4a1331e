import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthRequest } from '../authn/strategy-actions.js';
import type { Middleware } from '../authz/middleware.js';
import { stderrLogger, type Logger } from '../logger.js';
import { writeText } from '../responses.js';
import { kubeUser, type KubeUser } from '../user.js';

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

/** A request whose headers these functions read and change: `node:http` fields only. */
type HeaderRequest = AuthRequest & { headersDistinct?: Record<string, string[] | undefined> };

/** The raw header lines each request arrived with, kept when they are first changed here. */
const inbound = new WeakMap<object, readonly string[]>();

/**
 * Removes every inbound identity header (`X-Remote-User`, `X-Remote-Uid`, `X-Remote-Group`,
 * `X-Remote-Extra-*`, in any case, every repetition) from `req.headers`, `req.rawHeaders` and
 * `req.headersDistinct`, so no route reads them and no proxy forwards them, whichever of the
 * three it copies. Returns how many header lines were removed. The lines as they arrived stay
 * readable to {@link RequestHeaderAuthenticator} only, which trusts them after verifying the
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
  appendHeaders(req, lines);
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
    throw new TypeError('identityHeaders: options must be an object');
  }
  const names = resolveNames(options.headers, 'identityHeaders: headers');
  const set = options.set ?? true;
  if (typeof set !== 'boolean') {
    throw new TypeError(`identityHeaders: set: expected true or false, got ${JSON.stringify(set)}`);
  }
  const logger = options.logger ?? stderrLogger;
  const exact = [names.username, names.uid, names.group];
  const prefixes = [names.extraPrefix];
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
        removeHeaders(req, exact, prefixes);
        logger.warn(`identity headers not sent: ${(error as Error).message}`);
        return writeText(res, 500, 'Internal Server Error');
      }
    }
    removeHeaders(req, exact, prefixes);
    if (lines) appendHeaders(req, lines);
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
 * The header lines `req` arrived with, flat as `rawHeaders` (`[name, value, …]`): the ones kept
 * before this module first changed them, else the current ones. For the request-header
 * authenticator, which may run after {@link stripIdentityHeaders}.
 */
export function inboundHeaderLines(req: AuthRequest): readonly string[] {
  return inbound.get(req) ?? req.rawHeaders ?? linesOf(req.headers);
}

/**
 * Removes header lines whose name equals one of `names` or starts with one of `prefixes`
 * (ignoring case) from `headers`, `rawHeaders` and `headersDistinct`. Returns how many lines
 * (or, without `rawHeaders`, header fields) were removed.
 */
export function removeHeaders(
  req: AuthRequest,
  names: readonly string[],
  prefixes: readonly string[],
): number {
  const exact = new Set(names.map((name) => name.toLowerCase()));
  const starts = prefixes.map((prefix) => prefix.toLowerCase());
  const matches = (name: string): boolean => {
    const lower = name.toLowerCase();
    return exact.has(lower) || starts.some((prefix) => lower.startsWith(prefix));
  };
  const { headers, distinct, raw } = materialize(req);
  let removedFields = 0;
  for (const key of Object.keys(headers)) {
    if (matches(key)) {
      delete headers[key];
      removedFields++;
    }
  }
  if (distinct) for (const key of Object.keys(distinct)) if (matches(key)) delete distinct[key];
  if (!raw) return removedFields;
  const kept: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    if (!matches(name)) kept.push(name, raw[i + 1] as string);
  }
  const removed = (raw.length - kept.length) / 2;
  if (removed > 0) replaceRaw(req, kept);
  return removed;
}

/** Resolves header names, throwing a `TypeError` naming the one that is not a header name. */
function resolveNames(
  names: IdentityHeaderNames | undefined,
  where: string,
): Required<IdentityHeaderNames> {
  if (names === undefined) return DEFAULT_IDENTITY_HEADERS;
  if (typeof names !== 'object' || names === null) {
    throw new TypeError(`${where}: expected an object of header names`);
  }
  const known = Object.keys(DEFAULT_IDENTITY_HEADERS);
  for (const key of Object.keys(names)) {
    if (!known.includes(key)) {
      const hint = known.find((k) => k.toLowerCase() === key.toLowerCase());
      throw new TypeError(
        `${where}: unknown option ${JSON.stringify(key)}${hint ? ` (did you mean ${hint}?)` : ` (${known.join(', ')})`}`,
      );
    }
  }
  const resolved = { ...DEFAULT_IDENTITY_HEADERS };
  for (const key of known as (keyof IdentityHeaderNames)[]) {
    const value = names[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || !TOKEN.test(value)) {
      throw new TypeError(`${where}.${key}: not a header name: ${JSON.stringify(value)}`);
    }
    resolved[key] = value;
  }
  return resolved;
}

/** The lines that carry `user`, flat `[name, value, …]`, values as header bytes (UTF-8). */
function identityLines(user: KubeUser, names: Required<IdentityHeaderNames>): string[] {
  if (user.username === '') throw new TypeError('the user has an empty name');
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
    throw new TypeError(`${what} holds a control character and cannot be sent as a header`);
  }
  return bytes;
}

/** Adds lines to `headers` (one value: a string; several: an array), `rawHeaders`, `headersDistinct`. */
function appendHeaders(req: AuthRequest, lines: readonly string[]): void {
  const { headers, distinct, raw } = materialize(req);
  const byName = new Map<string, string[]>();
  for (let i = 0; i < lines.length; i += 2) {
    const key = (lines[i] as string).toLowerCase();
    const values = byName.get(key) ?? [];
    values.push(lines[i + 1] as string);
    byName.set(key, values);
  }
  for (const [key, values] of byName) {
    headers[key] = values.length === 1 ? values[0] : values;
    if (distinct) distinct[key] = [...values];
  }
  if (raw) replaceRaw(req, [...raw, ...lines]);
}

/**
 * The three views of the request's headers, `headers` and `headersDistinct` computed now: Node
 * builds them lazily from the first N entries of `rawHeaders` it parsed, so they must exist before
 * `rawHeaders` changes length, or they would later be built from the wrong list.
 */
function materialize(req: HeaderRequest): {
  headers: Record<string, string | string[] | undefined>;
  distinct: Record<string, string[] | undefined> | undefined;
  raw: string[] | undefined;
} {
  // Code that shortens `rawHeaders` itself keeps these views right (see authn/header-lines.ts).
  const headers = req.headers;
  const distinct = req.headersDistinct;
  const raw = req.rawHeaders;
  if (!inbound.has(req)) inbound.set(req, raw ?? linesOf(headers));
  return {
    headers,
    distinct: typeof distinct === 'object' && distinct !== null ? distinct : undefined,
    raw: Array.isArray(raw) ? raw : undefined,
  };
}

/** Swaps `rawHeaders` for a new array; the old one is never changed (it may be the kept copy). */
function replaceRaw(req: AuthRequest, lines: string[]): void {
  // HTTP/2 compatibility requests derive rawHeaders from headers and have no setter.
  Reflect.set(req, 'rawHeaders', lines);
}

/** `rawHeaders`-style lines for a request object that has only `headers`. */
function linesOf(headers: Record<string, string | string[] | undefined>): string[] {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) lines.push(name, v);
  }
  return lines;
}
