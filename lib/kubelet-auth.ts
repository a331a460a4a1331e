import type { IncomingMessage, ServerResponse } from 'node:http';
import { createReviewClient } from './apiserver/client.js';
import { resolveKubeConfig } from './apiserver/kube-config.js';
import type { ReviewClient } from './apiserver/reviews.js';
import { ANONYMOUS } from './authn/anonymous.js';
import { CABundle } from './authn/ca-bundle.js';
import { authenticateUnion, NO_CREDENTIALS } from './authn/request-authenticator.js';
import { TokenReviewStrategy } from './authn/token.js';
import { WebSocketTokenAuthenticator } from './authn/websocket-token.js';
import { RequestHeaderAuthenticator } from './authn/request-header.js';
import { kubeletClusterAuthentication } from './authn/cluster-authentication/kubelet-option.js';
import { identityHeaders } from './identity/identity-headers.js';
import { ClientCertStrategy } from './authn/x509.js';
import { alwaysAllow, unionAuthorizer } from './authz/authorizer.js';
import { alwaysAllowGroups, alwaysAllowPaths } from './authz/always-allow.js';
import { staticAuthorizer } from './authz/static-rules.js';
import { authorizationStep, notifier } from './authz/middleware.js';
import { refusedPath, requestPath } from './authz/request-path.js';
import { webhookAuthorizer } from './authz/webhook.js';
import { resolveKubeletAuthConfig, type ResolvedKubeletAuthConfig } from './config.js';
import { escapeControlCharacters } from './control-characters.js';
import { levelled } from './logger.js';
import type { KubeletAuthOptions } from './options.js';
import { responseClosed, writeBadRequest, writeUnauthorized } from './responses.js';
import { refusalEvent } from './authz/decision-event.js';
import { observedAuthenticator } from './metrics/observed-authenticator.js';
import type { AuthenticationMethod } from './metrics/observer.js';
import type {
  AuthnOutcome,
  Authorizer,
  DecisionListener,
  KubeUser,
  Middleware,
  RequestAuthenticator,
} from './contracts.js';
import { invalidOption } from './option-errors.js';

/** The middleware {@link kubeletAuth} returns, with a way to release what it holds. */
export interface KubeletAuthMiddleware extends Middleware {
  /** The configuration in force, defaults applied (for `/configz`-like endpoints). */
  readonly config: Readonly<ResolvedKubeletAuthConfig>;
  /**
   * Settles once the configuration read at start is in: at once, or with
   * `authentication.clusterAuthentication`, when the ConfigMap was first read (it rejects when
   * it cannot be read, unless `tolerateLookupFailure`). Await it before listening to fail at
   * start-up as upstream does; until then certificates are refused, never let through.
   */
  readonly ready: Promise<void>;
  /**
   * Stops watching the client CA file and closes idle connections to the API server (those of
   * a review client it built; a `reviewClient` passed in stays open).
   */
  close(): void;
}

/**
 * Authentication and authorization exactly as the kubelet's secure port, in one middleware,
 * configured like a KubeletConfiguration (with its defaults: anonymous off, token webhook on,
 * mode Webhook). Authenticates with the client certificate (when `x509.clientCAFile` is set),
 * then the bearer token (TokenReview), then anonymous (when enabled); puts the `KubeUser` on
 * `req.user`; authorizes with SubjectAccessReview (or AlwaysAllow); answers 401/403/500 with the
 * kubelet's bodies and calls `next()` only for allowed requests. Throws at construction for bad
 * configuration.
 *
 * @example
 * app.use(kubeletAuth({ nodeName: 'node-a', kubeConfig, authentication: { x509: { clientCAFile } } }));
 */
