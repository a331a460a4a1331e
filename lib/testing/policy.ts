/**
 * The stand-in API server's authorizer: SubjectAccessReview specs evaluated against simple
 * test rules and/or real RBAC objects, with the rule-matching semantics of kube-apiserver's RBAC
 * authorizer (plugin/pkg/auth/authorizer/rbac and the rbac/v1 helpers).
 */
import type {
  NonResourceAttributes,
  ResourceAttributes,
  SubjectAccessReviewSpec,
} from '../apiserver/reviews.js';
import { resolveBindings } from './rbac-bindings.js';
import type { ResolvedBinding } from './rbac-bindings.js';
import type { PolicyRule, SubjectObject } from './rbac-objects.js';
import { didYouMean } from '../option-errors.js';
import {
  invalidMessage,
  reviewDecodeError,
  subjectAccessReviewCauses,
} from './review-validation.js';

// The SubjectAccessReview shapes are the package's own wire types.
export type { NonResourceAttributes, ResourceAttributes, SubjectAccessReviewSpec };

/**
 * A shorthand rule for tests. It applies when the SAR's user is in `users` or one of its groups
 * is in `groups`; `'*'` in either list matches every requester, `system:anonymous` included.
 * Rules are cluster-wide: they match requests in every namespace.
 */
export interface SimpleRule {
  users?: string[];
  groups?: string[];
  /** `'*'` matches every verb, including the empty verb of a SAR that names none. */
  verbs: string[];
  /**
   * As in RBAC (`'nodes'`, `'nodes/stats'`, `'*'`, `'*\/stats'`), plus one shorthand RBAC itself
   * does not have: `'nodes/*'` matches every subresource of `nodes` (but not `nodes` itself).
   */
  resources?: string[];
  /** Empty or absent: every name. */
  resourceNames?: string[];
  /** Default `['']` (the core group). */
  apiGroups?: string[];
  /** Paths for non-resource requests: exact, `'/prefix*'`, or `'*'`. */
  nonResourceURLs?: string[];
}

/** What the stand-in API server authorizes with. */
export interface StandInPolicy {
  rules?: SimpleRule[];
  /**
   * RBAC objects (`rbac.authorization.k8s.io/v1` ClusterRole, Role, ClusterRoleBinding,
   * RoleBinding; also inside a `List`), as multi-document YAML text or already parsed. They are
   * validated as kube-apiserver validates them: another RBAC version, a misspelled kind or an
   * unknown field is an error. Aggregated ClusterRoles get the rules of the roles they select.
   * Objects of other API groups are skipped.
   */
  rbac?: string | object[];
  /**
   * Also load Kubernetes' bootstrap roles and bindings that callers of a kubelet or an API meet
   * (as of Kubernetes v1.34): `cluster-admin` bound to `system:masters`, `system:discovery` and
   * `system:public-info-viewer` with their bindings, the aggregated `admin`, `edit` and `view`
   * with the `system:aggregate-to-*` roles they select, `system:kubelet-api-admin`,
   * `system:auth-delegator`, and the Role `extension-apiserver-authentication-reader` in
   * kube-system. Objects in `rbac` with the same kind and name replace them.
   * Default: false.
   */
  defaults?: boolean;
}

/** An authorization decision. RBAC never denies outright, so there is no `denied` here. */
export interface PolicyDecision {
  allowed: boolean;
  reason?: string;
}

interface CompiledSimpleRule {
  index: number;
  users: string[];
  groups: string[];
  rule: PolicyRule;
}

interface Request {
  user: string;
  groups: string[];
  resource: boolean;
  namespace: string;
  verb: string;
  apiGroup: string;
  resourceName: string;
  subresource: string;
  name: string;
  path: string;
}

/** A validated policy, ready to evaluate many reviews without re-parsing. */
export class CompiledPolicy {
  readonly #simple: CompiledSimpleRule[];
  readonly #clusterBindings: ResolvedBinding[];
  readonly #roleBindings: ResolvedBinding[];

