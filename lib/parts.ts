/**
 * express-kubelet-auth/parts: the smaller parts behind the root's, and every type the root's
 * signatures name. Options and results of the root's factories (`ClientCertStrategyOptions`,
 * `AuthorizationResult`, …), the rest of the contracts, an authorizer that denies, CA bundles,
 * identity-header functions, an authenticator wrapper that reports to metrics, and the escaping
 * the package's own log lines use, for audit lines of your own.
 *
 * @module express-kubelet-auth/parts
 */
// First: a Node.js / client-node pair that cannot work fails the import, with one clear error.
import './apiserver/import-check.js';

// The contracts the root does not export: what authenticators and authorizers answer.
export type {
  AllOf,
  AuthnOutcome,
  AuthorizationResult,
  AuthRequest,
  Decision,
  DecisionListener,
  DecisionOutcome,
  PathRefused,
  RetryBackoff,
  TokenResult,
} from './contracts.js';

// The options of `kubeletAuth`, section by section, and what they resolve to (`auth.config`).
export type {
  KubeletAuthentication,
  KubeletAuthorization,
  KubeletRequestHeader,
  ApiServerOptions,
} from './options.js';
export type { ResolvedKubeletAuthConfig } from './config.js';

// Authentication.
export type { ClientCertStrategyOptions } from './authn/x509.js';
export type { TokenReviewStrategyOptions } from './authn/token.js';
export type { RequestHeaderAuthenticatorOptions } from './authn/request-header.js';
export type { RequestHeaderSettingsSource } from './authn/request-header-settings.js';
export type { ClusterAuthenticationOptions } from './authn/cluster-authentication/options.js';
export type { OIDCOptions, ResolvedOIDCOptions } from './authn/oidc/options.js';
export type { WebhookTokenAuthenticatorOptions } from './authn/token-authenticator.js';
export type { TokenCacheOptions } from './cache/token-cache.js';
export { AuthenticatorStrategy } from './authn/passport-strategy.js';
export { ClientCertAuthenticator } from './authn/x509.js';
export { TokenReviewAuthenticator } from './authn/token.js';
export { FrontProxyAuthenticator } from './authn/request-header.js';
export { OIDCAuthenticator } from './authn/oidc/strategy.js';
export { anonymousAuthenticator } from './authn/anonymous.js';
export { CABundle } from './authn/ca-bundle.js';
export type { CABundleFileOptions, FolderWatcher, WatchFolder } from './authn/ca-bundle.js';
export { observedAuthenticator } from './metrics/observed-authenticator.js';
export type { AuthenticationMethod } from './metrics/observer.js';

// Authorization.
export { alwaysDeny } from './authz/authorizer.js';
export type { NonResourceAttributesOptions } from './authz/non-resource.js';
export type {
  PathRulesOptions,
  PathRule,
  PathRuleTable,
  PathCheck,
  ResourceRule,
  ComputedRule,
  PathMatch,
} from './authz/path-rules.js';
export type { StaticRule } from './authz/static-rules.js';
export type { WebhookAuthorizerOptions } from './authz/webhook.js';
export type { DecisionCacheOptions } from './cache/decision-cache.js';

// Identity headers to downstream.
export {
  stripIdentityHeaders,
  setIdentityHeaders,
  encodeExtraHeaderKey,
  DEFAULT_IDENTITY_HEADERS,
} from './identity/identity-headers.js';
export type { IdentityHeaderNames, IdentityHeadersOptions } from './identity/identity-headers.js';

// The API server.
export type { ReviewClientOptions } from './apiserver/client.js';
export type {
  TokenReviewSpec,
  TokenReviewStatus,
  SubjectAccessReviewSpec,
  SubjectAccessReviewStatus,
  ResourceAttributes,
  NonResourceAttributes,
} from './apiserver/reviews.js';

// The server `continueWhenBodyRead` takes.
export type { ContinueServer } from './expect-continue.js';

// The user, errors, logging.
export { isKubeUser } from './user.js';
export type { KubeletAuthErrorCode } from './errors.js';
export type { LogLevel, StderrLoggerOptions } from './logger.js';
export {
  escapeControlCharacters,
  escapeControlCharactersInLines,
  quoted,
} from './control-characters.js';
