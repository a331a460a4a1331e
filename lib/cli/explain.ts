/**
 * `express-kubelet-auth explain`: what the middleware asks the API server for one request, and
 * the RBAC that answers yes. Pure functions; `main.ts` does the argv and I/O, `explain-output.ts`
 * the text and JSON it prints, `cluster-role.ts` the role for a list of requests.
 */
import type { SubjectAccessReviewSpec } from '../apiserver/reviews.js';
import { kubeletRequestAttributes, kubeletRouteConflict } from '../authz/attributes.js';
import { checkRequestPath, PATH_REFUSALS, routedPathOf } from '../authz/request-path.js';
import { subjectAccessReviewSpec } from '../authz/subject-access-review.js';
import type { Attributes, KubeUser } from '../contracts.js';
import { ANONYMOUS_USER, anonymousUser, withAuthenticatedGroup } from '../user.js';
import { DEFAULT_FINE_GRAINED } from '../defaults.js';

/** The user name used when none is given; the output says it is an example. */
export const EXAMPLE_USER = 'example-user';

/** Who asks, and which kubelet behaviour to mirror. */
export interface ExplainOptions {
  /** The node name the middleware is configured with (`resourceAttributes.name`). */
  nodeName: string;
  /** Default {@link EXAMPLE_USER}. `system:anonymous` gets the group `system:unauthenticated` only. */
  user?: string;
  groups?: string[];
  uid?: string;
  /** Fine-grained kubelet authorization, as the middleware's option. Default `true`. */
  fineGrained?: boolean;
}

/** One RBAC `PolicyRule`, reduced to the fields a kubelet rule needs. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** A SubjectAccessReview request body as the package sends it. */
export interface SubjectAccessReview {
  apiVersion: 'authorization.k8s.io/v1';
  kind: 'SubjectAccessReview';
  spec: SubjectAccessReviewSpec;
}

/** What {@link explainRequest} found: either a 400 before authorization, or the reviews asked. */
export type ExplainResult =
  | { refused: true; method: string; url: string; reason: string }
  | {
      refused: false;
      method: string;
      url: string;
      /** The decoded path the kubelet rules see. */
      path: string;
      user: KubeUser;
      /** `true` when no user was given and {@link EXAMPLE_USER} stands in. */
      exampleUser: boolean;
      /** In the order asked; the first Allow wins. */
      attributes: Attributes[];
      reviews: SubjectAccessReview[];
      /** The narrowest rule that allows the first attribute. */
      rule: PolicyRule;
      /** `true` when a later attribute is `nodes/proxy`, so a proxy grant also lets it in. */
      proxyFallback: boolean;
    };

/**
 * Derives, for one request, what the middleware would do: the 400 it answers for a path it
 * refuses, or the attribute records, the SubjectAccessReviews and the minimal rule.
 *
 * @example explainRequest('GET', '/stats/summary', { nodeName: 'node-a' }).refused // false
 */
export function explainRequest(
  method: string,
  url: string,
  options: ExplainOptions,
): ExplainResult {
  const path = checkRequestPath({ url });
  if (typeof path !== 'string') return { refused: true, method, url, reason: path.refused };
  const routed = routedPathOf({ url }, path);
  if (
    kubeletRouteConflict(path, { routed, fineGrained: options.fineGrained ?? DEFAULT_FINE_GRAINED })
  ) {
    return { refused: true, method, url, reason: PATH_REFUSALS.routedElsewhere };
  }
  const user = explainedUser(options);
  const attributes = kubeletRequestAttributes(user, method, path, {
    nodeName: options.nodeName,
    fineGrained: options.fineGrained ?? DEFAULT_FINE_GRAINED,
  });
  const first = attributes[0] as Attributes; // the kubelet always derives at least one
  return {
    refused: false,
    method,
    url,
    path,
    user,
    exampleUser: options.user === undefined,
    attributes,
    reviews: attributes.map((a) => ({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: subjectAccessReviewSpec(a),
    })),
    rule: ruleFor(first.subresource, first.verb),
    proxyFallback: attributes.slice(1).some((a) => a.subresource === 'proxy'),
  };
}

// The user as the authenticators hand it to authorization: anonymous, or with `system:authenticated` added.
function explainedUser(options: ExplainOptions): KubeUser {
  const username = options.user ?? EXAMPLE_USER;
  if (username === ANONYMOUS_USER) return anonymousUser();
  const user: KubeUser = { username, groups: [...(options.groups ?? [])] };
  if (options.uid) user.uid = options.uid;
  return withAuthenticatedGroup(user);
}

// RBAC has no way to name the empty verb; only '*' matches it.
function rbacVerb(verb: string): string {
  return verb === '' ? '*' : verb;
}

function ruleFor(subresource: string, verb: string): PolicyRule {
  return { apiGroups: [''], resources: [`nodes/${subresource}`], verbs: [rbacVerb(verb)] };
}
