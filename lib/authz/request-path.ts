import type { IncomingMessage } from 'node:http';
import parseurl from 'parseurl';

/**
 * The path the kubelet authorizes: Go's decoded `URL.Path` (percent escapes decoded, query
 * dropped), taken from the whole URL the client sent (`originalUrl` inside Express routers).
 *
 * The path is read from the request target with `parseurl`, the parser Express 4, Express 5's
 * router and Connect route with, so the path authorized is the path routed, byte for byte, in
 * every form of target: origin-form (`/stats/summary`) and absolute-form
 * (`http://node-a:10250/stats/summary`, whose path is routed as is: no dot segment resolved).
 *
 * Returns `undefined` — the request gets 400 before anything else — for a path that Go would
 * refuse (a bad percent escape) and for paths on which the router and the authorizer could
 * disagree: Express routes on the raw path, while the kubelet's attributes come from the decoded
 * one. So these are refused rather than authorized as one thing and routed as another:
 * - dot segments (`/stats/../exec/x`, also when encoded: `%2e%2e`), which Go's mux would redirect;
 * - an encoded `/` or `\` (`/stats%2Fexec`), which is a separator for one side only;
 * - a `\` as written, which URL parsers (this one included, for absolute-form) turn into `/`;
 * - control characters, NUL included, as sent or after decoding, and a space, U+00A0 or U+FEFF
 *   as sent, which `url.parse` (behind parseurl) trims from a target;
 * - a target whose path does not start with `/` once parsed (other than `*`).
 *
 * @example requestPath({ url: 'http://node-a:10250/stats/summary?x=1' }) // '/stats/summary'
 */
export function requestPath(req: { url?: string; originalUrl?: string }): string | undefined {
  const checked = checkRequestPath(req);
  return typeof checked === 'string' ? checked : undefined;
}

/** Why {@link checkRequestPath} refuses a URL (each one a 400). */
export const PATH_REFUSALS = {
  unparseable: 'its path, as a router parses it, does not start with "/"',
  encodedSeparator:
    'it has an encoded "/" or "\\" (%2F, %5C): a separator for the authorizer, not for the router',
  backslash: 'it has a "\\", which URL parsers may read as "/"',
  badEscape: 'it has a malformed percent escape, which Go refuses to decode',
  control: 'it has a control character, as sent or once decoded',
  whitespace: 'it has a space, U+00A0 or U+FEFF as sent, which URL parsers may trim',
  dotSegment:
    'it has a "." or ".." segment (also when encoded): router and authorizer could disagree',
  routedElsewhere:
    'a router could serve it under another rule than the one it matches: routers match the path as sent (still encoded), and Express by default and Connect ignore case (Connect also ends a mount path at ".")',
} as const;

/**
 * {@link requestPath} with the reason for a refusal: the decoded path, or `{ refused }` naming
 * the rule that refuses it (for tools that explain the 400, such as `explain`).
 */
export function checkRequestPath(req: {
  url?: string;
  originalUrl?: string;
}): string | { refused: string } {
  const target = req.originalUrl ?? req.url ?? '/';
  const unsafe = unsafeCharacter(target);
  if (unsafe !== undefined) return { refused: unsafe };
  let raw = routedPath(target);
  if (raw === undefined || (!raw.startsWith('/') && !(raw === '*' && target === '*'))) {
    return { refused: PATH_REFUSALS.unparseable };
  }
  if (raw.includes('%')) {
    if (ENCODED_SEPARATOR.test(raw)) return { refused: PATH_REFUSALS.encodedSeparator };
    const decoded = percentDecode(raw);
    if (decoded === undefined) return { refused: PATH_REFUSALS.badEscape };
    raw = decoded;
  }
  const refused = controlOrDotSegment(raw);
  return refused === undefined ? raw : { refused };
}

/**
 * The path of a request target as Express and Connect route it, still percent-encoded: what
 * parseurl gives (`http://h/a/../b?q` → `/a/../b`), or `undefined` where it has none or throws.
 * For code that must read the target as the router does (a log line, a route of its own).
 *
 * @example routedPath('http://node-a:10250/exec/ns/p/c?command=date') // '/exec/ns/p/c'
 */
export function routedPath(target: string): string | undefined {
  try {
    // A fresh object: parseurl caches its result on what it is given.
    return parseurl({ url: target } as IncomingMessage)?.pathname ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * The query of a request target as Express reads it (parseurl's `query`, which a fragment ends
 * and which `/a#b?c` does not have), without the `?`; `''` for none.
 */
export function routedQuery(target: string): string {
  try {
    const query = parseurl({ url: target } as IncomingMessage)?.query;
    return typeof query === 'string' ? query : '';
  } catch {
    return '';
  }
}

/**
 * The path of a request as its router matches it (`originalUrl` inside Express routers), still
 * percent-encoded; the decoded path itself when the target has no `%` (decoding changes nothing
 * then), without parsing it again.
 */
export function routedPathOf(
  req: { url?: string; originalUrl?: string },
  decoded: string,
): string | undefined {
  const target = req.originalUrl ?? req.url ?? '/';
  return target.includes('%') ? routedPath(target) : decoded;
}

/**
 * The path a refused request is reported under (`onDecision`): as routed, still encoded, without
 * the query or an absolute-form authority, either of which may carry a credential.
 */
export function refusedPath(req: { url?: string; originalUrl?: string }): string {
  return routedPath(req.originalUrl ?? req.url ?? '/') ?? '';
}

/**
 * The refusal for a character of the target as sent on which parsers differ: a control character
 * or white space (`url.parse` trims it, the origin-form fast path keeps it), or a `\` before the
 * query (`url.parse` reads it as `/` in absolute-form and fragment-bearing targets, the fast path
 * keeps it). No HTTP/1.1 client sends these; an HTTP/2 `:path` or a lenient parser might.
 */
function unsafeCharacter(target: string): string | undefined {
  let refused: string | undefined;
  let query = false;
  for (let i = 0; i < target.length; i++) {
    const ch = target.charCodeAt(i);
    if (ch < 0x20 || ch === 0x7f) return PATH_REFUSALS.control;
    if (refused !== undefined) continue;
    if (ch === 0x20 || ch === 0xa0 || ch === 0xfeff) refused = PATH_REFUSALS.whitespace;
    else if (ch === 0x3f /* ? */) query = true;
    else if (ch === 0x5c /* \ */ && !query) refused = PATH_REFUSALS.backslash;
  }
  return refused;
}

/**
 * The refusal for a control character (U+0000–U+001F, U+007F) or a `.`/`..` segment in the
 * decoded path, in that order.
 */
function controlOrDotSegment(path: string): string | undefined {
  if (CONTROL.test(path)) return PATH_REFUSALS.control;
  return DOT_SEGMENT.test(path) ? PATH_REFUSALS.dotSegment : undefined;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;
const DOT_SEGMENT = /(^|\/)\.{1,2}(\/|$)/;
const ENCODED_SEPARATOR = /%(2f|5c)/i;
const HEX = /^[0-9a-fA-F]{2}$/;

/** Go's `unescape` for paths: every `%XX` becomes that byte; `+` stays; a bad escape fails. */
function percentDecode(raw: string): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const ch = raw.charCodeAt(i);
    if (ch === 0x25 /* % */) {
      const hex = raw.slice(i + 1, i + 3);
      if (!HEX.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (ch < 0x80) {
      bytes.push(ch);
    } else {
      for (const b of Buffer.from(raw[i] as string, 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
