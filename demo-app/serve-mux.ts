/**
 * Go's `http.ServeMux` in front of the mock, as in front of the kubelet: the kubelet registers
 * its endpoints with it, and what it answers itself comes before any authentication. A path no
 * registered pattern covers is a `404 page not found`; a path it would clean (`//`, `.` or `..`
 * segments) or complete with a slash (`/stats` for `/stats/`) is a 301 to that path; a `*`
 * target is Go's 200 (`OPTIONS *`) or 400. Everything else goes on to `kubeletAuth` and the
 * endpoints.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { FeatureGates } from './feature-gates.js';
import { HEALTHZ_CHECKS } from './payloads/sli-metrics.js';
import { NOT_FOUND, writeAnswer, type Answer } from './routes/http-answers.js';

/**
 * The patterns the kubelet registers, and `/spec` (an endpoint of the original kubelet API the
 * mock still serves): one ending in `/` covers its whole subtree, any other only itself. A
 * go-restful web service registers its root with and without the slash.
 */
export function kubeletPatterns(gates: Pick<FeatureGates, 'ContainerCheckpoint'>): string[] {
  const webServices = [
    '/pods',
    '/spec',
    '/run',
    '/exec',
    '/attach',
    '/portForward',
    '/containerLogs',
  ];
  return [
    '/healthz',
    ...HEALTHZ_CHECKS.map((check) => `/healthz/${check}`),
    ...webServices.flatMap((root) => [root, `${root}/`]),
    '/stats/',
    '/runningpods/',
    '/logs/',
    '/configz',
    '/metrics',
    '/metrics/cadvisor',
    '/metrics/resource',
    '/metrics/probes',
    '/metrics/slis',
    '/debug/pprof/',
    '/debug/flags/v',
    ...(gates.ContainerCheckpoint ? ['/checkpoint/'] : []),
  ];
}

/**
 * Go's ServeMux with `patterns` registered, as a function of the request: its own answer, or
 * `undefined` to pass the request on.
 */
export function kubeletMux(
  patterns: readonly string[],
): (method: string, target: string) => Answer | undefined {
  const registered = patterns.map((pattern) => ({
    segments: pattern.split('/').slice(1, pattern.endsWith('/') ? -1 : undefined),
    subtree: pattern.endsWith('/'),
  }));
  const matches = (segments: readonly string[]): boolean =>
    registered.some(
      (pattern) =>
        (pattern.subtree
          ? segments.length > pattern.segments.length
          : segments.length === pattern.segments.length) &&
        pattern.segments.every((segment, i) => segments[i] === segment),
    );

  return (method, target) => {
    if (target === '*') return method === 'OPTIONS' ? OPTIONS_STAR : STAR;
    const raw = requestPath(target);
    if (raw === undefined) return undefined;
    const decoded = unescapeBytes(raw);
    // A malformed escape: Go's server refuses it before the multiplexer; kubeletAuth does here.
    if (decoded === undefined) return undefined;
    // Go's `URL.EscapedPath`: the path as sent when it is a valid encoding, else escaped anew.
    const escaped = validEncoded(raw) ? raw : escapePath(decoded);
    const cleaned = cleanPath(escaped);
    const segments = cleaned
      .split('/')
      .slice(1)
      .map((segment) => (unescapeBytes(segment) as Buffer).toString('latin1'));
    const query = queryOf(target);
    const matched = matches(segments);
    if (!matched && !cleaned.endsWith('/') && matches([...segments, ''])) {
      // Go completes the decoded path, which it escapes again.
      const completed = `${cleanPath(decoded.toString('latin1'))}/`;
      return redirect(method, escapePath(Buffer.from(completed, 'latin1')) + query);
    }
    // Go escapes the cleaned (still escaped) path once more: a `%` in it becomes `%25`.
    if (cleaned !== escaped) return redirect(method, escapePath(Buffer.from(cleaned)) + query);
    return matched ? undefined : NOT_FOUND;
  };
}

