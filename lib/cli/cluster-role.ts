/** `explain --rbac`: the smallest ClusterRole that lets a list of requests in. */
import { stringify } from 'yaml';
import { escapeControlCharacters as printable, quoted } from '../control-characters.js';
import { explainRequest, type PolicyRule } from './explain.js';
import { DEFAULT_FINE_GRAINED } from '../defaults.js';

/** The ClusterRole name `clusterRoleFor` uses when none is given. */
export const DEFAULT_ROLE_NAME = 'kubelet-api-access';

/** An RBAC ClusterRole, as `clusterRoleFor` prints it. */
export interface ClusterRole {
  apiVersion: 'rbac.authorization.k8s.io/v1';
  kind: 'ClusterRole';
  metadata: { name: string };
  rules: PolicyRule[];
}

/** One `METHOD PATH` line of an `--rbac` file that the middleware would answer with 400. */
export interface RefusedLine {
  /** 1-based line number. */
  line: number;
  reason: string;
}

/** A line of an `--rbac` file that is not `METHOD PATH`. */
export class RequestListError extends Error {
  constructor(
    readonly line: number,
    detail: string,
  ) {
    super(`line ${line}: ${detail}`);
    this.name = 'RequestListError';
  }
}

// An HTTP method is an RFC 9110 token.
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * The smallest ClusterRole that lets every `METHOD PATH` line in: one `nodes/<subresource>` per
 * line (its first attribute: the narrowest grant), merged per subresource, then grouped into one
 * rule per verb set. Rules, resources and verbs are sorted so the output is stable. Blank lines
 * and `#` comments are skipped; paths refused with 400 are left out and listed in `refused`.
 *
 * @throws RequestListError for a line that is not `METHOD PATH`.
 */
export function clusterRoleFor(
  lines: readonly string[],
  options: { name?: string; fineGrained?: boolean } = {},
): { role: ClusterRole; yaml: string; refused: RefusedLine[] } {
  const verbsBySubresource = new Map<string, Set<string>>();
  const refused: RefusedLine[] = [];
  lines.forEach((text, index) => {
    const line = index + 1;
    const content = text.replace(/#.*/, '').trim();
    if (content === '') return;
    const fields = content.split(/\s+/);
    const [method, url] = fields;
    if (fields.length !== 2 || method === undefined || url === undefined) {
      throw new RequestListError(line, `expected "METHOD PATH", got ${quoted(text)}`);
    }
    if (!METHOD.test(method)) throw new RequestListError(line, `bad HTTP method ${quoted(method)}`);
    // The node name does not appear in the rule, so any placeholder does.
    const result = explainRequest(method, url, {
      nodeName: 'node',
      fineGrained: options.fineGrained ?? DEFAULT_FINE_GRAINED,
    });
    if (result.refused) {
      refused.push({
        line,
        reason: `${method} ${printable(url)} is refused with 400: ${result.reason}`,
      });
      return;
    }
    const [resource] = result.rule.resources as [string];
    const verbs = verbsBySubresource.get(resource) ?? new Set<string>();
    for (const verb of result.rule.verbs) verbs.add(verb);
    verbsBySubresource.set(resource, verbs);
  });

  const resourcesByVerbs = new Map<string, string[]>();
  for (const [resource, verbSet] of verbsBySubresource) {
    // '*' already covers every other verb.
    const verbs = verbSet.has('*') ? ['*'] : [...verbSet].sort();
    const key = verbs.join(',');
    resourcesByVerbs.set(key, [...(resourcesByVerbs.get(key) ?? []), resource]);
  }
  const rules: PolicyRule[] = [...resourcesByVerbs]
    .map(([key, resources]) => ({
      apiGroups: [''],
      resources: resources.sort(),
      verbs: key.split(','),
    }))
    .sort((a, b) => compare(a.resources[0] ?? '', b.resources[0] ?? ''));
  const role: ClusterRole = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: options.name ?? DEFAULT_ROLE_NAME },
    rules,
  };
  return { role, yaml: stringify(role), refused };
}

// Code-unit order, independent of the locale.
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
