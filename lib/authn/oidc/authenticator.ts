import type { JWTVerifyGetKey } from 'jose';
import type { TokenAuthenticator, TokenResult } from '../../contracts.js';
import { OIDC_DEFAULTS } from '../../defaults.js';
import { KubeletAuthError } from '../../errors.js';
import { levelled, type Logger } from '../../logger.js';
import { userFromClaims } from './claims.js';
import { jwksURIOf } from './discovery.js';
import { fetchJson } from './fetch-json.js';
import { importJose, type Jose } from './jose.js';
import { IssuerKeys } from './key-set.js';
import type { OIDCOptions, ResolvedOIDCOptions } from './options.js';
import { resolveOIDCOptions } from './resolve-options.js';

const NOT_MINE: TokenResult = Object.freeze({ authenticated: false });

/**
 * A token authenticator for JWTs from one OpenID Connect issuer, as kube-apiserver's
 * `--oidc-*` authenticator checks them:
 * - a token that is not a JWT, or whose (unverified) `iss` is another issuer, is not this
 *   authenticator's: `{ authenticated: false }`, so that the next one (TokenReview) may try it;
 * - a token of this issuer is verified with jose: signature by a key of the issuer's key set
 *   (found through discovery), an allowed algorithm, `aud` containing the client ID, `exp`
 *   required, `exp`/`nbf` within the clock skew; then its claims are mapped to a user. A token
 *   that fails rejects with `ERR_OIDC_TOKEN_INVALID` (refused, 401, never anonymous);
 * - when the issuer cannot be reached (or answers nonsense) and no keys are in hand, it rejects
 *   with `ERR_OIDC_UNAVAILABLE`. Nothing throws outside the returned promises.
 * Discovery and the keys are fetched at once, in the background (a failure is logged once and
 * tried again on the next token). Keys are kept; an unknown key ID fetches them again, at most
 * once per 30 s; keys older than 10 minutes are refreshed while the ones in hand serve.
 *
 * @example const oidc = oidcTokenAuthenticator({ issuerURL: 'https://issuer.example', clientID: 'kubernetes' });
 */
export function oidcTokenAuthenticator(options: OIDCOptions): TokenAuthenticator {
  return createOIDCAuthenticator(resolveOIDCOptions(options, ''), levelled(options.logger));
}

/** {@link oidcTokenAuthenticator} from options already resolved. */
export function createOIDCAuthenticator(
  options: ResolvedOIDCOptions,
  logger: Required<Logger>,
): TokenAuthenticator {
  const { issuerURL, now } = options;
  const fetchOptions = {
    ca: options.ca,
    timeoutMs: options.timeoutMs,
    maxBytes: OIDC_DEFAULTS.maxDocumentBytes,
  };
  /** Known once discovery succeeded; discovery is not repeated after that. */
  let jwksURI: string | undefined;
  /** jose and the key set, once jose is loaded. */
  let loaded: { jose: Jose; keys: IssuerKeys } | undefined;

  const ready = importJose().then((jose) => {
    const keys = new IssuerKeys({
      jose,
      async fetchKeySet() {
        jwksURI ??= jwksURIOf(
          await fetchJson(options.discoveryURL, 'discovery document', fetchOptions),
          issuerURL,
          options.discoveryURL,
        );
        return fetchJson(jwksURI, 'key set', fetchOptions);
      },
      now,
      cooldownMs: OIDC_DEFAULTS.jwksCooldownMs,
      maxAgeMs: OIDC_DEFAULTS.jwksMaxAgeMs,
      retry: { initialMs: OIDC_DEFAULTS.retryInitialMs, maxMs: OIDC_DEFAULTS.retryMaxMs },
      onRefreshFailed: (error) =>
        logger.warn(
          `OIDC keys of ${issuerURL} not refreshed, the ones in hand stay: ${message(error)}`,
        ),
    });
    return (loaded = { jose, keys });
  });
  ready
    .then(({ keys }) => keys.prefetch())
    .catch((error: unknown) =>
      logger.warn(
        `OIDC issuer ${issuerURL} not ready (tried again on the next token): ${message(error)}`,
      ),
    );

  /** Whether the token says it comes from this issuer (unverified: only to pick the authenticator). */
  function claimsThisIssuer(token: string, jose: Jose): boolean {
    if (token.length > options.maxTokenSize) return false;
    try {
      return jose.decodeJwt(token).iss === issuerURL;
    } catch {
      return false;
    }
  }

  return {
    async authenticateToken(token: string): Promise<TokenResult> {
      const { jose, keys } = loaded ?? (await ready);
      if (!claimsThisIssuer(token, jose)) return NOT_MINE;
      let claims: Record<string, unknown>;
      try {
        ({ payload: claims } = await jose.jwtVerify(token, keyOf(keys), {
          issuer: issuerURL,
          audience: options.clientID,
          algorithms: options.signingAlgs,
          requiredClaims: ['exp'],
          clockTolerance: options.clockSkewMs / 1000,
          currentDate: new Date(now()),
        }));
      } catch (error) {
        throw classified(error);
      }
      return { authenticated: true, user: userFromClaims(claims, options) };
    },
    peekToken(token: string): TokenResult | undefined {
      // A token of another issuer is known at once; one of this issuer needs verifying.
      return loaded && !claimsThisIssuer(token, loaded.jose) ? NOT_MINE : undefined;
    },
  };
}

/**
 * The key lookup, with its failures that are the issuer's (unreachable, a malformed key set)
 * marked as such; its verdicts on the token (no key for its ID) stay jose's.
 */
function keyOf(keys: IssuerKeys): JWTVerifyGetKey {
  return async (header, token) => {
    try {
      return await keys.getKey(header, token);
    } catch (error) {
      if (isTokenVerdict(error) || error instanceof KubeletAuthError) throw error;
      throw new KubeletAuthError('ERR_OIDC_UNAVAILABLE', `token not checked: ${message(error)}`, {
        cause: error,
      });
    }
  };
}

/** jose's verdicts on a token itself, as opposed to failures to check it. */
const TOKEN_VERDICTS = new Set([
  'ERR_JOSE_ALG_NOT_ALLOWED',
  'ERR_JWS_INVALID',
  'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  'ERR_JWT_INVALID',
  'ERR_JWT_EXPIRED',
  'ERR_JWT_CLAIM_VALIDATION_FAILED',
  'ERR_JWKS_NO_MATCHING_KEY',
  'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
]);

function isTokenVerdict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TOKEN_VERDICTS.has(code);
}

/**
 * A failed verification as the package's error. The key lookup marked the issuer's failures
 * already (see {@link keyOf}); any other error of jose's is about the token itself (signature,
 * algorithm, claims, an unsupported `crit` header, no key for its ID) and refuses it, named by
 * its code, since a message may quote what the token says. Anything else means it could not
 * be checked.
 */
function classified(error: unknown): KubeletAuthError {
  if (error instanceof KubeletAuthError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('ERR_J')) {
    const reason = TOKEN_VERDICTS.has(code) ? message(error) : code;
    return new KubeletAuthError('ERR_OIDC_TOKEN_INVALID', reason, { cause: error });
  }
  return new KubeletAuthError('ERR_OIDC_UNAVAILABLE', `token not checked: ${message(error)}`, {
    cause: error,
  });
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
