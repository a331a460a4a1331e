/**
 * From RBAC objects to what the authorizer walks: each binding with the rules of the role it
 * names, after ClusterRole aggregation, with Kubernetes' bootstrap roles underneath when asked.
 */
import { aggregateClusterRoles } from './aggregation.js';
import { bootstrapPolicyObjects } from './bootstrap-policy.js';
import { parseRbacObjects } from './rbac-objects.js';
import type { BindingObject, PolicyRule, RoleObject, SubjectObject } from './rbac-objects.js';

/** A binding ready for evaluation. */
export interface ResolvedBinding {
  kind: 'ClusterRoleBinding' | 'RoleBinding';
  name: string;
  namespace: string;
  roleRef: { kind: 'Role' | 'ClusterRole'; name: string };
  subjects: SubjectObject[];
  rules: PolicyRule[];
}

/**
 * Reads `rbac` (and the bootstrap objects first when `defaults`), aggregates ClusterRoles and
 * resolves every roleRef. An object of the policy replaces a bootstrap object of the same kind
 * and name, as applying it to a cluster would; two objects of the policy with one name are an
 * error, and so is a binding to a role the policy does not define.
 */
export function resolveBindings(
  rbac: string | object[] | undefined,
  defaults: boolean,
): ResolvedBinding[] {
  const own =
    rbac === undefined ? { roles: [], bindings: [] } : parseRbacObjects(rbac, 'policy.rbac');
  const roles = new Map<string, RoleObject>();
  const bindings = new Map<string, BindingObject>();
  if (defaults) {
    const builtIn = parseRbacObjects(bootstrapPolicyObjects(), 'policy.defaults');
    for (const role of builtIn.roles)
      roles.set(roleKey(role.kind, role.namespace, role.name), role);
    for (const binding of builtIn.bindings) bindings.set(bindingKey(binding), binding);
  }
  const seen = new Set<string>();
  const once = (key: string, where: string): void => {
    if (seen.has(key)) throw new TypeError(`${where}: defined twice`);
    seen.add(key);
  };
  for (const role of own.roles) {
    const key = roleKey(role.kind, role.namespace, role.name);
    once(key, role.where);
    roles.set(key, role);
  }
  for (const binding of own.bindings) {
    once(bindingKey(binding), binding.where);
    bindings.set(bindingKey(binding), binding);
  }

  const clusterRoles = [...roles.values()].filter((r) => r.kind === 'ClusterRole');
  const clusterRules = aggregateClusterRoles(clusterRoles);
  const rulesOf = (kind: 'Role' | 'ClusterRole', namespace: string, name: string) =>
    kind === 'ClusterRole'
      ? clusterRules.get(name)
      : roles.get(roleKey('Role', namespace, name))?.rules;

  return [...bindings.values()].map((binding) => {
    const { kind, name } = binding.roleRef;
    const rules = rulesOf(kind, binding.namespace, name);
    if (!rules) {
      const target = kind === 'Role' ? `Role ${binding.namespace}/${name}` : `ClusterRole ${name}`;
      const hint =
        !defaults && BOOTSTRAP_ROLES.has(roleKey(kind, binding.namespace, name))
          ? ' (it is a Kubernetes default role: set policy.defaults to true to load it)'
          : '';
      throw new TypeError(
        `${binding.where}: roleRef names ${target}, which the policy does not define${hint}`,
      );
    }
    return {
      kind: binding.kind,
      name: binding.name,
      namespace: binding.namespace,
      roleRef: binding.roleRef,
      subjects: binding.subjects,
      rules,
    };
  });
}

const BOOTSTRAP_ROLES = new Set(
  parseRbacObjects(bootstrapPolicyObjects(), 'policy.defaults').roles.map((r) =>
    roleKey(r.kind, r.namespace, r.name),
  ),
);

function roleKey(kind: 'Role' | 'ClusterRole', namespace: string, name: string): string {
  return kind === 'Role' ? `Role/${namespace}/${name}` : `ClusterRole/${name}`;
}

function bindingKey(binding: BindingObject): string {
  return `${binding.kind}/${binding.namespace}/${binding.name}`;
}
