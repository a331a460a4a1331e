/**
 * RBAC objects read the way kube-apiserver would accept them: only `rbac.authorization.k8s.io/v1`,
 * the fields of its schema and no others, and the checks of upstream's RBAC validation (rule
 * field combinations, subject and roleRef API groups, names). Anything a real cluster would
 * refuse is a `TypeError` naming the object and the field, so a test never runs on a policy
 * that silently grants or denies something else than what it says.
 */
import {
  checkFields,
  checkPathSegment,
  DNS_SUBDOMAIN,
  describeObject,
  flatten,
  list,
  object,
  parseYaml,
  readMetadata,
  strings,
} from './json-fields.js';
import type { Json } from './json-fields.js';
import { readAggregationRule } from './label-selector.js';
import type { LabelSelector } from './label-selector.js';
import { didYouMean } from '../option-errors.js';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';
const RBAC_VERSION = `${RBAC_GROUP}/v1`;
const RBAC_KINDS = ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'] as const;

/** A PolicyRule with every list present. */
export interface PolicyRule {
  verbs: string[];
  apiGroups: string[];
  resources: string[];
  resourceNames: string[];
  nonResourceURLs: string[];
}

export interface RoleObject {
  kind: 'Role' | 'ClusterRole';
  name: string;
  namespace: string;
  labels: Record<string, string>;
  rules: PolicyRule[];
  /** The selectors of an aggregated ClusterRole, whose own rules the aggregation replaces. */
  aggregation?: LabelSelector[];
  where: string;
}

export interface SubjectObject {
  kind: 'User' | 'Group' | 'ServiceAccount';
  name: string;
  namespace?: string;
}

export interface BindingObject {
  kind: 'RoleBinding' | 'ClusterRoleBinding';
  name: string;
  namespace: string;
  roleRef: { kind: 'Role' | 'ClusterRole'; name: string };
  subjects: SubjectObject[];
  where: string;
}

// The fields of each RBAC type in rbac.authorization.k8s.io/v1 and meta/v1.
const FIELDS = {
  Role: ['apiVersion', 'kind', 'metadata', 'rules'],
  ClusterRole: ['apiVersion', 'kind', 'metadata', 'rules', 'aggregationRule'],
  RoleBinding: ['apiVersion', 'kind', 'metadata', 'subjects', 'roleRef'],
  ClusterRoleBinding: ['apiVersion', 'kind', 'metadata', 'subjects', 'roleRef'],
  rule: ['verbs', 'apiGroups', 'resources', 'resourceNames', 'nonResourceURLs'],
  roleRef: ['apiGroup', 'kind', 'name'],
  subject: ['kind', 'apiGroup', 'name', 'namespace'],
} as const;

/**
 * Reads RBAC objects (multi-document YAML text, or parsed objects; `List`s are unwrapped).
 * Objects of other API groups are skipped; `source` names the input in error messages.
 */
export function parseRbacObjects(
  input: string | object[],
  source: string,
): { roles: RoleObject[]; bindings: BindingObject[] } {
  const objects = typeof input === 'string' ? parseYaml(input, source) : input;
  if (!Array.isArray(objects)) {
    throw new TypeError(`${source} must be YAML text or an array of RBAC objects`);
  }
  const roles: RoleObject[] = [];
  const bindings: BindingObject[] = [];
  flatten(objects, source).forEach((obj, i) => {
    const where = describeObject(obj, i, source);
    const kind = rbacKind(obj, where);
    if (kind === undefined) return;
    checkFields(obj, FIELDS[kind], where);
    if (kind === 'Role' || kind === 'ClusterRole') roles.push(readRole(obj, kind, where));
    else bindings.push(readBinding(obj, kind, where));
  });
  return { roles, bindings };
}

// The RBAC kind of an object, undefined for objects of other groups (Namespaces,
// ServiceAccounts… often travel in the same file), or an error for what a cluster refuses.
function rbacKind(obj: Json, where: string): (typeof RBAC_KINDS)[number] | undefined {
  const apiVersion = obj['apiVersion'];
  const kind = String(obj['kind']);
  const known = RBAC_KINDS.find((k) => k === kind);
  if (typeof apiVersion === 'string' && apiVersion.startsWith(`${RBAC_GROUP}/`)) {
    if (apiVersion !== RBAC_VERSION) {
      throw new TypeError(
        `${where}: apiVersion ${apiVersion} is not served by Kubernetes (v1beta1 and v1alpha1 ` +
          `were removed in 1.22); use ${RBAC_VERSION}`,
      );
    }
    if (!known) {
      throw new TypeError(
        `${where}: no kind ${JSON.stringify(kind)} in ${RBAC_VERSION}${didYouMean(kind, RBAC_KINDS)}`,
      );
    }
    return known;
  }
  const sameLetters = RBAC_KINDS.find((k) => k.toLowerCase() === kind.toLowerCase());
  if (sameLetters) {
    throw new TypeError(
      `${where}: apiVersion must be ${RBAC_VERSION} for a ${sameLetters}, not ` +
        `${apiVersion === undefined ? 'none' : JSON.stringify(apiVersion)}`,
    );
  }
  return undefined;
}

function readRole(obj: Json, kind: 'Role' | 'ClusterRole', where: string): RoleObject {
  const { name, namespace, labels } = readMetadata(obj, where, kind === 'Role');
  const rules = list(obj['rules'], `${where}: rules`).map((raw, i) =>
    readRule(raw, `${where}: rules[${i}]`, kind === 'Role'),
  );
  const role: RoleObject = { kind, name, namespace, labels, rules, where };
  const aggregation = obj['aggregationRule'];
  if (aggregation !== undefined && aggregation !== null) {
    role.aggregation = readAggregationRule(aggregation, `${where}: aggregationRule`);
  }
  return role;
}

