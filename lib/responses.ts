import type { ServerResponse } from 'node:http';
import type { Attributes, AuthzVerdict, Gone, Reply } from './contracts.js';
import type { Logger } from './logger.js';
import { closeIfBodyUnread } from './unread-body.js';

/** A reply, frozen: the same object may answer many requests. */
export function reply(status: number, body: string): Reply {
  return Object.freeze({ kind: 'reply', status, body });
}

/** 401 `Unauthorized`, no newline: authentication failed or was impossible. */
export const UNAUTHORIZED = reply(401, 'Unauthorized');

/** 400, as Go's net/http answers a request URL it cannot parse. */
export const BAD_REQUEST = reply(400, '400 Bad Request');

/** 500, for an attributes function or authorizer that broke: fail closed. */
export const INTERNAL_ERROR = reply(500, 'Internal Server Error');

export const ALLOWED: AuthzVerdict = Object.freeze({ kind: 'allowed' });

export const GONE: Gone = Object.freeze({ kind: 'gone' });

/** 403 `Forbidden (user=…, verb=…, resource=…, subresource(s)=[a b])` and a newline. */
export function forbidden(attributes: readonly Attributes[]): Reply {
  return reply(403, forbiddenMessage(attributes));
}

/** 500 `Authorization error (user=…, verb=…, resource=…, subresource=…)`, for the record that failed. */
export function authorizationError(failed: Attributes): Reply {
  return reply(500, authorizationErrorMessage(failed));
}

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
  // A body still arriving is read on only so far (`res.req` is missing only on a hand-built response).
  if (res.req) closeIfBodyUnread(res.req, res);
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

export function writeReply(res: ServerResponse, answer: Reply): void {
  writeText(res, answer.status, answer.body);
}

/**
 * Carries out a verdict on a Connect/Express response: writes the reply, or calls `pass`; a
 * promised verdict once it settles. A verdict that fails to come (a broken authorizer, a
 * throwing `pass`) is a logged 500: fail closed, answer once.
 */
export function carryOut<V extends { readonly kind: string }>(
  verdict: V | Reply | Gone | Promise<V | Reply | Gone>,
  res: ServerResponse,
  pass: (verdict: V) => void,
  logger: Required<Logger>,
): void {
  if (!(verdict instanceof Promise)) return apply(verdict, res, pass);
  verdict
    .then((settled) => {
      // The client left (or someone answered) while a review ran.
      if (!responseClosed(res)) apply(settled, res, pass);
    })
    .catch((error: unknown) => {
      logger.error(
        `authorization failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      if (!responseClosed(res)) writeReply(res, INTERNAL_ERROR);
    });
}

function apply<V extends { readonly kind: string }>(
  verdict: V | Reply | Gone,
  res: ServerResponse,
  pass: (verdict: V) => void,
): void {
  if (isReply(verdict)) writeReply(res, verdict);
  else if (verdict.kind !== 'gone') pass(verdict as V);
}

function isReply(verdict: { readonly kind: string }): verdict is Reply {
  return verdict.kind === 'reply';
}

/**
 * Whether a request may no longer be answered or passed on: its response was ended (by someone
 * else, while a review ran) or its connection is gone. Checked after every wait.
 */
export function responseClosed(res: ServerResponse): boolean {
  return res.writableEnded || res.destroyed;
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
