import type { Attributes, AttributesFunction } from '../contracts.js';
import { verbFor, type VerbMapping } from './verbs.js';
import { checkKnownKeys, invalidOption } from '../option-errors.js';

/** Options of {@link nonResourceAttributes}. */
export interface NonResourceAttributesOptions {
  /**
   * How the method becomes the verb. Default: `'http'` — the method in lower case, as the API
   * server does for non-resource requests: GET `get`, HEAD `head`, OPTIONS `options`, POST
   * `post`. `'kubelet'` gives HEAD `get` and OPTIONS `''` (denied); see {@link VerbMapping}.
   */
  verbs?: VerbMapping;
}

const OPTION_NAMES = new Set(['verbs']);

/**
 * Authorizes every request by its path, as the API server authorizes `/metrics` or `/healthz`:
 * one non-resource check, sent as `nonResourceAttributes: { path, verb }` in the
 * SubjectAccessReview and matched by RBAC `nonResourceURLs` rules. `path` is the decoded request
 * path without the query. Non-resource rules live only in ClusterRoles.
 *
 * @example
 * // RBAC: a ClusterRole with { nonResourceURLs: ['/metrics'], verbs: ['get'] }, bound to the caller.
 * app.use(kubeletAuthz({ authorizer: webhookAuthorizer({ kubeConfig }), attributes: nonResourceAttributes() }));
 */
export function nonResourceAttributes(
  options: NonResourceAttributesOptions = {},
): AttributesFunction {
  if (typeof options !== 'object' || options === null) {
    throw invalidOption('nonResourceAttributes: options must be an object { verbs? }');
  }
  checkKnownKeys('nonResourceAttributes', options, [...OPTION_NAMES]);
  const verbOf = verbFor(options.verbs ?? 'http', 'nonResourceAttributes: verbs');
  return function nonResourceRequestAttributes(req, user, path): Attributes[] {
    return [nonResourceRecord(user, verbOf(req.method ?? ''), path)];
  };
}

/** A non-resource record: path and verb; every resource field empty (and not sent). */
function nonResourceRecord(user: Attributes['user'], verb: string, path: string): Attributes {
  return {
    user,
    verb,
    namespace: '',
    apiGroup: '',
    apiVersion: '',
    resource: '',
    subresource: '',
    name: '',
    resourceRequest: false,
    path,
  };
}
