/**
 * express-kubelet-auth/testing: real certificates, a stand-in kube-apiserver and an RBAC policy
 * evaluator, so that applications using express-kubelet-auth can be tested end to end.
 *
 * @module express-kubelet-auth/testing
 */
// First: a Node.js / client-node pair that cannot work fails the import, with one clear error.
import '../apiserver/import-check.js';

export { createCA, mintClientCert, mintServingCert, UID_OID } from './pki.js';
export type {
  CertificateAuthority,
  CreateCAOptions,
  ClientCertOptions,
  IssuedCertificate,
  ServingCertOptions,
} from './pki.js';
export { startApiServer } from './apiserver.js';
export type {
  Fault,
  StandInApiServer,
  StandInApiServerOptions,
  StandInToken,
  StandInUser,
  SubjectAccessReviewBody,
  TokenReviewBody,
} from './apiserver.js';
export type { StandInReviewClientOptions } from './review-client.js';
export type { ConfigMapRequest } from './config-maps.js';
export { extensionApiserverAuthentication } from './authentication-config-map.js';
export type { ExtensionApiserverAuthentication } from './authentication-config-map.js';
export { CompiledPolicy, compilePolicy, evaluate } from './policy.js';
export type {
  NonResourceAttributes,
  PolicyDecision,
  ResourceAttributes,
  SimpleRule,
  StandInPolicy,
  SubjectAccessReviewSpec,
} from './policy.js';
export { startOidcIssuer } from './oidc-issuer.js';
export type {
  MintTokenOptions,
  OidcEndpoint,
  OidcIssuerFault,
  OidcSigningAlgorithm,
  StandInOidcIssuer,
  StandInOidcIssuerOptions,
} from './oidc-issuer.js';
