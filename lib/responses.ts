import type { ServerResponse } from 'node:http';
import type { Attributes } from './contracts.js';

/**
 * The kubelet's answers, byte for byte as the newest kubelet writes them. go-restful sets no
 * content type and Go's net/http sniffs `text/plain; charset=utf-8`; no WWW-Authenticate.
 */
export function writeText(res: ServerResponse, status: number, body: string): void {
  if (res.headersSent) {
    // Something downstream already answered; never write twice.
    res.destroy();
    return;
  }
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/**
 * Whether a request may no longer be answered or passed on: its response was ended (by someone
 * else, while a review ran) or its connection is gone. Checked after every wait.
 */
export function responseClosed(res: ServerResponse): boolean {
  return res.writableEnded || res.destroyed;
}

/** 401 `Unauthorized`, no newline: authentication failed or was impossible. */
export function writeUnauthorized(res: ServerResponse): void {
  writeText(res, 401, 'Unauthorized');
}

/** 400, as Go's net/http answers a request URL it cannot parse. */
export function writeBadRequest(res: ServerResponse): void {
  writeText(res, 400, '400 Bad Request');
}

/** 403 `Forbidden (user=…, verb=…, resource=…, subresource(s)=[a b])` and a newline. */
export function writeForbidden(res: ServerResponse, attributes: readonly Attributes[]): void {
  writeText(res, 403, forbiddenMessage(attributes));
}

/** 500 `Authorization error (user=…, verb=…, resource=…, subresource=…)`, for the record that failed. */
export function writeAuthorizationError(res: ServerResponse, failed: Attributes): void {
  writeText(res, 500, authorizationErrorMessage(failed));
}

export function forbiddenMessage(attributes: readonly Attributes[]): string {
  const first = attributes[0];
  if (!first) return 'Authorization error: could not determine attributes for request';
  if (!first.resourceRequest) {
    return `Forbidden (user=${first.user.username}, verb=${first.verb}, path=${first.path})\n`;
  }
  // Go prints a []string as [a b].
  const subresources = attributes.map((a) => a.subresource).join(' ');
  return `Forbidden (user=${first.user.username}, verb=${first.verb}, resource=${first.resource}, subresource(s)=[${subresources}])\n`;
}

export function authorizationErrorMessage(failed: Attributes): string {
  if (!failed.resourceRequest) {
    return `Authorization error (user=${failed.user.username}, verb=${failed.verb}, path=${failed.path})`;
  }
  return `Authorization error (user=${failed.user.username}, verb=${failed.verb}, resource=${failed.resource}, subresource=${failed.subresource})`;
}
