/**
 * The stand-in API server's answers, as kube-apiserver writes them: JSON with its headers, and
 * failures as a `Status` object.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** The `reason` of a `Status`, by HTTP status. */
export const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** A failure to answer with a `Status` object. */
export class HttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export function sendStatus(
  res: ServerResponse,
  code: number,
  message: string,
  details?: Record<string, unknown>,
  headers: Record<string, string> = {},
): void {
  const status: Record<string, unknown> = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: REASONS[code] ?? 'Unknown',
  };
  if (details) status['details'] = details;
  status['code'] = code;
  sendRaw(res, code, JSON.stringify(status), headers);
}

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  sendRaw(res, code, JSON.stringify(body));
}

export function sendRaw(
  res: ServerResponse,
  code: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const payload = Buffer.from(text);
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': payload.length,
    'Cache-Control': 'no-cache, private',
    'Audit-Id': randomUUID(),
    ...headers,
  });
  res.end(payload);
}
