import type { KubeConfig } from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import { reviewClientFor } from '../apiserver/client.js';
import type { ReviewClient } from '../apiserver/reviews.js';
import { answerCacheOptionsOf } from '../cache/answer-cache.js';
import { cachedTokenAuthenticator } from '../cache/token-cache.js';
import { KUBELET_CONFIGURATION_DEFAULTS } from '../defaults.js';
import type { AuthMetrics } from '../metrics/observer.js';
import { toMilliseconds, type Duration } from '../duration.js';
import { levelled, type Logger } from '../logger.js';
import type { KubeUser } from '../user.js';
import { authenticatedGroupAdder } from './authenticated-group.js';
import { authorizationHeader, parseBearerToken, removeAuthorizationHeader } from './bearer.js';
import { connectionOf } from './connection.js';
import { AuthenticatorStrategy } from './passport-strategy.js';
import { markCredentialsRejected } from './rejection.js';
import type {
  AuthnOutcome,
  AuthRequest,
  RequestAuthenticator,
  TokenAuthenticator,
  TokenResult,
} from '../contracts.js';
import { NO_CREDENTIALS } from './request-authenticator.js';
import { webhookTokenAuthenticator } from './token-authenticator.js';
import { checkKnownKeys, optionNames } from '../option-errors.js';

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
  /**
   * Where refused tokens (debug) and failed reviews (warn) are reported, never the token.
   * Default: `stderrLogger`.
   */
  logger?: Logger;
  /**
   * Stale-if-error: when no answer comes from the API server (connection refused or reset,
   * timeout, HTTP 5xx or 429), accept a cached result that expired at most this long ago
   * instead of refusing. Any answer replaces the cached result, `status.error` included.
   * Default: `0` (off, as the kubelet).
   */
  staleIfError?: Duration;
  /** Told of cache lookups and, through the review client it builds, of reviews. */
  metrics?: AuthMetrics;
}

const TOKEN_REVIEW_OPTIONS = optionNames<TokenReviewStrategyOptions>({
  kubeConfig: true,
  cacheTTL: true,
  cacheSize: true,
  audiences: true,
  timeout: true,
  authenticator: true,
  reviewClient: true,
  logger: true,
  staleIfError: true,
  metrics: true,
});

/**
 * A passport strategy, name `'kube-token'`, for `Authorization: Bearer` tokens checked with the
 * API server's TokenReview, with the kubelet's header parsing (`bearer` in any case, one space,
 * extra parts ignored; never the body or the query). On success the `Authorization` header is
 * removed from the request. A refused token, or one that could not be checked, fails with 401
 * and is never anonymous.
 *
 * @example passport.use(new TokenReviewStrategy({ kubeConfig, cacheTTL: '2m' }));
 */
export class TokenReviewStrategy extends AuthenticatorStrategy<TokenReviewAuthenticator> {
  constructor(options: TokenReviewStrategyOptions = {}) {
    super('kube-token', new TokenReviewAuthenticator(options));
  }
}

/**
 * Bearer tokens (the `Authorization` header) checked with a token authenticator that is cached
 * already: what {@link TokenReviewAuthenticator} runs, and what `kubeletAuth` builds from its
 * resolved options.
 */
export class BearerTokenAuthenticator implements RequestAuthenticator {
  private readonly logger: Required<Logger>;

  constructor(
    private readonly authenticator: TokenAuthenticator,
    logger?: Logger,
  ) {
    this.logger = levelled(logger);
  }

  /**
   * The bearer token's outcome for this request: synchronous for a cached token, a promise when
   * the API server must be asked. Never rejects: a failed review is a refusal (401).
   */
  authenticateRequest(req: AuthRequest): AuthnOutcome | Promise<AuthnOutcome> {
    const token = parseBearerToken(authorizationHeader(req));
    if (token === undefined) return NO_CREDENTIALS;
    return this.checkToken(req, token, removeAuthorizationHeader);
  }

  /**
   * Checks a bearer token found in `req` (the header, or a WebSocket subprotocol) with the
   * cached TokenReview; on success `accepted` removes the credential from the request.
   */
  checkToken(
    req: AuthRequest,
    token: string,
    accepted: (req: AuthRequest) => void,
  ): AuthnOutcome | Promise<AuthnOutcome> {
    const connection = connectionOf(req);
    const cached = this.authenticator.peekToken?.(token, connection);
    if (cached) return this.outcome(req, cached, accepted);
    return this.authenticator.authenticateToken(token, connection).then(
      (result) => this.outcome(req, result, accepted),
      (error: unknown) =>
        this.refuse(req, error instanceof Error ? error.message : 'token review failed', true),
    );
  }

  private outcome(
    req: AuthRequest,
    result: TokenResult,
    accepted: (req: AuthRequest) => void,
  ): AuthnOutcome {
    const user = userOf(result);
    if (!user) return this.refuse(req, 'invalid bearer token');
    accepted(req);
    return { kind: 'user', user };
  }

  /**
   * The kubelet answers 401 for a refused token and for one it could not check alike. Only the
   * latter is news to the operator (the client already knows its token was refused).
   */
  refuse(req: AuthRequest, reason: string, error = false): AuthnOutcome {
    markCredentialsRejected(req, reason);
    if (error) this.logger.warn(`bearer token not checked: ${reason}`);
    else this.logger.debug(`bearer token refused: ${reason}`);
    return error ? { kind: 'refused', reason, error } : { kind: 'refused', reason };
  }
}

/** The bearer token authentication of {@link TokenReviewStrategy}, without passport. */
export class TokenReviewAuthenticator extends BearerTokenAuthenticator {
  constructor(options: TokenReviewStrategyOptions = {}) {
    super(cachedTokenReviews(options), options.logger);
  }
}

/** The options of {@link TokenReviewStrategy} checked, and its cached token authenticator. */
function cachedTokenReviews(options: TokenReviewStrategyOptions): TokenAuthenticator {
  checkKnownKeys('TokenReviewStrategy', options, TOKEN_REVIEW_OPTIONS);
  const cache = answerCacheOptionsOf(options, 'TokenReviewStrategy');
  const reviews =
    options.authenticator ??
    webhookTokenAuthenticator(reviewClientFor(options, 'token webhook authentication'), {
      audiences: options.audiences,
    });
  return cachedTokenAuthenticator(authenticatedGroupAdder(reviews), {
    ttlMs: toMilliseconds(options.cacheTTL ?? KUBELET_CONFIGURATION_DEFAULTS.cacheTTL, 'cacheTTL'),
    ...cache,
  });
}

/** The user a result names (final: the group adder under the cache made it so). */
function userOf(result: TokenResult): KubeUser | undefined {
  return result.authenticated ? result.user : undefined;
}
