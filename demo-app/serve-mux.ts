/**
 * Go's `http.ServeMux` in front of the mock, as in front of the kubelet: the kubelet registers
 * its endpoints with it, and what it answers itself comes before any authentication. A path no
 * registered pattern covers is a `404 page not found`; a path it would clean (`//`, `.` or `..`
 * segments) or complete with a slash (`/stats` for `/stats/`) is a 301 to that path. Everything
 * else goes on to `kubeletAuth` and the endpoints.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { routedPath } from 'express-kubelet-auth/kubelet';
import type { FeatureGates } from './feature-gates.js';
import { HEALTHZ_CHECKS } from './payloads/sli-metrics.js';
import { notFound } from './routes/http-answers.js';

/**
 * The patterns the kubelet registers: one ending in `/` covers its whole subtree, any other only
 * itself. A go-restful web service registers its root with and without the slash.
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

/** The ServeMux of `patterns`, as Express middleware: put it before `kubeletAuth`. */
export function serveMux(patterns: readonly string[]): RequestHandler {
  const registered = patterns.map((pattern) => ({
    segments: pattern.split('/').slice(1, pattern.endsWith('/') ? -1 : undefined),
    subtree: pattern.endsWith('/'),
  }));
  const matches = (segments: readonly string[]): boolean =>
    registered.some((pattern) =>
      pattern.subtree
        ? segments.length > pattern.segments.length &&
          pattern.segments.every((segment, i) => segments[i] === segment)
        : segments.length === pattern.segments.length &&
          pattern.segments.every((segment, i) => segments[i] === segment),
    );

  return function kubeletServeMux(req: Request, res: Response, next: NextFunction): void {
    const escaped = routedPath(req.originalUrl);
    // `*` (OPTIONS) and the like: not a path the multiplexer sees.
    if (escaped === undefined || !escaped.startsWith('/')) return next();
    const cleaned = cleanPath(escaped);
    const segments = decodedSegments(cleaned);
    // A malformed escape: Go's server refuses it before the multiplexer; kubeletAuth does here.
    if (segments === undefined) return next();
    const query = queryOf(req.originalUrl);
    if (!matches(segments)) {
      if (!cleaned.endsWith('/') && matches([...segments, ''])) {
        return redirect(req, res, `${cleaned}/${query}`);
      }
      if (cleaned !== escaped) return redirect(req, res, cleaned + query);
      return notFound(req, res);
    }
    if (cleaned !== escaped) return redirect(req, res, cleaned + query);
    next();
  };
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

/** The segments of a clean path, each percent-decoded (as the multiplexer matches them). */
function decodedSegments(path: string): string[] | undefined {
  try {
    return path.split('/').slice(1).map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

/** `?` and the query of a request target, or `''`. */
function queryOf(target: string): string {
  const at = target.indexOf('?');
  return at === -1 || at === target.length - 1 ? '' : target.slice(at);
}

/** Go's `http.Redirect` with 301: an HTML link for GET, a content type for GET and HEAD. */
function redirect(req: Request, res: Response, location: string): void {
  res.statusCode = 301;
  res.setHeader('Location', location);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.end();
    return;
  }
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.end(
    req.method === 'GET' ? `<a href="${htmlEscape(location)}">Moved Permanently</a>.\n\n` : '',
  );
}

function htmlEscape(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&#34;')
    .replaceAll("'", '&#39;');
}
