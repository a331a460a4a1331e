import type { KubeConfig } from '@kubernetes/client-node';
import type { IncomingMessage } from 'node:http';
import { Strategy as BearerStrategy } from 'passport-http-bearer';
import { createReviewClient } from '../apiserver/client.js';
import { resolveKubeConfig } from '../apiserver/kube-config.js';
import type { ReviewClient } from '../apiserver/reviews.js';
import { cachedTokenAuthenticator, DEFAULT_CACHE_SIZE } from '../cache/token-cache.js';
import { toMilliseconds, type Duration } from '../duration.js';
import { stderrLogger, type Logger } from '../logger.js';
import { freezeUser, withAuthenticatedGroup, type KubeUser } from '../user.js';
import { authorizationHeader, parseBearerToken, removeAuthorizationHeader } from './bearer.js';
import { markCredentialsRejected } from './rejection.js';
import { actionsOf, type AuthRequest } from './strategy-actions.js';
import { webhookTokenAuthenticator, type TokenAuthenticator } from './token-authenticator.js';

/** Options of {@link TokenReviewStrategy}. */
export interface TokenReviewStrategyOptions {
  /** The API server for TokenReviews. Default: client-node's `loadFromDefault()`. Ignored with `authenticator` or `reviewClient`. */
  kubeConfig?: KubeConfig;
  /** How long results, positive and negative, are cached; `0` turns caching off. Default: `'2m'`. */
  cacheTTL?: Duration;
  /** Most cached tokens. Default: `10000`. */
  cacheSize?: number;
  /** TokenReview `spec.audiences`. Default: none (as the kubelet). */
  audiences?: string[];
  /** Longest time one TokenReview may take, retries included. Default: `'10s'`. */
  timeout?: Duration;
  /** Use this token authenticator instead of TokenReview (it is still cached). */
  authenticator?: TokenAuthenticator;
  /** Use this review client (e.g. shared with the authorizer) instead of building one. */
  reviewClient?: ReviewClient;
  /** Where refused tokens are reported (never the token). Default: standard error. */
  logger?: Logger;
}

/**
 * A passport strategy, name `'kube-token'`, for `Authorization: Bearer` tokens checked with the
 * API server's TokenReview. Built on passport-http-bearer's strategy, with the kubelet's header
 * parsing (§2.5 of the spec: `bearer` in any case, one space, extra parts ignored; never the
 * body or the query). On success the `Authorization` header is removed from the request.
 * A refused token, or one that could not be checked, fails with 401 and is never anonymous.
 *
 * @example passport.use(new TokenReviewStrategy({ kubeConfig, cacheTTL: '2m' }));
 */
export class TokenReviewStrategy extends BearerStrategy<
  (token: string, done: (error: Error | null, user?: KubeUser | false) => void) => void
> {
  private readonly check: (token: string) => Promise<KubeUser | undefined>;
  private readonly logger: Logger;

  constructor(options: TokenReviewStrategyOptions = {}) {
    const authenticator = cachedTokenAuthenticator(
      options.authenticator ??
        webhookTokenAuthenticator(
          options.reviewClient ??
            createReviewClient(
              resolveKubeConfig(options.kubeConfig, 'token webhook authentication'),
              {
                timeoutMs: toMilliseconds(options.timeout ?? '10s', 'timeout'),
              },
            ),
          { audiences: options.audiences },
        ),
      {
        ttlMs: toMilliseconds(options.cacheTTL ?? '2m', 'cacheTTL'),
        maxEntries: options.cacheSize ?? DEFAULT_CACHE_SIZE,
      },
    );
    // One frozen user per cached result: every request with the token shares it.
    const users = new WeakMap<KubeUser, KubeUser>();
    const check = async (token: string): Promise<KubeUser | undefined> => {
      const result = await authenticator.authenticateToken(token);
      if (!result.authenticated) return undefined;
      let user = users.get(result.user);
      if (!user) {
        user = freezeUser(withAuthenticatedGroup(result.user));
        users.set(result.user, user);
      }
      return user;
    };
    // The verify callback keeps passport-http-bearer's contract for code that calls it directly.
    super({ passReqToCallback: false }, (token, done) => {
      check(token).then(
        (user) => done(null, user ?? false),
        (error: Error) => done(error),
      );
    });
    this.name = 'kube-token';
    this.check = check;
    this.logger = options.logger ?? stderrLogger;
  }

  override authenticate(req: IncomingMessage): void {
    const actions = actionsOf(this);
    const request = req as unknown as AuthRequest;
    const token = parseBearerToken(authorizationHeader(request));
    if (token === undefined) return actions.fail();
    this.check(token).then(
      (user) => {
        if (user) {
          removeAuthorizationHeader(request);
          return actions.success(user);
        }
        this.refuse(request, 'invalid bearer token');
      },
      (error: unknown) =>
        this.refuse(request, error instanceof Error ? error.message : 'token review failed'),
    );
  }

  /** The kubelet answers 401 for a refused token and for one it could not check alike. */
  private refuse(req: AuthRequest, reason: string): void {
    markCredentialsRejected(req, reason);
    this.logger.warn(`bearer token refused: ${reason}`);
    actionsOf(this).fail();
  }
}
