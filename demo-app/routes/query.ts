import type { Request } from 'express';

/**
 * The request's query as Go's `r.URL.Query()` reads it: everything after the first `?`, each
 * parameter with all its values in order (Express's own parser turns `a[b]=` into objects).
 */
export function goQuery(req: Request): URLSearchParams {
  const at = req.originalUrl.indexOf('?');
  return new URLSearchParams(at < 0 ? '' : req.originalUrl.slice(at + 1));
}
