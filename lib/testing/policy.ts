/**
 * The stand-in API server's authorizer: SubjectAccessReview specs evaluated against simple
 * test rules and/or real RBAC objects, with the rule-matching semantics of kube-apiserver's RBAC
 * authorizer (plugin/pkg/auth/authorizer/rbac and the rbac/v1 helpers).
 */
import { parseAllDocuments } from 'yaml';
import type {
  NonResourceAttributes,
  ResourceAttributes,
  SubjectAccessReviewSpec,
} from '../apiserver/reviews.js';

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
   * RoleBinding; also inside a `List`), as multi-document YAML text or already parsed.
   * Other kinds are ignored.
   */
  rbac?: string | object[];
}

/** An authorization decision. RBAC never denies outright, so there is no `denied` here. */
export interface PolicyDecision {
  allowed: boolean;
  reason?: string;
}

interface Rule {
  verbs: string[];
  apiGroups: string[];
  resources: string[];
  resourceNames: string[];
  nonResourceURLs: string[];
}

interface Subject {
  kind: 'User' | 'Group' | 'ServiceAccount';
  name: string;
  namespace?: string;
}

interface Binding {
  kind: 'ClusterRoleBinding' | 'RoleBinding';
  name: string;
  namespace: string;
  roleRef: { kind: 'Role' | 'ClusterRole'; name: string };
  subjects: Subject[];
  rules: Rule[];
}

interface CompiledSimpleRule {
  index: number;
  users: string[];
  groups: string[];
  rule: Rule;
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
  readonly #clusterBindings: Binding[];
  readonly #roleBindings: Binding[];

  /** Validates `policy`; throws a `TypeError` naming the offending part when it is malformed. */
  constructor(policy: StandInPolicy = {}) {
    if (typeof policy !== 'object' || policy === null) {
      throw new TypeError('policy must be an object { rules?, rbac? }');
    }
    if (policy.rules !== undefined && !Array.isArray(policy.rules)) {
      throw new TypeError('policy.rules must be a list');
    }
    this.#simple = (policy.rules ?? []).map(compileSimpleRule);
    const bindings = policy.rbac === undefined ? [] : compileRbac(policy.rbac);
    this.#clusterBindings = bindings.filter((b) => b.kind === 'ClusterRoleBinding');
    this.#roleBindings = bindings.filter((b) => b.kind === 'RoleBinding');
  }

