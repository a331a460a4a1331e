/**
 * One log line per request, written when the answer is finished (or the client went away):
 * time, method, path, user, authorization decision, status, latency, in logfmt. Never the query
 * string, headers or body: the Authorization header and tokens must not reach a log. Values from
 * the request have their control characters escaped.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { kubeUser } from 'express-kubelet-auth';
import { routedPath } from 'express-kubelet-auth/kubelet';
import { quoted } from 'express-kubelet-auth/parts';

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
    const path = logValue(routedPath(req.originalUrl) ?? '-');
    let logged = false;
    const log = (): void => {
      if (logged) return;
      logged = true;
      const ms = (performance.now() - started).toFixed(1);
      const user = kubeUser(req)?.username;
      const status = res.writableFinished || res.headersSent ? String(res.statusCode) : 'aborted';
      write(
        `${startedAt.toISOString()} method=${logValue(req.method)} path=${path} user=${user === undefined ? '-' : quoted(user)} decision=${decision(res)} status=${status} latency=${ms}ms`,
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

/**
 * A value of a log line as logfmt writes it: bare when it is printable ASCII that cannot end the
 * field, else a quoted string with its control characters escaped, so no request can break the
 * line, forge a field, or reach the terminal with a control character.
 */
export function logValue(text: string): string {
  return /^[\x21-\x7e]+$/.test(text) && !/["=\\]/.test(text) ? text : quoted(text);
}
