import type { IncomingMessage, ServerResponse } from 'node:http';
import { escapeControlCharacters, quoted } from '../control-characters.js';
import { levelled, type Logger } from '../logger.js';
import {
  responseClosed,
  writeAuthorizationError,
  writeBadRequest,
  writeForbidden,
  writeText,
  writeUnauthorized,
} from '../responses.js';
import { kubeUser, type KubeUser } from '../user.js';
import {
  authorizeSafely,
  type AllOf,
  type Attributes,
  type AttributesFunction,
  type AuthorizationResult,
  type Authorizer,
  type DecisionEvent,
  type DecisionListener,
  type Middleware,
  type PathRefused,
} from '../contracts.js';
import { kubeletRequestAttributes, kubeletRouteConflict } from './attributes.js';
import { refusalEvent } from './decision-event.js';
import { rememberLastQuestion } from './last-question.js';
import { PATH_REFUSALS, refusedPath, requestPath, routedPathOf } from './request-path.js';
import { invalidOption } from '../option-errors.js';

/** Options of {@link kubeletAuthz}. */
export interface KubeletAuthzOptions {
  /** Decides each attribute record (e.g. `webhookAuthorizer({ kubeConfig })`, `alwaysAllow()`). Required. */
  authorizer: Authorizer;
  /** The node name: `resourceAttributes.name`. Required unless `attributes` is given. */
  nodeName?: string;
  /** Fine-grained kubelet authorization (`nodes/pods` before `nodes/proxy`, …). Default: `true`. */
  fineGrained?: boolean;
  /** Your own attribute derivation, for apps that are not kubelets. Default: the kubelet's. */
  attributes?: AttributesFunction;
  /** Where authorization errors (and forbidden requests, at debug) go. Default: `stderrLogger`. */
  logger?: Logger;
  /** Called once per request with its outcome (audit, metrics); never given credentials. */
  onDecision?: DecisionListener;
}

/**
 * Authorizes one request whose user and decoded path are known; answers or calls `next`.
 * `startedAt` (a `performance.now()` time) is when deciding began, for the event's latency.
 */
export type AuthorizationStep = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
  user: KubeUser,
  path: string,
  startedAt?: number,
) => void;

