import { KubeletAuthError } from '../errors.js';
import type { ReviewClient, SubjectAccessReviewSpec } from '../apiserver/reviews.js';
import type { Attributes, AuthorizationResult, Authorizer } from '../contracts.js';

/**
 * The SubjectAccessReview spec for an attribute record, as k8s.io/apiserver's webhook
 * authorizer builds it: empty fields are left out (`omitempty`), so HEAD's empty verb, the empty
 * namespace and group, and a user without uid, groups or extra send nothing for them.
 */
export function subjectAccessReviewSpec(attributes: Attributes): SubjectAccessReviewSpec {
  const spec: SubjectAccessReviewSpec = {};
  if (attributes.resourceRequest) {
    spec.resourceAttributes = withoutEmpty({
      namespace: attributes.namespace,
      verb: attributes.verb,
      group: attributes.apiGroup,
      version: attributes.apiVersion,
      resource: attributes.resource,
      subresource: attributes.subresource,
      name: attributes.name,
    });
  } else {
    spec.nonResourceAttributes = withoutEmpty({ path: attributes.path, verb: attributes.verb });
  }
  const { user } = attributes;
  if (user.username) spec.user = user.username;
  if (user.groups.length > 0) spec.groups = [...user.groups];
  if (user.extra && Object.keys(user.extra).length > 0) spec.extra = user.extra;
  if (user.uid) spec.uid = user.uid;
  return spec;
}

function withoutEmpty<T extends Record<string, string>>(fields: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(fields) as (keyof T)[]) {
    if (fields[key] !== '') out[key] = fields[key];
  }
  return out;
}

/**
 * An authorizer that asks the API server's SubjectAccessReview (`authorization.k8s.io/v1`),
 * uncached; {@link webhookAuthorizer} is the cached one the kubelet uses. Interpretation as
 * upstream: allowed → Allow; denied → Deny; neither → NoOpinion; both → Deny with an error
 * (500). An `evaluationError` is reported as the reason and is not cached.
 */
export function subjectAccessReviewAuthorizer(client: ReviewClient): Authorizer {
  return {
    async authorize(attributes: Attributes): Promise<AuthorizationResult> {
      const status = await client.subjectAccessReview(subjectAccessReviewSpec(attributes));
      const reason = status.evaluationError
        ? [status.reason, `evaluation error: ${status.evaluationError}`].filter(Boolean).join('; ')
        : status.reason;
      const result: AuthorizationResult = status.allowed
        ? status.denied
          ? {
              decision: 'Deny',
              error: new KubeletAuthError(
                'ERR_SUBJECT_ACCESS_REVIEW_ERROR',
                'webhook subject access review returned both allow and deny response',
              ),
            }
          : { decision: 'Allow' }
        : { decision: status.denied ? 'Deny' : 'NoOpinion' };
      if (reason) result.reason = reason;
      if (status.evaluationError) result.cacheable = false;
      return result;
    },
  };
}
