import type { IncomingMessage, ServerResponse } from 'node:http';
import { ANONYMOUS } from '../authn/anonymous.js';
import { authenticateUnion, NO_CREDENTIALS } from '../authn/request-authenticator.js';
import { notifier, refusalEvent } from '../authz/decision-event.js';
import { kubeletAttributes } from '../authz/kubelet-attributes.js';
import { requestAuthorization } from '../authz/request-authorization.js';
import { refusedPath, requestPath } from '../authz/request-path.js';
import {
  resolveKubeletAuthConfig,
  resolveKubeletAuthDependencies,
  type ResolvedKubeletAuthConfig,
} from '../config.js';
import type { AuthnOutcome, AuthRequest, Verdict } from '../contracts.js';
import { escapeControlCharacters } from '../control-characters.js';
import { identityRewrite } from '../identity/identity-headers.js';
import type { Logger } from '../logger.js';
import type { KubeletAuthOptions } from '../options.js';
import { BAD_REQUEST, GONE, responseClosed, UNAUTHORIZED } from '../responses.js';
import { kubeletAuthenticators } from './authenticators.js';
import { inProcessAuthorizers, kubeletAuthorizer } from './authorizer.js';
import { reviewsFor } from './review-client.js';

/** The whole of `kubeletAuth`, apart from any framework. */
export interface KubeletGuard {
  /**
   * The verdict on one request: on to the app as the user (then on `req.user`), a reply with
   * the kubelet's status and body, or nothing because the client left.
   */
  decide(req: IncomingMessage, res: ServerResponse): Verdict | Promise<Verdict>;
  /**
   * Rewrites the identity headers of an allowed request (its `req.user`), when `identityHeaders`
   * is on; `false` for a user that cannot be written as headers (logged): answer 500.
   */
  readonly forward: ((req: AuthRequest) => boolean) | undefined;
  readonly config: Readonly<ResolvedKubeletAuthConfig>;
  readonly logger: Required<Logger>;
  /** Settles once the configuration read at start (the cluster's ConfigMap) is in. */
  readonly ready: Promise<void>;
  /** Stops watching CA files and closes idle connections of a review client built here. */
  close(): void;
}

/**
 * A framework's own check of a request whose path the guard has read: why its router could
 * dispatch the request to another path than `path`, the one authorized, or `undefined`. The
 * request then gets 400, as a path the guard itself finds ambiguous does; the reason goes to
 * `onDecision`.
 */
export type RoutedElsewhere = (req: IncomingMessage, path: string) => string | undefined;

/**
 * Composes the kubelet's authentication and authorization from `options`: a union of
 * authenticators (front proxy, client certificate, cached TokenReview, anonymous fallback),
 * then the in-process authorizers and the cached SubjectAccessReview, asked about the
 * kubelet's attributes (or the ones given). Throws at construction for bad configuration.
 */
export function kubeletGuard(
  options: KubeletAuthOptions,
  routedElsewhere?: RoutedElsewhere,
): KubeletGuard {
  const config = resolveKubeletAuthConfig(options);
  const deps = resolveKubeletAuthDependencies(options);
  const { logger } = deps;
  const emit = notifier(deps.onDecision, logger);

  // What only checks its configuration comes before anything that watches or connects.
  const inProcess = inProcessAuthorizers(config);
  const attributes = deps.attributes ?? kubeletAttributes(config);
  const forward = config.identityHeaders
    ? identityRewrite({ headers: config.identityHeaders, logger }, 'identityHeaders')
    : undefined;
  const reviews = reviewsFor(config, deps);
  let authentication;
  try {
    authentication = kubeletAuthenticators(config, deps, reviews.client);
  } catch (error) {
    reviews.close();
    throw error;
  }
  const { authenticators } = authentication;
  const authorize = requestAuthorization({
    authorizer: kubeletAuthorizer(config, deps, reviews.client, inProcess),
    attributes,
    logger,
    emit,
  });
  const fallback = config.anonymous ? ANONYMOUS : NO_CREDENTIALS;
  const reportAnonymous = deps.metrics?.authentication?.bind(deps.metrics);

  /** 401, or the user on `req.user` and the authorization's verdict. */
  function authorized(
    outcome: AuthnOutcome,
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    startedAt: number,
  ): Verdict | Promise<Verdict> {
    if (outcome.kind !== 'user') {
      const reason = outcome.kind === 'refused' ? outcome.reason : undefined;
      // A refused credential was logged by its authenticator.
      if (reason === undefined) {
        const request = escapeControlCharacters(`${req.method ?? ''} ${path}`);
        logger.debug(`anonymous request refused (anonymous authentication is off): ${request}`);
      }
      emit?.(refusalEvent('unauthenticated', req.method, path, startedAt, reason));
      return UNAUTHORIZED;
    }
    if (outcome === ANONYMOUS) reportAnonymous?.('anonymous', 'success', 0);
    (req as IncomingMessage & { user?: unknown }).user = outcome.user;
    const verdict = authorize(req, res, outcome.user, path, startedAt);
    if (verdict instanceof Promise) {
      return verdict.then((settled) => (settled.kind === 'allowed' ? outcome : settled));
    }
    return verdict.kind === 'allowed' ? outcome : verdict;
  }

  return {
    decide(req, res) {
      // The clock is read only for someone who gets the decision's latency.
      const startedAt = emit === undefined ? 0 : performance.now();
      // A path the router and the authorizer could read differently is refused before
      // anything is asked of the API server.
      const path = requestPath(req);
      const elsewhere = path === undefined ? undefined : routedElsewhere?.(req, path);
      if (path === undefined || elsewhere !== undefined) {
        emit?.(refusalEvent('bad-request', req.method, refusedPath(req), startedAt, elsewhere));
        return BAD_REQUEST;
      }
      const outcome = authenticateUnion(authenticators, req, fallback);
      if (!(outcome instanceof Promise)) return authorized(outcome, req, res, path, startedAt);
      return outcome.then(
        // The client left (or someone answered) while the TokenReview ran.
        (settled) => (responseClosed(res) ? GONE : authorized(settled, req, res, path, startedAt)),
        (error: unknown) => {
          const message = error instanceof Error ? error.message : String(error);
          logger.error(`authentication failed: ${message}`);
          return UNAUTHORIZED;
        },
      );
    },
    forward,
    config: Object.freeze({ ...config }),
    logger,
    ready: authentication.ready,
    close() {
      authentication.close();
      reviews.close();
    },
  };
}
