/**
 * One log line per request, written when the answer is finished (or the client went away):
 * time, method, path, user, authorization decision, status, latency, in logfmt. Never the query
 * string, headers or body: the Authorization header and tokens must not reach a log.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { routedPath } from '../lib/authz/request-path.js';
import { kubeUser } from '../lib/user.js';

const AUTHORIZED = Symbol('mock-kubelet.authorized');

type Marked = Response & { [AUTHORIZED]?: boolean };

/** Placed right after `kubeletAuth`: reaching it means the request was authenticated and allowed. */
export function markAuthorized(_req: Request, res: Response, next: NextFunction): void {
  (res as Marked)[AUTHORIZED] = true;
  next();
}

/** Logs each request through `write` (one line, no newline). Put it first. */
export function requestLog(write: (line: string) => void): RequestHandler {
  return function logRequest(req: Request, res: Response, next: NextFunction): void {
    const started = performance.now();
    const startedAt = new Date();
    // The path as routed: an absolute-form target's authority (user:password@host) is no path.
    const path = safePath(routedPath(req.originalUrl) ?? '-');
    let logged = false;
    const log = (): void => {
      if (logged) return;
      logged = true;
      const ms = (performance.now() - started).toFixed(1);
      const user = kubeUser(req)?.username;
      const status = res.writableFinished || res.headersSent ? String(res.statusCode) : 'aborted';
      write(
        `${startedAt.toISOString()} method=${safeToken(req.method)} path=${path} user=${user === undefined ? '-' : JSON.stringify(user)} decision=${decision(res)} status=${status} latency=${ms}ms`,
      );
    };
    res.on('finish', log);
    res.on('close', log);
    next();
  };
}

function decision(res: Response): string {
  if ((res as Marked)[AUTHORIZED]) return 'allowed';
  switch (res.statusCode) {
    case 401:
      return 'unauthenticated';
    case 403:
      return 'forbidden';
    case 500:
      return 'error';
    default:
      return '-';
  }
}

// The path only (no query: it can carry credentials), with anything that could break the line
// or forge a field percent-encoded.
function safePath(url: string): string {
  const path = url.split('?')[0] ?? '';
  return path.replace(/[^\x21-\x7e]|"/g, (c) => encodeURIComponent(c)) || '/';
}

function safeToken(text: string): string {
  return text.replace(/[^\x21-\x7e]/g, '?');
}
