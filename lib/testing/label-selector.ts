/**
 * The label selectors of a ClusterRole's `aggregationRule`: read with the checks upstream's
 * validation applies, and matched against a role's labels as metav1.LabelSelectorAsSelector does.
 */
import { checkFields, list, object, stringMap, strings } from './json-fields.js';

export interface LabelRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values: string[];
}

export interface LabelSelector {
  matchLabels: Record<string, string>;
  matchExpressions: LabelRequirement[];
}

/**
 * Whether `labels` satisfy `selector`: every matchLabels pair and every requirement. An empty
 * selector matches every role.
 */
export function matchesSelector(labels: Record<string, string>, selector: LabelSelector): boolean {
  const has = (key: string): boolean => Object.hasOwn(labels, key);
  return (
    Object.entries(selector.matchLabels).every(([k, v]) => has(k) && labels[k] === v) &&
    selector.matchExpressions.every((req) => {
      switch (req.operator) {
        case 'In':
          return has(req.key) && req.values.includes(labels[req.key] as string);
        case 'NotIn':
          return !has(req.key) || !req.values.includes(labels[req.key] as string);
        case 'Exists':
          return has(req.key);
        case 'DoesNotExist':
          return !has(req.key);
      }
    })
  );
}

/** Reads an `aggregationRule`: one selector at least, each with valid operators. */
export function readAggregationRule(raw: unknown, where: string): LabelSelector[] {
  const obj = object(raw, where);
  checkFields(obj, ['clusterRoleSelectors'], where);
  const selectors = list(obj['clusterRoleSelectors'], `${where}.clusterRoleSelectors`);
  if (selectors.length === 0) {
    throw new TypeError(
      `${where}.clusterRoleSelectors: Required value: at least one clusterRoleSelector required ` +
        `if aggregationRule is non-nil`,
    );
  }
  return selectors.map((s, i) => readSelector(s, `${where}.clusterRoleSelectors[${i}]`));
}

function readSelector(raw: unknown, where: string): LabelSelector {
  const obj = object(raw, where);
  checkFields(obj, ['matchLabels', 'matchExpressions'], where);
  const matchLabels = stringMap(obj['matchLabels'], `${where}.matchLabels`);
  const matchExpressions = list(obj['matchExpressions'], `${where}.matchExpressions`).map(
    (r, i): LabelRequirement => {
      const at = `${where}.matchExpressions[${i}]`;
      const req = object(r, at);
      checkFields(req, ['key', 'operator', 'values'], at);
      const key = req['key'];
      if (typeof key !== 'string' || key === '') throw new TypeError(`${at}.key: Required value`);
      const operator = req['operator'];
      const values = strings(req['values'], `${at}.values`);
      if (operator === 'In' || operator === 'NotIn') {
        if (values.length === 0) {
          throw new TypeError(
            `${at}.values: Required value: must be specified when \`operator\` is 'In' or 'NotIn'`,
          );
        }
      } else if (operator === 'Exists' || operator === 'DoesNotExist') {
        if (values.length > 0) {
          throw new TypeError(
            `${at}.values: Forbidden: may not be specified when \`operator\` is 'Exists' or 'DoesNotExist'`,
          );
        }
      } else {
        throw new TypeError(
          `${at}.operator: Invalid value: ${JSON.stringify(operator)}: not a valid selector operator`,
        );
      }
      return { key, operator, values };
    },
  );
  return { matchLabels, matchExpressions };
}
