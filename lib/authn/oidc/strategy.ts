import type {
  AuthnOutcome,
  AuthRequest,
  RequestAuthenticator,
  TokenAuthenticator,
  TokenResult,
} from '../../contracts.js';
import { levelled, type Logger } from '../../logger.js';
import { authorizationHeader, parseBearerToken, removeAuthorizationHeader } from '../bearer.js';
import { AuthenticatorStrategy } from '../passport-strategy.js';
import { markCredentialsRejected } from '../rejection.js';
import { NO_CREDENTIALS } from '../request-authenticator.js';
import { authenticatedGroupAdder } from '../authenticated-group.js';
import { createOIDCAuthenticator } from './authenticator.js';
import type { OIDCOptions, ResolvedOIDCOptions } from './options.js';
import { resolveOIDCOptions } from './resolve-options.js';

/**
 * A passport strategy, name `'kube-oidc'`, for `Authorization: Bearer` JWTs from one OpenID
 * Connect issuer (see `oidcTokenAuthenticator` for what is checked). Put it before
 * `'kube-token'`, as kube-apiserver tries OIDC before its token webhook:
 * - a token of another issuer (or not a JWT) fails without a mark of its own kind, so the next
 *   strategy can accept it; it is never anonymous, as any bearer token no one accepted;
 * - a token of this issuer that fails verification is refused (401 unless a later strategy
 *   accepts it, never anonymous), logged at debug; one that could not be checked (issuer
 *   unreachable, no keys) the same, logged at warn.
 * On success the `Authorization` header is removed from the request.
 *
 * @example passport.use(new OIDCStrategy({ issuerURL: 'https://issuer.example', clientID: 'kubernetes' }));
 */
export class OIDCStrategy extends AuthenticatorStrategy<OIDCAuthenticator> {
  constructor(options: OIDCOptions) {
    super(
      'kube-oidc',
      new OIDCAuthenticator(resolveOIDCOptions(options, ''), levelled(options.logger)),
    );
  }
}

/** The OIDC token authentication of {@link OIDCStrategy}, without passport. */
export class OIDCAuthenticator implements RequestAuthenticator {
  private readonly authenticator: TokenAuthenticator;
  /** Why a token of another issuer is not accepted here. */
  private readonly foreign: string;
  private readonly notMine: AuthnOutcome;

  constructor(
    resolved: ResolvedOIDCOptions,
    private readonly logger: Required<Logger>,
  ) {
    this.authenticator = authenticatedGroupAdder(createOIDCAuthenticator(resolved, logger));
    this.foreign = `bearer token not issued by ${resolved.issuerURL}`;
    this.notMine = Object.freeze({ kind: 'refused', reason: this.foreign, attempted: false });
  }

  /**
   * The bearer token's outcome for this request: synchronous for a token of another issuer, a
   * promise for one of this issuer. Never rejects.
   */
  authenticateRequest(req: AuthRequest): AuthnOutcome | Promise<AuthnOutcome> {
    const token = parseBearerToken(authorizationHeader(req));
    if (token === undefined) return NO_CREDENTIALS;
    const known = this.authenticator.peekToken?.(token);
    if (known) return this.outcome(req, known);
    return this.authenticator.authenticateToken(token).then(
      (result) => this.outcome(req, result),
      (error: unknown) => this.refuse(req, error),
    );
  }

  private outcome(req: AuthRequest, result: TokenResult): AuthnOutcome {
    if (!result.authenticated) {
      // Not this issuer's: a later authenticator may accept it, but it must not become anonymous.
      markCredentialsRejected(req, this.foreign);
      return this.notMine;
    }
    removeAuthorizationHeader(req);
    return { kind: 'user', user: result.user };
  }

  /** A refused token is the client's business (debug); one that could not be checked is news (warn). */
  private refuse(req: AuthRequest, error: unknown): AuthnOutcome {
    const reason = error instanceof Error ? error.message : String(error);
    markCredentialsRejected(req, reason);
    if ((error as { code?: unknown } | null)?.code === 'ERR_OIDC_TOKEN_INVALID') {
      this.logger.debug(`OIDC token refused: ${reason}`);
      return { kind: 'refused', reason };
    }
    this.logger.warn(`OIDC token not checked: ${reason}`);
    return { kind: 'refused', reason, error: true };
  }
}