/** The multiplexer as Express middleware: put it before `kubeletAuth`. */
export function serveMux(
  mux: (method: string, target: string) => Answer | undefined,
): RequestHandler {
  return function kubeletServeMux(req: Request, res: Response, next: NextFunction): void {
    const answer = mux(req.method, req.originalUrl);
    if (answer === undefined) next();
    else writeAnswer(res, answer);
  };
}

/**
 * The path of a request target as Go's `url.ParseRequestURI` reads it: up to the first `?`, a
 * `#` and a `\` kept as they are (Node's own parsing drops the one and turns the other into
 * `/`); after the authority of an absolute-form target, `''` where it has none.
 */
function requestPath(target: string): string | undefined {
  const at = target.indexOf('?');
  const path = at === -1 ? target : target.slice(0, at);
  if (path.startsWith('/')) return path;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(path);
  if (!scheme) return undefined;
  const slash = path.indexOf('/', scheme[0].length);
  return slash === -1 ? '' : path.slice(slash);
}

/** Go's server answers `OPTIONS *` itself. */
const OPTIONS_STAR: Answer = { status: 200, headers: { 'Content-Length': '0' }, body: '' };

/** Go's ServeMux refuses any other `*` target, and closes the connection. */
const STAR: Answer = { status: 400, headers: { Connection: 'close' }, body: '' };

/** Go's `http.Redirect` with 301: an HTML link for GET, a content type for GET and HEAD. */
function redirect(method: string, location: string): Answer {
  const headers: Record<string, string> = { Location: location };
  if (method !== 'GET' && method !== 'HEAD') return { status: 301, headers, body: '' };
  headers['Content-Type'] = 'text/html; charset=utf-8';
  return { status: 301, headers, body: method === 'GET' ? redirectLink(location) : '' };
}

/** The body of Go's `http.Redirect` of a GET with 301. */
function redirectLink(location: string): string {
  const escaped = location
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&#34;')
    .replaceAll("'", '&#39;');
  return `<a href="${escaped}">Moved Permanently</a>.\n\n`;
}

/** Go's `cleanPath`: `.` and `..` resolved, repeated slashes merged, a trailing slash kept. */
export function cleanPath(path: string): string {
  const kept: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') kept.pop();
    else kept.push(segment);
  }
  const cleaned = `/${kept.join('/')}`;
  return path.endsWith('/') && cleaned !== '/' ? `${cleaned}/` : cleaned;
}

/**
 * `text` (one byte per character, as Node reads a request target) percent-decoded to bytes, as
 * Go unescapes; `undefined` for a bad escape or a character that is no byte.
 */
function unescapeBytes(text: string): Buffer | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff) return undefined;
    if (text[i] !== '%') {
      bytes.push(code);
      continue;
    }
    const hex = text.slice(i + 1, i + 3);
    if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined;
    bytes.push(parseInt(hex, 16));
    i += 2;
  }
  return Buffer.from(bytes);
}

/** Bytes Go leaves as they are in a path: unreserved, and `$&+,/:;=@`. */
const PATH_SAFE = /^[A-Za-z0-9\-_.~$&+,/:;=@]$/;

/** Go's path escaping (`url.URL.String`): every other byte as `%XX`. */
function escapePath(bytes: Buffer): string {
  let out = '';
  for (const byte of bytes) {
    const char = String.fromCharCode(byte);
    out += PATH_SAFE.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Go's `validEncoded` for a path: only characters a path may carry as they are, and escapes. */
function validEncoded(raw: string): boolean {
  return /^[A-Za-z0-9\-_.~$&+,/:;=@!'()*[\]%]*$/.test(raw);
}

/** `?` and the query of a request target, or `''` (Go sends no `?` for an empty query). */
function queryOf(target: string): string {
  const at = target.indexOf('?');
  return at === -1 || at === target.length - 1 ? '' : target.slice(at);
}