  /** Validates `policy`; throws a `TypeError` naming the offending part when it is malformed. */
  constructor(policy: StandInPolicy = {}) {
    if (typeof policy !== 'object' || policy === null || Array.isArray(policy)) {
      throw new TypeError('policy must be an object { rules?, rbac?, defaults? }');
    }
    for (const key of Object.keys(policy)) {
      if (!POLICY_KEYS.includes(key)) {
        throw new TypeError(`policy.${key}: unknown option${didYouMean(key, POLICY_KEYS)}`);
      }
    }
    if (policy.rules !== undefined && !Array.isArray(policy.rules)) {
      throw new TypeError('policy.rules must be a list');
    }
    if (policy.defaults !== undefined && typeof policy.defaults !== 'boolean') {
      throw new TypeError('policy.defaults must be true or false');
    }
    this.#simple = (policy.rules ?? []).map(compileSimpleRule);
    const bindings = resolveBindings(policy.rbac, policy.defaults ?? false);
    this.#clusterBindings = bindings.filter((b) => b.kind === 'ClusterRoleBinding');
    this.#roleBindings = bindings.filter((b) => b.kind === 'RoleBinding');
  }

  /**
   * Decides one SubjectAccessReview spec. Throws a `TypeError` for a spec kube-apiserver would
   * refuse (a field of the wrong JSON type, or neither or both kinds of attributes, or no user
   * or group), with kube-apiserver's message.
   */
  evaluate(spec: SubjectAccessReviewSpec): PolicyDecision {
    checkSpec(spec);
    const request = toRequest(spec);
    for (const simple of this.#simple) {
      const applies =
        simple.users.includes('*') ||
        simple.users.includes(request.user) ||
        simple.groups.includes('*') ||
        request.groups.some((g) => simple.groups.includes(g));
      if (applies && ruleAllows(simple.rule, request, true)) {
        return { allowed: true, reason: `allowed by stand-in policy rule #${simple.index}` };
      }
    }
    // Upstream visits ClusterRoleBindings first, then the RoleBindings of the request's
    // namespace; a cluster-scoped request (no namespace) sees ClusterRoleBindings only.
    const bindings = request.namespace
      ? [
          ...this.#clusterBindings,
          ...this.#roleBindings.filter((b) => b.namespace === request.namespace),
        ]
      : this.#clusterBindings;
    for (const binding of bindings) {
      const subject = binding.subjects.find((s) => appliesTo(request, s, binding.namespace));
      if (!subject) continue;
      if (binding.rules.some((rule) => ruleAllows(rule, request, false))) {
        return { allowed: true, reason: `RBAC: allowed by ${describe(binding, subject)}` };
      }
    }
    return { allowed: false };
  }
}

/**
 * Validates and prepares a policy. Throws a `TypeError` naming the offending object when the
 * policy is malformed (missing fields, a binding whose role is not defined, bad YAML).
 */
export function compilePolicy(policy: StandInPolicy = {}): CompiledPolicy {
  return new CompiledPolicy(policy);
}

/** Evaluates one SubjectAccessReview spec against a policy (pure; compiles it if needed). */
export function evaluate(
  policy: StandInPolicy | CompiledPolicy,
  spec: SubjectAccessReviewSpec,
): PolicyDecision {
  const compiled = policy instanceof CompiledPolicy ? policy : compilePolicy(policy);
  return compiled.evaluate(spec);
}

const POLICY_KEYS = ['rules', 'rbac', 'defaults'];

// The validation of the SubjectAccessReview API, so that a direct call refuses what HTTP refuses.
function checkSpec(spec: SubjectAccessReviewSpec): void {
  const body = { spec: spec as unknown };
  const decodeError = reviewDecodeError('SubjectAccessReview', body);
  if (decodeError) throw new TypeError(decodeError);
  const causes = subjectAccessReviewCauses(body);
  if (causes.length > 0) {
    throw new TypeError(invalidMessage('SubjectAccessReview.authorization.k8s.io', causes));
  }
}

function toRequest(spec: SubjectAccessReviewSpec): Request {
  const ra = spec.resourceAttributes;
  const nra = spec.nonResourceAttributes;
  return {
    user: spec.user ?? '',
    groups: spec.groups ?? [],
    resource: ra !== undefined && ra !== null,
    namespace: ra?.namespace ?? '',
    verb: (ra ? ra.verb : nra?.verb) ?? '',
    apiGroup: ra?.group ?? '',
    resourceName: ra?.resource ?? '',
    subresource: ra?.subresource ?? '',
    name: ra?.name ?? '',
    path: nra?.path ?? '',
  };
}