  /** Decides one SubjectAccessReview spec. */
  evaluate(spec: SubjectAccessReviewSpec): PolicyDecision {
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
function ruleAllows(rule: Rule, request: Request, subresourceShorthand: boolean): boolean {
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

function appliesTo(request: Request, subject: Subject, bindingNamespace: string): boolean {
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

function describe(binding: Binding, subject: Subject): string {
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
  const rule: Rule = {
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

type Json = Record<string, unknown>;

interface RoleDef {
  kind: 'Role' | 'ClusterRole';
  name: string;
  namespace: string;
  rules: Rule[];
}

function compileRbac(rbac: string | object[]): Binding[] {
  const objects = typeof rbac === 'string' ? parseYaml(rbac) : rbac;
  if (!Array.isArray(objects)) {
    throw new TypeError('policy.rbac must be YAML text or an array of RBAC objects');
  }
  const roles = new Map<string, RoleDef>();
  const rawBindings: { obj: Json; where: string }[] = [];
  const flat = flatten(objects);
  flat.forEach((obj, i) => {
    const where = describeObject(obj, i);
    switch (obj['kind']) {
      case 'ClusterRole':
      case 'Role': {
        const role = compileRole(obj, where);
        const key = roleKey(role.kind, role.namespace, role.name);
        if (roles.has(key)) throw new TypeError(`${where}: defined twice`);
        roles.set(key, role);
        break;
      }
      case 'ClusterRoleBinding':
      case 'RoleBinding':
        rawBindings.push({ obj, where });
        break;
      default:
      // Other kinds (Namespaces, ServiceAccounts…) often travel in the same file.
    }
  });
  const seen = new Set<string>();
  return rawBindings.map(({ obj, where }) => {
    const binding = compileBinding(obj, where, roles);
    const key = `${binding.kind}/${binding.namespace}/${binding.name}`;
    if (seen.has(key)) throw new TypeError(`${where}: defined twice`);
    seen.add(key);
    return binding;
  });
}

function parseYaml(text: string): unknown[] {
  const out: unknown[] = [];
  for (const doc of parseAllDocuments(text)) {
    const error = doc.errors[0];
    if (error) throw new TypeError(`policy.rbac is not valid YAML: ${error.message}`);
    const value: unknown = doc.toJS();
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

function flatten(objects: unknown[]): Json[] {
  const out: Json[] = [];
  objects.forEach((obj, i) => {
    if (!isObject(obj) || typeof obj['kind'] !== 'string') {
      throw new TypeError(`policy.rbac[${i}] is not a Kubernetes object (no kind)`);
    }
    if (obj['kind'] === 'List' || obj['kind'].endsWith('List')) {
      const items = obj['items'];
      if (!Array.isArray(items))
        throw new TypeError(`policy.rbac[${i}] (${obj['kind']}) has no items`);
      out.push(...flatten(items));
    } else {
      out.push(obj);
    }
  });
  return out;
}

function describeObject(obj: Json, index: number): string {
  const metadata = isObject(obj['metadata']) ? obj['metadata'] : {};
  const name = typeof metadata['name'] === 'string' ? metadata['name'] : '?';
  const ns = typeof metadata['namespace'] === 'string' ? `${metadata['namespace']}/` : '';
  return `policy.rbac object #${index} (${String(obj['kind'])} ${ns}${name})`;
}

function metadataOf(
  obj: Json,
  where: string,
  namespaced: boolean,
): { name: string; namespace: string } {
  const apiVersion = obj['apiVersion'];
  if (typeof apiVersion !== 'string' || !apiVersion.startsWith('rbac.authorization.k8s.io/')) {
    throw new TypeError(`${where}: apiVersion must be rbac.authorization.k8s.io/v1`);
  }
  const metadata = obj['metadata'];
  if (!isObject(metadata) || typeof metadata['name'] !== 'string' || !metadata['name']) {
    throw new TypeError(`${where}: metadata.name is required`);
  }
  const namespace = metadata['namespace'];
  if (namespaced && (typeof namespace !== 'string' || !namespace)) {
    // kubectl would fill in the current namespace; there is none here, so say so.
    throw new TypeError(`${where}: metadata.namespace is required`);
  }
  return { name: metadata['name'], namespace: namespaced ? (namespace as string) : '' };
}

function compileRole(obj: Json, where: string): RoleDef {
  const kind = obj['kind'] as 'Role' | 'ClusterRole';
  const { name, namespace } = metadataOf(obj, where, kind === 'Role');
  const rawRules = obj['rules'] ?? [];
  if (!Array.isArray(rawRules)) throw new TypeError(`${where}: rules must be a list`);
  const rules = rawRules.map((raw: unknown, i) =>
    compileRbacRule(raw, `${where} rules[${i}]`, kind),
  );
  return { kind, name, namespace, rules };
}

// The checks kube-apiserver's rbac validation applies to a PolicyRule.
function compileRbacRule(raw: unknown, where: string, kind: 'Role' | 'ClusterRole'): Rule {
  if (!isObject(raw)) throw new TypeError(`${where} must be an object`);
  const rule: Rule = {
    verbs: requiredStrings(raw['verbs'], `${where}.verbs`),
    apiGroups: optionalStrings(raw['apiGroups'], `${where}.apiGroups`),
    resources: optionalStrings(raw['resources'], `${where}.resources`),
    resourceNames: optionalStrings(raw['resourceNames'], `${where}.resourceNames`),
    nonResourceURLs: optionalStrings(raw['nonResourceURLs'], `${where}.nonResourceURLs`),
  };
  if (rule.nonResourceURLs.length > 0) {
    if (kind === 'Role') {
      throw new TypeError(`${where}: namespaced rules cannot apply to non-resource URLs`);
    }
    if (rule.apiGroups.length > 0 || rule.resources.length > 0) {
      throw new TypeError(`${where}: rules cannot apply to both resources and non-resource URLs`);
    }
    return rule;
  }
  if (rule.apiGroups.length === 0) {
    throw new TypeError(`${where}.apiGroups: resource rules must supply at least one api group`);
  }
  if (rule.resources.length === 0) {
    throw new TypeError(`${where}.resources: resource rules must supply at least one resource`);
  }
  return rule;
}

function compileBinding(obj: Json, where: string, roles: Map<string, RoleDef>): Binding {
  const kind = obj['kind'] as 'ClusterRoleBinding' | 'RoleBinding';
  const { name, namespace } = metadataOf(obj, where, kind === 'RoleBinding');
  const roleRef = obj['roleRef'];
  if (!isObject(roleRef) || typeof roleRef['name'] !== 'string' || !roleRef['name']) {
    throw new TypeError(`${where}: roleRef.name is required`);
  }
  const refKind = roleRef['kind'];
  if (refKind !== 'ClusterRole' && (refKind !== 'Role' || kind !== 'RoleBinding')) {
    throw new TypeError(
      `${where}: roleRef.kind must be ClusterRole${kind === 'RoleBinding' ? ' or Role' : ''}`,
    );
  }
  const role = roles.get(roleKey(refKind, namespace, roleRef['name']));
  if (!role) {
    const target =
      refKind === 'Role'
        ? `Role ${namespace}/${roleRef['name']}`
        : `ClusterRole ${roleRef['name']}`;
    throw new TypeError(`${where}: roleRef names ${target}, which the policy does not define`);
  }
  const rawSubjects = obj['subjects'] ?? [];
  if (!Array.isArray(rawSubjects)) throw new TypeError(`${where}: subjects must be a list`);
  const subjects = rawSubjects.map((raw: unknown, i): Subject => {
    const at = `${where} subjects[${i}]`;
    if (!isObject(raw) || typeof raw['name'] !== 'string' || !raw['name']) {
      throw new TypeError(`${at}: name is required`);
    }
    const subjectKind = raw['kind'];
    if (subjectKind !== 'User' && subjectKind !== 'Group' && subjectKind !== 'ServiceAccount') {
      throw new TypeError(`${at}: kind must be User, Group or ServiceAccount`);
    }
    const ns = raw['namespace'];
    if (
      subjectKind === 'ServiceAccount' &&
      kind === 'ClusterRoleBinding' &&
      (typeof ns !== 'string' || !ns)
    ) {
      throw new TypeError(
        `${at}: a ServiceAccount subject of a ClusterRoleBinding needs a namespace`,
      );
    }
    const subject: Subject = { kind: subjectKind, name: raw['name'] };
    if (typeof ns === 'string' && ns) subject.namespace = ns;
    return subject;
  });
  return {
    kind,
    name,
    namespace,
    roleRef: { kind: refKind, name: roleRef['name'] },
    subjects,
    rules: role.rules,
  };
}

function roleKey(kind: 'Role' | 'ClusterRole', namespace: string, name: string): string {
  return kind === 'Role' ? `Role/${namespace}/${name}` : `ClusterRole/${name}`;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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