export function kubeletAuth(options: KubeletAuthOptions): KubeletAuthMiddleware {
  const config = resolveKubeletAuthConfig(options);
  const logger = levelled(options.logger);
  const { metrics } = options;
  /** Each authenticator's verdicts reported as `method`, when metrics are on. */
  const observed = (authenticator: RequestAuthenticator, method: AuthenticationMethod) =>
    metrics ? observedAuthenticator(authenticator, method, metrics) : authenticator;
  const onDecision = combineListeners(options.onDecision, metrics?.decision?.bind(metrics));

  // The pieces that only check their configuration come first, so that a mistake in them throws
  // before any file is watched or connection made.
  // Decided in process first, as k8s.io/apiserver orders them: privileged groups, always-allow
  // paths, static rules; then the webhook.
  const inProcess: Authorizer[] = [];
  if (config.alwaysAllowGroups.length > 0)
    inProcess.push(alwaysAllowGroups(config.alwaysAllowGroups));
  if (config.alwaysAllowPaths.length > 0) inProcess.push(alwaysAllowPaths(config.alwaysAllowPaths));
  if (options.authorization?.static) inProcess.push(staticAuthorizer(options.authorization.static));
  const forward = options.identityHeaders
    ? identityHeaders({
        ...(options.identityHeaders === true ? {} : { headers: options.identityHeaders }),
        logger,
      })
    : undefined;

  let reviewClient: ReviewClient | undefined;
  /** The review client built here, which close() releases; one passed in is the caller's. */
  let ownReviewClient: ReviewClient | undefined;
  if (config.tokenWebhook || config.mode === 'Webhook') {
    if (options.reviewClient !== undefined) {
      reviewClient = checkedReviewClient(options.reviewClient);
    } else {
      const needs = config.tokenWebhook ? 'webhook authentication' : 'webhook authorization';
      reviewClient = ownReviewClient = createReviewClient(
        resolveKubeConfig(options.kubeConfig, needs),
        {
          timeoutMs: config.timeoutMs,
          maxConcurrent: config.maxConcurrentReviews,
          ...(metrics ? { metrics } : {}),
        },
      );
    }
  }

  // The same strategies as the passport composition, run as the kubelet's union directly:
  // no per-request passport objects, and no await when the certificate or token is known.
  const authenticators: RequestAuthenticator[] = [];
  /** What to release on close(): the CA files watched. */
  const closers: (() => void)[] = [];
  const { requestHeader, clusterAuthentication } = options.authentication ?? {};
  /** The client CA and front-proxy configuration read from the cluster, when asked for. */
  let cluster: ReturnType<typeof kubeletClusterAuthentication>;
  try {
    cluster = kubeletClusterAuthentication(
      clusterAuthentication,
      { clientCAFile: config.clientCAFile !== '', requestHeader: requestHeader !== undefined },
      { kubeConfig: options.kubeConfig, logger },
    );
    closers.push(() => cluster?.close());
    if (cluster?.requestHeader) {
      authenticators.push(
        observed(
          new RequestHeaderAuthenticator({ ...cluster.requestHeader, logger }),
          'requestheader',
        ),
      );
    }
    if (requestHeader !== undefined) {
      if (
        typeof requestHeader !== 'object' ||
        requestHeader === null ||
        !requestHeader.clientCAFile
      ) {
        throw invalidOption(
          'authentication.requestHeader.clientCAFile: required, the front-proxy CA bundle',
        );
      }
      const { clientCAFile, ...headers } = requestHeader;
      const frontProxyCA = CABundle.fromFile(clientCAFile, {
        option: 'authentication.requestHeader.clientCAFile',
        logger,
      });
      closers.push(() => frontProxyCA.close());
      const frontProxy = new RequestHeaderAuthenticator({
        bundle: frontProxyCA,
        ...headers,
        logger,
      });
      // First, as the API server orders them: a front proxy's own certificate must not
      // authenticate as the proxy when its CA is also a client CA.
      authenticators.push(observed(frontProxy, 'requestheader'));
    }
    if (cluster?.clientCA) {
      authenticators.push(
        observed(
          new ClientCertStrategy({ bundle: cluster.clientCA, logger, cacheSize: config.cacheSize }),
          'x509',
        ),
      );
    }
    if (config.clientCAFile !== '') {
      const bundle = CABundle.fromFile(config.clientCAFile, {
        option: 'authentication.x509.clientCAFile',
        logger,
      });
      closers.push(() => bundle.close());
      authenticators.push(
        observed(new ClientCertStrategy({ bundle, logger, cacheSize: config.cacheSize }), 'x509'),
      );
    }
    if (config.tokenWebhook && reviewClient) {
      const tokens = new TokenReviewStrategy({
        reviewClient,
        cacheTTL: config.tokenCacheTtlMs,
        cacheSize: config.cacheSize,
        audiences: config.audiences,
        staleIfError: config.staleIfErrorMs,
        logger,
        ...(metrics ? { metrics } : {}),
      });
      // The kubelet's order: certificate, Authorization header, WebSocket subprotocol token.
      authenticators.push(
        observed(tokens, 'token'),
        observed(new WebSocketTokenAuthenticator(tokens), 'websocket'),
      );
    }
  } catch (error) {
    // A CA file that cannot be used: release what was opened before it, then fail.
    for (const close of closers) close();
    ownReviewClient?.close?.();
    throw error;
  }
  const fallback = config.anonymous ? ANONYMOUS : NO_CREDENTIALS;

  const decider: Authorizer =
    config.mode === 'Webhook' && reviewClient
      ? webhookAuthorizer({
          reviewClient,
          cacheAuthorizedTTL: config.authorizedTtlMs,
          cacheUnauthorizedTTL: config.unauthorizedTtlMs,
          cacheSize: config.cacheSize,
          staleIfError: config.staleIfErrorMs,
          logger,
          ...(metrics ? { metrics } : {}),
        })
      : alwaysAllow();
  const authorizer = inProcess.length > 0 ? unionAuthorizer(...inProcess, decider) : decider;
  const authorize = authorizationStep({
    ...(options.attributes
      ? { attributes: options.attributes }
      : { nodeName: config.nodeName, fineGrained: config.fineGrained }),
    authorizer,
    logger,
    onDecision,
  });
  const emit = notifier(onDecision, logger);
  const reportAnonymous = metrics?.authentication?.bind(metrics);

  /** Continues with the authentication outcome: 401, or the user on `req.user` and authorization. */
  function proceed(
    outcome: AuthnOutcome,
    req: IncomingMessage,
    res: ServerResponse,
    next: (error?: unknown) => void,
    path: string,
    startedAt: number,
  ): void {
    if (outcome.kind !== 'user') {
      const reason = outcome.kind === 'refused' ? outcome.reason : undefined;
      // A refused credential was logged by its authenticator.
      if (reason === undefined) {
        logger.debug(
          `anonymous request refused (anonymous authentication is off): ${escapeControlCharacters(`${req.method ?? ''} ${path}`)}`,
        );
      }
      emit?.(refusalEvent('unauthenticated', req.method, path, startedAt, reason));
      return writeUnauthorized(res);
    }
    if (outcome === ANONYMOUS) reportAnonymous?.('anonymous', 'success', 0);
    (req as IncomingMessage & { user?: unknown }).user = outcome.user;
    if (forward === undefined) return authorize(req, res, next, outcome.user, path, startedAt);
    authorizeThenForward(forward, req, res, next, outcome.user, path, startedAt);
  }

  /**
   * Allowed requests get the identity headers rewritten on their way to the app. A function of
   * its own, so that the callback's variables are allocated only when identity headers are on.
   */
  function authorizeThenForward(
    forward: Middleware,
    req: IncomingMessage,
    res: ServerResponse,
    next: (error?: unknown) => void,
    user: KubeUser,
    path: string,
    startedAt: number,
  ): void {
    const forwarded = (error?: unknown): void =>
      error === undefined ? forward(req, res, next) : next(error);
    authorize(req, res, forwarded, user, path, startedAt);
  }

  const middleware = function kubeletAuthMiddleware(
    req: IncomingMessage,
    res: ServerResponse,
    next: (error?: unknown) => void,
  ): void {
    // The clock is read only for someone who gets the decision's latency.
    const startedAt = emit === undefined ? 0 : performance.now();
    // A path the router and the authorizer could read differently is refused before anything
    // is asked of the API server.
    const path = requestPath(req);
    if (path === undefined) {
      emit?.(refusalEvent('bad-request', req.method, refusedPath(req), startedAt));
      return writeBadRequest(res);
    }
    const outcome = authenticateUnion(authenticators, req, fallback);
    if (!(outcome instanceof Promise)) return proceed(outcome, req, res, next, path, startedAt);
    proceedLater(outcome, req, res, next, path, startedAt);
  } as KubeletAuthMiddleware;

  /**
   * {@link proceed} once the API server answered. A function of its own, so that the callbacks'
   * shared variables are only allocated for a request that waits.
   */
  function proceedLater(
    outcome: Promise<AuthnOutcome>,
    req: IncomingMessage,
    res: ServerResponse,
    next: (error?: unknown) => void,
    path: string,
    startedAt: number,
  ): void {
    outcome
      .then((settled) => {
        // The client left (or someone answered) while the TokenReview ran.
        if (responseClosed(res)) return;
        proceed(settled, req, res, next, path, startedAt);
      })
      .catch((error: unknown) => {
        logger.error(
          `authentication failed: ${error instanceof Error ? error.message : String(error)}`,
        );
        if (!responseClosed(res)) writeUnauthorized(res);
      });
  }

  Object.defineProperty(middleware, 'config', {
    value: Object.freeze({ ...config }),
    enumerable: true,
  });
  Object.defineProperty(middleware, 'ready', {
    value: cluster?.ready ?? Promise.resolve(),
    enumerable: true,
  });
  Object.defineProperty(middleware, 'close', {
    value: () => {
      for (const close of closers) close();
      ownReviewClient?.close?.();
    },
    enumerable: true,
  });
  return middleware;
}

/** `reviewClient` as given, once it is known to have both review methods. */
function checkedReviewClient(client: ReviewClient): ReviewClient {
  if (
    typeof client !== 'object' ||
    client === null ||
    typeof client.tokenReview !== 'function' ||
    typeof client.subjectAccessReview !== 'function'
  ) {
    throw invalidOption(
      'reviewClient: expected an object with tokenReview() and subjectAccessReview() (a ReviewClient)',
    );
  }
  return client;
}

/** Both listeners, or the one given. */
function combineListeners(
  a: DecisionListener | undefined,
  b: DecisionListener | undefined,
): DecisionListener | undefined {
  if (!a || !b) return a ?? b;
  return (event) => {
    try {
      a(event);
    } finally {
      b(event);
    }
  };
}