/** Calls a decision listener, keeping its failures away from the request. */
export function notifier(
  listener: DecisionListener | undefined,
  logger: Required<Logger>,
): ((event: DecisionEvent) => void) | undefined {
  if (!listener) return undefined;
  return (event) => {
    try {
      listener(event);
    } catch (error) {
      logger.warn(`onDecision threw: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
}

/**
 * Authorizes each request as the kubelet does, after authentication put a `KubeUser` on
 * `req.user`: derive the attribute records (verb from the method, `nodes/<subresource>` from the
 * decoded path), ask them in order; the first `Allow` calls `next()`. All denied → 403
 * `Forbidden (…)`; an authorizer error → 500 `Authorization error (…)`; no user → 401; a path
 * the router could read otherwise → 400: see {@link requestPath}, and for the kubelet's tables
 * {@link kubeletRouteConflict} (`/Stats/summary`, which a case-insensitive route for
 * `/stats/summary` would serve as `nodes/stats` after it was authorized as `nodes/proxy`).
 *
 * @example app.use(kubeletAuthz({ nodeName: 'node-a', authorizer: webhookAuthorizer({ kubeConfig }) }));
 */
export function kubeletAuthz(options: KubeletAuthzOptions): Middleware {
  const authorize = authorizationStep(options);
  const emit = notifier(options.onDecision, levelled(options.logger));
  return function kubeletAuthzMiddleware(req, res, next) {
    // The clock is read only for someone who gets the decision's latency.
    const startedAt = emit === undefined ? 0 : performance.now();
    const user = kubeUser(req);
    const path = user ? requestPath(req) : undefined;
    if (!user || path === undefined) {
      emit?.(
        refusalEvent(
          user ? 'bad-request' : 'unauthenticated',
          req.method,
          refusedPath(req),
          startedAt,
        ),
      );
      return user ? writeBadRequest(res) : writeUnauthorized(res);
    }
    authorize(req, res, next, user, path, startedAt);
  };
}

/**
 * The authorization of {@link kubeletAuthz}, for callers that know the user and path already.
 * Answers from `authorizer.peek` while it can (so a request whose decisions are cached passes
 * synchronously) and awaits `authorize` from the first record that needs it.
 */
export function authorizationStep(options: KubeletAuthzOptions): AuthorizationStep {
  const { authorizer } = options;
  if (!authorizer || typeof authorizer.authorize !== 'function') {
    throw invalidOption(
      'kubeletAuthz: authorizer is required (e.g. webhookAuthorizer({ kubeConfig }))',
    );
  }
  const logger = levelled(options.logger);
  const derive = options.attributes ?? kubeletAttributesFunction(options);
  const peek = authorizer.peek?.bind(authorizer);
  const emit = notifier(options.onDecision, logger);

  /** One request's deciding, with what the event needs to know. */
  interface Deciding {
    req: IncomingMessage;
    res: ServerResponse;
    user: KubeUser;
    path: string;
    attributes: Attributes[];
    /** Every record must be allowed (`{ allOf }`), not just one. */
    all: boolean;
    startedAt: number;
    reasons: string[];
  }

  function report(d: Deciding, decision: DecisionEvent['decision'], decidedBy?: Attributes): void {
    if (!emit) return;
    const event: DecisionEvent = {
      decision,
      method: d.req.method ?? '',
      path: d.path,
      user: d.user,
      attributes: d.attributes,
      latencyMs: performance.now() - d.startedAt,
    };
    if (decidedBy) event.decidedBy = decidedBy;
    if (d.reasons.length > 0) event.reason = d.reasons.join('; ');
    emit(event);
  }

  /** Applies the result of record `i`; `true` when it ends the request (answered or passed on). */
  function settled(d: Deciding, i: number, result: AuthorizationResult, next: () => void): boolean {
    const record = d.attributes[i] as Attributes;
    if (result.reason) d.reasons.push(result.reason);
    if (result.error) {
      logger.error(
        `authorization error for user ${quoted(record.user.username)} on ${escapeControlCharacters(describe(record))}: ${result.error.message}`,
      );
      d.reasons.push(result.error.message);
      report(d, 'error', record);
      writeAuthorizationError(d.res, record);
      return true;
    }
    if (d.all) {
      if (result.decision !== 'Allow') {
        logger.debug(forbiddenLine(d.user, [record]));
        report(d, 'forbidden', record);
        writeForbidden(d.res, [record]);
        return true;
      }
      if (i < d.attributes.length - 1) return false;
      report(d, 'allowed');
      next();
      return true;
    }
    if (result.decision === 'Allow') {
      report(d, 'allowed', record);
      next();
      return true;
    }
    return false;
  }

  function forbidden(d: Deciding): void {
    logger.debug(forbiddenLine(d.user, d.attributes, d.path));
    report(d, 'forbidden');
    if (d.attributes.length === 0) writeText(d.res, 403, noRuleMessage(d.user, d.path));
    else writeForbidden(d.res, d.attributes);
  }

  async function decideFrom(d: Deciding, start: number, next: () => void): Promise<void> {
    for (let i = start; i < d.attributes.length; i++) {
      const record = d.attributes[i] as Attributes;
      const result = await authorizeSafely(authorizer, record);
      // The client left (or someone answered) while the authorizer ran: nothing to write,
      // and no handler to run for it.
      if (responseClosed(d.res)) return;
      if (settled(d, i, result, next)) return;
    }
    forbidden(d);
  }

  return function authorizeRequest(req, res, next, user, path, startedAt = performance.now()) {
    let checks: Attributes[] | AllOf | PathRefused;
    try {
      checks = derive(req, user, path);
    } catch (error) {
      // A throwing attributes function: fail closed.
      logger.error(
        `authorization failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      return writeText(res, 500, 'Internal Server Error');
    }
    if ('refused' in checks) {
      emit?.(refusalEvent('bad-request', req.method, path, startedAt, checks.refused));
      return writeBadRequest(res);
    }
    const all = !Array.isArray(checks);
    const attributes = all ? (checks as AllOf).allOf : (checks as Attributes[]);
    // The warm path: the first record is known to be allowed and nobody listens for events —
    // no bookkeeping at all.
    const first = attributes.length > 0 ? peek?.(attributes[0] as Attributes) : undefined;
    if (!emit && !all && first !== undefined && first.decision === 'Allow' && !first.error) {
      return next();
    }
    const d: Deciding = { req, res, user, path, attributes, all, startedAt, reasons: [] };
    for (let i = 0; i < attributes.length; i++) {
      const record = attributes[i] as Attributes;
      const known = i === 0 ? first : peek?.(record);
      if (known === undefined) {
        decideFrom(d, i, next).catch((error: unknown) => {
          // Only a broken authorizer or a throwing `next` gets here: fail closed, answer once.
          logger.error(
            `authorization failed: ${error instanceof Error ? error.message : String(error)}`,
          );
          writeText(res, 500, 'Internal Server Error');
        });
        return;
      }
      if (settled(d, i, known, next)) return;
    }
    forbidden(d);
  };
}

function kubeletAttributesFunction(options: KubeletAuthzOptions): AttributesFunction {
  const { nodeName } = options;
  if (typeof nodeName !== 'string' || nodeName === '') {
    throw invalidOption(
      'kubeletAuthz: nodeName is required (the name of the Node the kubelet serves)',
    );
  }
  const kubelet = { nodeName, fineGrained: options.fineGrained ?? true };
  const records = rememberLastQuestion((user, method, path) =>
    kubeletRequestAttributes(user, method, path, kubelet),
  );
  return function kubeletAttributes(req, user, path) {
    const conflict = kubeletRouteConflict(path, {
      routed: routedPathOf(req, path),
      fineGrained: kubelet.fineGrained,
    });
    return conflict ? ROUTED_ELSEWHERE : records(req, user, path);
  };
}

const ROUTED_ELSEWHERE: PathRefused = Object.freeze({ refused: PATH_REFUSALS.routedElsewhere });

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
