import type { IncomingMessage, ServerResponse } from 'node:http';
import { escapeControlCharacters, quoted } from '../control-characters.js';
import type { Logger } from '../logger.js';
import {
  ALLOWED,
  authorizationError,
  BAD_REQUEST,
  forbidden,
  GONE,
  INTERNAL_ERROR,
  reply,
  responseClosed,
} from '../responses.js';
import {
  authorizeSafely,
  type AllOf,
  type Attributes,
  type AttributesFunction,
  type AuthorizationResult,
  type Authorizer,
  type AuthzVerdict,
  type DecisionEvent,
  type KubeUser,
  type PathRefused,
} from '../contracts.js';
import { refusalEvent } from './decision-event.js';

/**
 * Authorizes one request whose user and decoded path are known. `startedAt` (a
 * `performance.now()` time) is when deciding began, for the event's latency.
 */
export type RequestAuthorization = (
  req: IncomingMessage,
  res: ServerResponse,
  user: KubeUser,
  path: string,
  startedAt: number,
) => AuthzVerdict | Promise<AuthzVerdict>;

export interface RequestAuthorizationOptions {
  authorizer: Authorizer;
  attributes: AttributesFunction;
  logger: Required<Logger>;
  /** Told of every outcome; never throws (see `notifier`). */
  emit: ((event: DecisionEvent) => void) | undefined;
}

/** One request's deciding, with what its event needs to know. */
interface Deciding {
  method: string;
  res: ServerResponse;
  user: KubeUser;
  path: string;
  attributes: readonly Attributes[];
  /** Every record must be allowed (`{ allOf }`), not just one. */
  all: boolean;
  startedAt: number;
  reasons: string[];
}

/**
 * The kubelet's authorization: derive the attribute records, ask them in order, the first
 * `Allow` passes (with `{ allOf }`, every record must). All denied: 403 `Forbidden (…)`; an
 * authorizer error: 500 `Authorization error (…)`; a path the attributes refuse: 400.
 * Each record is answered by `authorizer.peek` when it can (a cached decision, no wait) and
 * by `authorizer.authorize` otherwise.
 */
export function requestAuthorization(options: RequestAuthorizationOptions): RequestAuthorization {
  const { authorizer, attributes: derive, logger, emit } = options;
  const peek = authorizer.peek?.bind(authorizer);

  function report(d: Deciding, decision: DecisionEvent['decision'], decidedBy?: Attributes): void {
    if (!emit) return;
    const event: DecisionEvent = {
      decision,
      method: d.method,
      path: d.path,
      user: d.user,
      attributes: d.attributes,
      latencyMs: performance.now() - d.startedAt,
    };
    if (decidedBy) event.decidedBy = decidedBy;
    if (d.reasons.length > 0) event.reason = d.reasons.join('; ');
    emit(event);
  }

  /** The verdict once record `i` answered `result`, or `undefined` when the next one must be asked. */
  function verdictAfter(
    d: Deciding,
    i: number,
    result: AuthorizationResult,
  ): AuthzVerdict | undefined {
    const record = d.attributes[i] as Attributes;
    if (result.reason) d.reasons.push(result.reason);
    if (result.error) {
      logger.error(
        `authorization error for user ${quoted(record.user.username)} on ${escapeControlCharacters(describe(record))}: ${result.error.message}`,
      );
      d.reasons.push(result.error.message);
      report(d, 'error', record);
      return authorizationError(record);
    }
    if (d.all) {
      if (result.decision !== 'Allow') {
        logger.debug(forbiddenLine(d.user, [record]));
        report(d, 'forbidden', record);
        return forbidden([record]);
      }
      if (i < d.attributes.length - 1) return undefined;
      report(d, 'allowed');
      return ALLOWED;
    }
    if (result.decision !== 'Allow') return undefined;
    report(d, 'allowed', record);
    return ALLOWED;
  }

  function denied(d: Deciding): AuthzVerdict {
    logger.debug(forbiddenLine(d.user, d.attributes, d.path));
    report(d, 'forbidden');
    if (d.attributes.length === 0) return reply(403, noRuleMessage(d.user, d.path));
    return forbidden(d.attributes);
  }

  /** Asks records from `start` on; synchronous for as long as `peek` knows the answers. */
  function decideFrom(d: Deciding, start: number): AuthzVerdict | Promise<AuthzVerdict> {
    for (let i = start; i < d.attributes.length; i++) {
      const record = d.attributes[i] as Attributes;
      const known = peek?.(record);
      if (known === undefined) {
        return authorizeSafely(authorizer, record).then((result) => {
          // The client left (or someone answered) while the authorizer ran: ask no more.
          if (responseClosed(d.res)) return GONE;
          return verdictAfter(d, i, result) ?? decideFrom(d, i + 1);
        });
      }
      const verdict = verdictAfter(d, i, known);
      if (verdict) return verdict;
    }
    return denied(d);
  }

  return function authorizeRequest(req, res, user, path, startedAt) {
    let checks: Attributes[] | AllOf | PathRefused;
    try {
      checks = derive(req, user, path);
    } catch (error) {
      // A throwing attributes function: fail closed.
      logger.error(
        `authorization failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      return INTERNAL_ERROR;
    }
    if ('refused' in checks) {
      emit?.(refusalEvent('bad-request', req.method, path, startedAt, checks.refused));
      return BAD_REQUEST;
    }
    const all = !Array.isArray(checks);
    const attributes = all ? (checks as AllOf).allOf : (checks as Attributes[]);
    const method = req.method ?? '';
    return decideFrom({ method, res, user, path, attributes, all, startedAt, reasons: [] }, 0);
  };
}

/** `nodes/proxy`, `/healthz`: what a record asks about, for log lines. */
function describe(record: Attributes): string {
  if (!record.resourceRequest) return record.path;
  const resource = record.subresource
    ? `${record.resource}/${record.subresource}`
    : record.resource;
  return record.apiGroup ? `${resource}.${record.apiGroup}` : resource;
}

/** The debug line of a 403: who, and each question asked (or the path no rule matched). */
function forbiddenLine(user: KubeUser, records: readonly Attributes[], path = ''): string {
  const asked =
    records.length > 0
      ? records.map((record) => `${record.verb} ${describe(record)}`).join(', ')
      : `${path} (no authorization rule matches)`;
  return `forbidden: user ${quoted(user.username)}: ${escapeControlCharacters(asked)}`;
}

/** The 403 body when the attributes function found no rule for the request. */
export function noRuleMessage(user: KubeUser, path: string): string {
  return `Forbidden (user=${user.username}, path=${path}): no authorization rule matches\n`;
}