// RuleAllows: resource rules see only resource requests, non-resource rules only the others,
// because the other kind's list is empty in a valid rule and an empty list matches nothing.
function ruleAllows(rule: PolicyRule, request: Request, subresourceShorthand: boolean): boolean {
  if (!rule.verbs.some((v) => v === '*' || v === request.verb)) return false;
  if (!request.resource) {
    return rule.nonResourceURLs.some(
      (url) =>
        url === '*' ||
        url === request.path ||
        (url.endsWith('*') && request.path.startsWith(url.replace(/\*+$/, ''))),
    );
  }
  return (
    rule.apiGroups.some((g) => g === '*' || g === request.apiGroup) &&
    resourceMatches(rule.resources, request, subresourceShorthand) &&
    (rule.resourceNames.length === 0 || rule.resourceNames.includes(request.name))
  );
}

function resourceMatches(resources: string[], request: Request, shorthand: boolean): boolean {
  const sub = request.subresource;
  const combined = sub ? `${request.resourceName}/${sub}` : request.resourceName;
  return resources.some((r) => {
    if (r === '*' || r === combined) return true;
    if (!sub) return false;
    if (r === `*/${sub}`) return true;
    // Not an RBAC feature: only simple rules accept 'resource/*'.
    return shorthand && r === `${request.resourceName}/*`;
  });
}

function appliesTo(request: Request, subject: SubjectObject, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return subject.name === request.user;
    case 'Group':
      return request.groups.includes(subject.name);
    case 'ServiceAccount': {
      // A RoleBinding's service account defaults to the binding's own namespace.
      const namespace = subject.namespace || bindingNamespace;
      if (!namespace) return false;
      return request.user === `system:serviceaccount:${namespace}:${subject.name}`;
    }
  }
}

function describe(binding: ResolvedBinding, subject: SubjectObject): string {
  const name =
    binding.kind === 'RoleBinding' ? `${binding.name}/${binding.namespace}` : binding.name;
  const subjectName =
    subject.kind === 'ServiceAccount'
      ? `${subject.namespace || binding.namespace}/${subject.name}`
      : subject.name;
  return (
    `${binding.kind} ${JSON.stringify(name)} of ${binding.roleRef.kind} ` +
    `${JSON.stringify(binding.roleRef.name)} to ${subject.kind} ${JSON.stringify(subjectName)}`
  );
}

function compileSimpleRule(raw: SimpleRule, index: number): CompiledSimpleRule {
  const where = `policy.rules[${index}]`;
  if (typeof raw !== 'object' || raw === null) throw new TypeError(`${where} must be an object`);
  const users = optionalStrings(raw.users, `${where}.users`);
  const groups = optionalStrings(raw.groups, `${where}.groups`);
  if (users.length === 0 && groups.length === 0) {
    throw new TypeError(`${where} names no users or groups, so it could never apply`);
  }
  const rule: PolicyRule = {
    verbs: requiredStrings(raw.verbs, `${where}.verbs`),
    apiGroups:
      raw.apiGroups === undefined ? [''] : optionalStrings(raw.apiGroups, `${where}.apiGroups`),
    resources: optionalStrings(raw.resources, `${where}.resources`),
    resourceNames: optionalStrings(raw.resourceNames, `${where}.resourceNames`),
    nonResourceURLs: optionalStrings(raw.nonResourceURLs, `${where}.nonResourceURLs`),
  };
  if (rule.resources.length === 0 && rule.nonResourceURLs.length === 0) {
    throw new TypeError(`${where} needs resources or nonResourceURLs`);
  }
  return { index, users, groups, rule };
}

function optionalStrings(value: unknown, where: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new TypeError(`${where} must be a list of strings`);
  }
  return value as string[];
}

function requiredStrings(value: unknown, where: string): string[] {
  const list = optionalStrings(value, where);
  if (list.length === 0) throw new TypeError(`${where} is required (a non-empty list)`);
  return list;
}