// Upstream's PolicyRule validation, with its messages.
function readRule(raw: unknown, where: string, namespaced: boolean): PolicyRule {
  const obj = object(raw, where);
  checkFields(obj, FIELDS.rule, where);
  const rule: PolicyRule = {
    verbs: strings(obj['verbs'], `${where}.verbs`),
    apiGroups: strings(obj['apiGroups'], `${where}.apiGroups`),
    resources: strings(obj['resources'], `${where}.resources`),
    resourceNames: strings(obj['resourceNames'], `${where}.resourceNames`),
    nonResourceURLs: strings(obj['nonResourceURLs'], `${where}.nonResourceURLs`),
  };
  if (rule.verbs.length === 0) {
    throw new TypeError(`${where}.verbs: Required value: verbs must contain at least one value`);
  }
  if (rule.nonResourceURLs.length > 0) {
    if (namespaced) {
      throw new TypeError(
        `${where}.nonResourceURLs: Invalid value: namespaced rules cannot apply to non-resource URLs`,
      );
    }
    if (rule.apiGroups.length + rule.resources.length + rule.resourceNames.length > 0) {
      throw new TypeError(
        `${where}.nonResourceURLs: Invalid value: rules cannot apply to both regular resources ` +
          `and non-resource URLs`,
      );
    }
    return rule;
  }
  if (rule.apiGroups.length === 0) {
    throw new TypeError(
      `${where}.apiGroups: Required value: resource rules must supply at least one api group`,
    );
  }
  if (rule.resources.length === 0) {
    throw new TypeError(
      `${where}.resources: Required value: resource rules must supply at least one resource`,
    );
  }
  return rule;
}

function readBinding(
  obj: Json,
  kind: 'RoleBinding' | 'ClusterRoleBinding',
  where: string,
): BindingObject {
  const namespaced = kind === 'RoleBinding';
  const { name, namespace } = readMetadata(obj, where, namespaced);
  const roleRef = object(obj['roleRef'], `${where}: roleRef`);
  checkFields(roleRef, FIELDS.roleRef, `${where}: roleRef`);
  // v1 defaults an empty apiGroup to the RBAC group; any other value is refused.
  const refGroup = roleRef['apiGroup'] ?? '';
  if (refGroup !== '' && refGroup !== RBAC_GROUP) {
    throw new TypeError(
      `${where}: roleRef.apiGroup: Unsupported value: ${JSON.stringify(refGroup)}: ` +
        `supported values: "${RBAC_GROUP}"`,
    );
  }
  const refKind = roleRef['kind'];
  const allowed = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (refKind !== 'ClusterRole' && (refKind !== 'Role' || !namespaced)) {
    throw new TypeError(
      `${where}: roleRef.kind: Unsupported value: ${JSON.stringify(refKind ?? '')}: ` +
        `supported values: ${allowed.map((k) => JSON.stringify(k)).join(', ')}`,
    );
  }
  const refName = roleRef['name'];
  if (typeof refName !== 'string' || refName === '') {
    throw new TypeError(`${where}: roleRef.name: Required value`);
  }
  checkPathSegment(refName, `${where}: roleRef.name`);
  const subjects = list(obj['subjects'], `${where}: subjects`).map((raw, i) =>
    readSubject(raw, `${where}: subjects[${i}]`, namespaced),
  );
  return { kind, name, namespace, roleRef: { kind: refKind, name: refName }, subjects, where };
}

function readSubject(raw: unknown, where: string, namespaced: boolean): SubjectObject {
  const obj = object(raw, where);
  checkFields(obj, FIELDS.subject, where);
  const name = obj['name'];
  if (typeof name !== 'string' || name === '') throw new TypeError(`${where}.name: Required value`);
  const kind = obj['kind'];
  const apiGroup = obj['apiGroup'] ?? '';
  const namespace = obj['namespace'];
  if (namespace !== undefined && namespace !== null && typeof namespace !== 'string') {
    throw new TypeError(`${where}.namespace must be a string`);
  }
  const unsupportedGroup = (supported: string): TypeError =>
    new TypeError(
      `${where}.apiGroup: Unsupported value: ${JSON.stringify(apiGroup)}: supported values: ` +
        `${JSON.stringify(supported)}`,
    );
  switch (kind) {
    case 'ServiceAccount':
      if (!DNS_SUBDOMAIN.test(name) || name.length > 253) {
        throw new TypeError(
          `${where}.name: Invalid value: ${JSON.stringify(name)}: a lowercase RFC 1123 subdomain ` +
            `must consist of lower case alphanumeric characters, '-' or '.', and must start and ` +
            `end with an alphanumeric character`,
        );
      }
      if (apiGroup !== '') throw unsupportedGroup('');
      if (!namespaced && !namespace) throw new TypeError(`${where}.namespace: Required value`);
      return namespace ? { kind, name, namespace } : { kind, name };
    case 'User':
    case 'Group':
      // v1 defaults an empty apiGroup of a User or Group to the RBAC group.
      if (apiGroup !== '' && apiGroup !== RBAC_GROUP) throw unsupportedGroup(RBAC_GROUP);
      return { kind, name };
    default:
      throw new TypeError(
        `${where}.kind: Unsupported value: ${JSON.stringify(kind ?? '')}: supported values: ` +
          `"ServiceAccount", "User", "Group"${didYouMean(String(kind), ['ServiceAccount', 'User', 'Group'])}`,
      );
  }
}
