/**
 * express-kubelet-auth: the middleware and the parts most apps compose it from.
 *
 * The kubelet's rules as pure functions are in `express-kubelet-auth/kubelet`; smaller parts,
 * log-text helpers and the types named by these signatures in `express-kubelet-auth/parts`.
 *
 * @module express-kubelet-auth
 */
// First: a Node.js / client-node pair that cannot work fails the import, with one clear error.
import './apiserver/import-check.js';

// The public surface: explicit names only, at most 50 (__tests__/packaging/entry-points.test.ts).

// The one-call middleware.
export { kubeletAuth } from './kubelet-auth.js';
export type { KubeletAuthMiddleware } from './kubelet-auth.js';
export type { KubeletAuthOptions } from './options.js';

// Authentication: passport strategies, each also a `RequestAuthenticator`, and token checks.
export { ClientCertStrategy } from './authn/x509.js';
export { TokenReviewStrategy } from './authn/token.js';
export { AnonymousStrategy } from './authn/anonymous.js';
export { passportStrategy } from './authn/passport-strategy.js';
export { OIDCStrategy } from './authn/oidc/strategy.js';
export { oidcTokenAuthenticator } from './authn/oidc/authenticator.js';
export { RequestHeaderAuthenticator } from './authn/request-header.js';
export { ClusterAuthentication } from './authn/cluster-authentication/cluster-authentication.js';
export { webhookTokenAuthenticator } from './authn/token-authenticator.js';
export { cachedTokenAuthenticator } from './cache/token-cache.js';

// Authorization: the middleware, what it asks, and the authorizers and their wrappers.
export { kubeletAuthz } from './authz/middleware.js';
export type { KubeletAuthzOptions } from './authz/middleware.js';
export { nonResourceAttributes } from './authz/non-resource.js';
export { pathRules } from './authz/path-rules.js';
export { webhookAuthorizer } from './authz/webhook.js';
export { subjectAccessReviewAuthorizer } from './authz/subject-access-review.js';
export { alwaysAllow, unionAuthorizer } from './authz/authorizer.js';
export { alwaysAllowPaths, alwaysAllowGroups } from './authz/always-allow.js';
export { staticAuthorizer } from './authz/static-rules.js';
export { cachedAuthorizer } from './cache/decision-cache.js';

// Around them: WebSocket upgrades, identity headers to downstream, the API server client.
export { kubeletUpgradeAuth } from './upgrade/upgrade-auth.js';
export { identityHeaders } from './identity/identity-headers.js';
export { closeIfBodyUnread } from './unread-body.js';
export { continueWhenBodyRead } from './expect-continue.js';
export { createReviewClient } from './apiserver/client.js';

// The user, errors, logging.
export { kubeUser } from './user.js';
export type { KubeUser } from './user.js';
export { KubeletAuthError, ReviewFailedError } from './errors.js';
export { stderrLogger, silentLogger, createStderrLogger, withLevel } from './logger.js';

// The contracts users implement or receive.
export type {
  Attributes,
  AttributesFunction,
  Authorizer,
  DecisionEvent,
  KubeletAuthorizationMode,
  Middleware,
  RequestAuthenticator,
  TokenAuthenticator,
} from './contracts.js';
export type { ReviewClient } from './apiserver/reviews.js';
export type { Logger } from './logger.js';
export type { AuthMetrics } from './metrics/observer.js';
export type { Duration } from './duration.js';
