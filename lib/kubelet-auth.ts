import type { IncomingMessage, ServerResponse } from 'node:http';
import passport from 'passport';
import { createReviewClient } from './apiserver/client.js';
import { resolveKubeConfig } from './apiserver/kube-config.js';
import type { ReviewClient } from './apiserver/reviews.js';
import { AnonymousStrategy } from './authn/anonymous.js';
import { CABundle } from './authn/ca-bundle.js';
import { TokenReviewStrategy } from './authn/token.js';
import { ClientCertStrategy } from './authn/x509.js';
import { alwaysAllow, type Authorizer } from './authz/authorizer.js';
import { kubeletAuthz, type Middleware } from './authz/middleware.js';
import { webhookAuthorizer } from './authz/webhook.js';
import { resolveKubeletAuthConfig, type ResolvedKubeletAuthConfig } from './config.js';
import { stderrLogger } from './logger.js';
import type { KubeletAuthOptions } from './options.js';
import { writeBadRequest, writeUnauthorized } from './responses.js';
import { requestPath } from './authz/request-path.js';
import { isKubeUser } from './user.js';

/** The middleware {@link kubeletAuth} returns, with a way to release what it holds. */
export interface KubeletAuthMiddleware extends Middleware {
  /** The configuration in force, defaults applied (for `/configz`-like endpoints). */
  readonly config: Readonly<ResolvedKubeletAuthConfig>;
  /** Stops watching the client CA file and closes idle connections to the API server. */
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
  const logger = options.logger ?? stderrLogger;

  let reviewClient: ReviewClient | undefined;
  if (config.tokenWebhook || config.mode === 'Webhook') {
    const needs = config.tokenWebhook ? 'webhook authentication' : 'webhook authorization';
    reviewClient = createReviewClient(resolveKubeConfig(options.kubeConfig, needs), {
      timeoutMs: config.timeoutMs,
      maxConcurrent: config.maxConcurrentReviews,
    });
  }

  // A private passport instance: the app's own passport setup is left alone.
  const authenticator = new passport.Authenticator();
  const names: string[] = [];
  let bundle: CABundle | undefined;
  if (config.clientCAFile !== '') {
    bundle = CABundle.fromFile(config.clientCAFile, {
      option: 'authentication.x509.clientCAFile',
      logger,
    });
    authenticator.use(new ClientCertStrategy({ bundle, logger }));
    names.push('kube-x509');
  }
  if (config.tokenWebhook && reviewClient) {
    authenticator.use(
      new TokenReviewStrategy({
        reviewClient,
        cacheTTL: config.tokenCacheTtlMs,
        cacheSize: config.cacheSize,
        audiences: config.audiences,
        logger,
      }),
    );
    names.push('kube-token');
  }
  if (config.anonymous) {
    authenticator.use(new AnonymousStrategy());
    names.push('kube-anonymous');
  }

  const authorizer: Authorizer =
    config.mode === 'Webhook' && reviewClient
      ? webhookAuthorizer({
          reviewClient,
          cacheAuthorizedTTL: config.authorizedTtlMs,
          cacheUnauthorizedTTL: config.unauthorizedTtlMs,
          cacheSize: config.cacheSize,
        })
      : alwaysAllow();
  const authorize = kubeletAuthz({
    nodeName: config.nodeName,
    fineGrained: config.fineGrained,
    authorizer,
    logger,
  });

  // Built once. With failWithError, passport reports failures to `next` instead of answering:
  // the kubelet's answers are written here.
  const authenticate = authenticator.authenticate(names, {
    session: false,
    failWithError: true,
  }) as unknown as Middleware;

  const middleware = function kubeletAuthMiddleware(
    req: IncomingMessage,
    res: ServerResponse,
    next: (error?: unknown) => void,
  ): void {
    // A path the router and the authorizer could read differently is refused before anything
    // is asked of the API server.
    if (requestPath(req) === undefined) return writeBadRequest(res);
    authenticate(req, res, (error?: unknown) => {
      const user: unknown = (req as IncomingMessage & { user?: unknown }).user;
      if (error !== undefined || !isKubeUser(user)) {
        // A failure of every strategy was already logged by the one that refused credentials.
        if (error instanceof Error && error.name !== 'AuthenticationError') {
          logger.warn(`authentication error: ${error.message}`);
        }
        return writeUnauthorized(res);
      }
      authorize(req, res, next);
    });
  } as KubeletAuthMiddleware;

  Object.defineProperty(middleware, 'config', {
    value: Object.freeze({ ...config }),
    enumerable: true,
  });
  Object.defineProperty(middleware, 'close', {
    value: () => {
      bundle?.close();
      reviewClient?.close?.();
    },
    enumerable: true,
  });
  return middleware;
}
