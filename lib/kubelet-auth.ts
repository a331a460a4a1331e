import type { ResolvedKubeletAuthConfig } from './config.js';
import type { Middleware } from './contracts.js';
import { kubeletGuard } from './compose/guard.js';
import type { KubeletAuthOptions } from './options.js';
import { carryOut, INTERNAL_ERROR, writeReply } from './responses.js';

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
  const guard = kubeletGuard(options);
  const { forward, logger } = guard;
  const middleware = function kubeletAuthMiddleware(req, res, next) {
    const pass = forward
      ? () => (forward(req) ? next() : writeReply(res, INTERNAL_ERROR))
      : () => next();
    carryOut(guard.decide(req, res), res, pass, logger);
  } as KubeletAuthMiddleware;
  Object.defineProperty(middleware, 'config', { value: guard.config, enumerable: true });
  Object.defineProperty(middleware, 'ready', { value: guard.ready, enumerable: true });
  Object.defineProperty(middleware, 'close', { value: () => guard.close(), enumerable: true });
  return middleware;
}
