import { levelled, type Logger } from '../logger.js';
import { BAD_REQUEST, carryOut, UNAUTHORIZED, writeReply } from '../responses.js';
import { kubeUser } from '../user.js';
import type { AttributesFunction, Authorizer, DecisionListener, Middleware } from '../contracts.js';
import { notifier, refusalEvent } from './decision-event.js';
import { kubeletAttributes } from './kubelet-attributes.js';
import { requestAuthorization } from './request-authorization.js';
import { refusedPath, requestPath } from './request-path.js';
import { booleanOption, checkKnownKeys, invalidOption, optionNames } from '../option-errors.js';
import { DEFAULT_FINE_GRAINED } from '../defaults.js';

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

const KUBELET_AUTHZ_OPTIONS = optionNames<KubeletAuthzOptions>({
  authorizer: true,
  nodeName: true,
  fineGrained: true,
  attributes: true,
  logger: true,
  onDecision: true,
});

/**
 * Authorizes each request as the kubelet does, after authentication put a `KubeUser` on
 * `req.user`: derive the attribute records (verb from the method, `nodes/<subresource>` from the
 * decoded path), ask them in order; the first `Allow` calls `next()`. All denied → 403
 * `Forbidden (…)`; an authorizer error → 500 `Authorization error (…)`; no user → 401; a path
 * the router could read otherwise → 400: see {@link requestPath}, and for the kubelet's tables
 * {@link express-kubelet-auth/kubelet!kubeletRouteConflict} (`/Stats/summary`, which a case-insensitive route for
 * `/stats/summary` would serve as `nodes/stats` after it was authorized as `nodes/proxy`).
 *
 * @example app.use(kubeletAuthz({ nodeName: 'node-a', authorizer: webhookAuthorizer({ kubeConfig }) }));
 */
export function kubeletAuthz(options: KubeletAuthzOptions): Middleware {
  checkKnownKeys('kubeletAuthz', options, KUBELET_AUTHZ_OPTIONS);
  const fineGrained = booleanOption(
    options.fineGrained,
    'kubeletAuthz: fineGrained',
    DEFAULT_FINE_GRAINED,
  );
  const { authorizer } = options;
  if (!authorizer || typeof authorizer.authorize !== 'function') {
    throw invalidOption(
      'kubeletAuthz: authorizer is required (e.g. webhookAuthorizer({ kubeConfig }))',
    );
  }
  const logger = levelled(options.logger);
  const emit = notifier(options.onDecision, logger);
  const authorize = requestAuthorization({
    authorizer,
    attributes:
      options.attributes ??
      kubeletAttributes({
        nodeName: options.nodeName ?? '',
        fineGrained,
      }),
    logger,
    emit,
  });
  return function kubeletAuthzMiddleware(req, res, next) {
    // The clock is read only for someone who gets the decision's latency.
    const startedAt = emit === undefined ? 0 : performance.now();
    const user = kubeUser(req);
    const path = user ? requestPath(req) : undefined;
    if (!user || path === undefined) {
      const decision = user ? 'bad-request' : 'unauthenticated';
      emit?.(refusalEvent(decision, req.method, refusedPath(req), startedAt));
      return writeReply(res, user ? BAD_REQUEST : UNAUTHORIZED);
    }
    carryOut(authorize(req, res, user, path, startedAt), res, () => next(), logger);
  };
}
