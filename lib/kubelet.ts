/**
 * express-kubelet-auth/kubelet: the kubelet's rules as pure functions, for tools, tests and
 * middleware of your own. How a request becomes the attributes the kubelet asks about (verb,
 * `nodes/<subresource>`), which paths it refuses, the text of its 403 and 500 answers, its
 * duration format and its configuration file's defaults. Nothing here reads a file or calls the
 * API server.
 *
 * @module express-kubelet-auth/kubelet
 */
export {
  kubeletRequestAttributes,
  kubeletSubresources,
  kubeletVerb,
  kubeletRouteConflict,
} from './authz/attributes.js';
export type { KubeletAttributesOptions, RouteConflictOptions } from './authz/attributes.js';
export { verbFor } from './authz/verbs.js';
export type { VerbMapping, VerbFunction } from './authz/verbs.js';
export { requestPath, routedPath } from './authz/request-path.js';
export { forbiddenMessage, authorizationErrorMessage } from './responses.js';
export { parseGoDuration, formatGoDuration } from './duration.js';
export { KUBELET_CONFIGURATION_DEFAULTS } from './defaults.js';
