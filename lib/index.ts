/**
 * express-kubelet-auth: the middleware, its parts, and the kubelet's rules as pure functions.
 *
 * @module express-kubelet-auth
 */
// First: a Node.js / client-node pair that cannot work fails the import, with one clear error.
import './apiserver/import-check.js';

// The public surface: explicit names only.
export type {
  AllOf,
  Attributes,
  AttributesFunction,
  AuthnOutcome,
  AuthorizationResult,
  Authorizer,
  AuthRequest,
  Decision,
  DecisionEvent,
  DecisionListener,
  DecisionOutcome,
  Middleware,
  PathRefused,
  RequestAuthenticator,
  RetryBackoff,
  TokenAuthenticator,
  TokenResult,
} from './contracts.js';
export {
  DEFAULT_CACHE_SIZE,
  DEFAULT_RETRY_BACKOFF,
  DEFAULT_REVIEW_TIMEOUT_MS,
  KUBELET_CONFIGURATION_DEFAULTS,
} from './defaults.js';
export { kubeletAuth } from './kubelet-auth.js';
export type { KubeletAuthMiddleware } from './kubelet-auth.js';
export type {
  KubeletAuthOptions,
  KubeletAuthentication,
  KubeletAuthorization,
  KubeletAuthorizationMode,
  ApiServerOptions,
} from './options.js';
export { resolveKubeletAuthConfig } from './config.js';
export type { ResolvedKubeletAuthConfig } from './config.js';

export { ClientCertStrategy, CREDENTIAL_ID_EXTRA } from './authn/x509.js';
export type { ClientCertStrategyOptions } from './authn/x509.js';
export { CABundle, parseCertificateBundle } from './authn/ca-bundle.js';
export type { CABundleFileOptions, FolderWatcher, WatchFolder } from './authn/ca-bundle.js';
export { verifyClientChain } from './authn/chain.js';
export type { ChainResult } from './authn/chain.js';
export { TokenReviewStrategy } from './authn/token.js';
export type { TokenReviewStrategyOptions } from './authn/token.js';
export { AnonymousStrategy } from './authn/anonymous.js';
export { AuthenticatorStrategy, passportStrategy } from './authn/passport-strategy.js';
export { parseBearerToken } from './authn/bearer.js';
export { webhookTokenAuthenticator } from './authn/token-authenticator.js';
export type { WebhookTokenAuthenticatorOptions } from './authn/token-authenticator.js';
export { credentialsRejection } from './authn/rejection.js';
export { WebSocketTokenAuthenticator } from './authn/websocket-token.js';
export { isWebSocketRequest, readProtocolToken } from './authn/websocket-protocol.js';
export type { ProtocolToken } from './authn/websocket-protocol.js';
export { RequestHeaderAuthenticator } from './authn/request-header.js';
export type { RequestHeaderAuthenticatorOptions } from './authn/request-header.js';
export type { RequestHeaderSettingsSource } from './authn/request-header-settings.js';
export { ClusterAuthentication } from './authn/cluster-authentication/cluster-authentication.js';
export type { ClusterAuthenticationOptions } from './authn/cluster-authentication/options.js';
export {
  identityHeaders,
  stripIdentityHeaders,
  setIdentityHeaders,
  encodeExtraHeaderKey,
  decodeExtraHeaderKey,
  DEFAULT_IDENTITY_HEADERS,
} from './identity/identity-headers.js';
export type { IdentityHeaderNames, IdentityHeadersOptions } from './identity/identity-headers.js';
export { kubeletUpgradeAuth } from './upgrade/upgrade-auth.js';
export { authenticateUnion } from './authn/request-authenticator.js';

export { kubeletAuthz } from './authz/middleware.js';
export type { KubeletAuthzOptions } from './authz/middleware.js';
export { nonResourceAttributes } from './authz/non-resource.js';
export type { NonResourceAttributesOptions } from './authz/non-resource.js';
export { pathRules } from './authz/path-rules.js';
export type {
  PathRulesOptions,
  PathRule,
  PathRuleTable,
  PathCheck,
  ResourceRule,
  ComputedRule,
  PathMatch,
} from './authz/path-rules.js';
export { verbFor } from './authz/verbs.js';
export type { VerbMapping, VerbFunction } from './authz/verbs.js';
export { alwaysAllowPaths, alwaysAllowGroups } from './authz/always-allow.js';
export { staticAuthorizer } from './authz/static-rules.js';
export type { StaticRule } from './authz/static-rules.js';
export {
  kubeletRequestAttributes,
  kubeletSubresources,
  kubeletVerb,
  kubeletRouteConflict,
  isSubpath,
} from './authz/attributes.js';
export type { KubeletAttributesOptions, RouteConflictOptions } from './authz/attributes.js';
export { requestPath } from './authz/request-path.js';
export { alwaysAllow, alwaysDeny, unionAuthorizer } from './authz/authorizer.js';
export { webhookAuthorizer } from './authz/webhook.js';
export type { WebhookAuthorizerOptions } from './authz/webhook.js';
export {
  subjectAccessReviewAuthorizer,
  subjectAccessReviewSpec,
} from './authz/subject-access-review.js';

export { cachedAuthorizer } from './cache/decision-cache.js';
export type { DecisionCacheOptions } from './cache/decision-cache.js';
export { cachedTokenAuthenticator } from './cache/token-cache.js';
export type { TokenCacheOptions } from './cache/token-cache.js';

export { createReviewClient } from './apiserver/client.js';
export type { ReviewClientOptions } from './apiserver/client.js';
export type {
  ReviewClient,
  TokenReviewSpec,
  TokenReviewStatus,
  SubjectAccessReviewSpec,
  SubjectAccessReviewStatus,
  ResourceAttributes,
  NonResourceAttributes,
} from './apiserver/reviews.js';

export {
  kubeUser,
  isKubeUser,
  anonymousUser,
  withAuthenticatedGroup,
  ANONYMOUS_USER,
  AUTHENTICATED_GROUP,
  UNAUTHENTICATED_GROUP,
} from './user.js';
export type { KubeUser } from './user.js';
export { KubeletAuthError, ReviewFailedError } from './errors.js';
export type { KubeletAuthErrorCode } from './errors.js';
export { parseGoDuration, formatGoDuration, toMilliseconds } from './duration.js';
export type { Duration } from './duration.js';
export { stderrLogger, silentLogger, createStderrLogger, withLevel } from './logger.js';
export { observedAuthenticator } from './metrics/observed-authenticator.js';
export type {
  AuthMetrics,
  AuthenticationMethod,
  AuthenticationResult,
  CacheStatus,
  ReviewKind,
} from './metrics/observer.js';
export type { Logger, LogLevel, StderrLoggerOptions } from './logger.js';
export { forbiddenMessage, authorizationErrorMessage } from './responses.js';
