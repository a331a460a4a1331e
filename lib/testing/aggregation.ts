/**
 * ClusterRole aggregation as kube-controller-manager's clusterrole-aggregation controller does
 * it: an aggregated role's rules become the union of the rules of every other ClusterRole its
 * selectors match (its own rules are dropped), and aggregated roles feed one another (`view`
 * into `edit` into `admin`).
 */
import type { LabelSelector } from './label-selector.js';
import { matchesSelector } from './label-selector.js';
import type { PolicyRule } from './rbac-objects.js';

/** The parts of a ClusterRole aggregation reads. */
export interface AggregatableRole {
  name: string;
  labels: Record<string, string>;
  rules: PolicyRule[];
  aggregation?: LabelSelector[];
}

/**
 * The rules each ClusterRole grants once the controller has settled: own rules for plain roles,
 * the aggregated union for the others. The controller reaches this state by repeated passes;
 * here the passes run until nothing changes. Starting aggregated roles from no rules means a
 * cycle of aggregated roles selecting only each other grants nothing, whatever rules they were
 * written with.
 */
export function aggregateClusterRoles(
  roles: readonly AggregatableRole[],
): Map<string, PolicyRule[]> {
  const byName = [...roles].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const effective = new Map<string, PolicyRule[]>();
  for (const role of byName) effective.set(role.name, role.aggregation ? [] : role.rules);
  const aggregated = byName.filter((r) => r.aggregation);
  // Each pass settles at least one more level of aggregated roles feeding aggregated roles.
  for (let pass = 0; pass <= aggregated.length; pass++) {
    let changed = false;
    for (const role of aggregated) {
      const rules: PolicyRule[] = [];
      for (const selector of role.aggregation ?? []) {
        for (const source of byName) {
          if (source.name === role.name || !matchesSelector(source.labels, selector)) continue;
          for (const rule of effective.get(source.name) ?? []) {
            if (!rules.some((r) => sameRule(r, rule))) rules.push(rule);
          }
        }
      }
      if (rules.length !== (effective.get(role.name) ?? []).length) changed = true;
      effective.set(role.name, rules);
    }
    if (!changed) break;
  }
  return effective;
}

// Rules are the same when every list is, in order (the controller compares them deeply).
function sameRule(a: PolicyRule, b: PolicyRule): boolean {
  const keys = ['verbs', 'apiGroups', 'resources', 'resourceNames', 'nonResourceURLs'] as const;
  return keys.every((k) => a[k].length === b[k].length && a[k].every((v, i) => v === b[k][i]));
}
