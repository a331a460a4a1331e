/**
 * The small answers every route shares, worded as Go's net/http and go-restful word them, so
 * clients that match on status lines and bodies see what a kubelet sends.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';

export const TEXT = 'text/plain; charset=utf-8';

/** Writes a complete body with an exact Content-Type (Express would append its own charset). */
export function send(res: Response, status: number, contentType: string, body: string): void {
  res.status(status);
  res.setHeader('Content-Type', contentType);
  res.end(body);
}

export function sendJson(res: Response, body: unknown, status = 200): void {
  send(res, status, 'application/json', JSON.stringify(body));
}

/** Go's `http.Error`: plain text, `nosniff`, and a trailing newline. */
export function sendError(res: Response, status: number, message: string): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  send(res, status, TEXT, `${message}\n`);
}

/**
 * go-restful's `Response.WriteError`: the message as it is, with no newline, no `nosniff` and no
 * content type of its own (Go sniffs plain text).
 */
export function sendRestfulError(res: Response, status: number, message: string): void {
  send(res, status, TEXT, message);
}

/** A complete answer as data, for code that writes it itself (a multiplexer, a raw socket). */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Go ServeMux's answer for a path nothing serves (`http.NotFound`). */
export const NOT_FOUND: Answer = {
  status: 404,
  headers: { 'Content-Type': TEXT, 'X-Content-Type-Options': 'nosniff' },
  body: '404 page not found\n',
};

export function notFound(_req: Request, res: Response): void {
  writeAnswer(res, NOT_FOUND);
}

export function writeAnswer(res: Response, answer: Answer): void {
  res.status(answer.status);
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  res.end(answer.body);
}

/**
 * Lets only `methods` through; anything else gets go-restful's 405, as the kubelet's routes
 * answer once authorized: an `Allow` header and `405: Method Not Allowed`, written without a
 * content type (Go sniffs it) or `nosniff`. HEAD is not GET here: the kubelet refuses it on these
 * routes.
 */
export function onlyMethods(...methods: string[]): RequestHandler {
  return function methodFilter(req: Request, res: Response, next: NextFunction): void {
    if (methods.includes(req.method)) {
      next();
      return;
    }
    res.setHeader('Allow', methods.join(', '));
    sendRestfulError(res, 405, '405: Method Not Allowed');
  };
}
