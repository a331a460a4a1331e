import { describe, expect, it } from '@jest/globals';
import { clusterRoleFor, RequestListError } from '../../lib/cli/cluster-role.js';
import { explainRequest, type ExplainResult } from '../../lib/cli/explain.js';
import { evaluate } from '../../lib/testing/policy.js';

function accepted(result: ExplainResult): Extract<ExplainResult, { refused: false }> {
  if (result.refused) throw new Error(`unexpectedly refused: ${result.reason}`);
  return result;
}

describe('clusterRoleFor', () => {
  const LINES = [
    '# what the monitoring agent calls',
    'GET /stats/summary',
    'GET /metrics/cadvisor',
    '',
    'HEAD /healthz',
    'GET /pods',
    'OPTIONS /pods   # CORS preflight',
    'POST /exec/ns/p/c',
    'GET /metrics',
    'DELETE /stats/x',
  ];

  it('merges lines per subresource, groups by verb set and sorts', () => {
    const { role, yaml, refused } = clusterRoleFor(LINES, { name: 'monitoring' });
    expect(refused).toEqual([]);
    expect(role).toEqual({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'monitoring' },
      rules: [
        { apiGroups: [''], resources: ['nodes/healthz', 'nodes/metrics'], verbs: ['get'] },
        { apiGroups: [''], resources: ['nodes/pods'], verbs: ['*'] },
        { apiGroups: [''], resources: ['nodes/proxy'], verbs: ['create'] },
        { apiGroups: [''], resources: ['nodes/stats'], verbs: ['delete', 'get'] },
      ],
    });
    expect(yaml).toMatch(/^apiVersion: rbac\.authorization\.k8s\.io\/v1\nkind: ClusterRole\n/);
    // Stable: the order of the input lines does not matter.
    expect(clusterRoleFor([...LINES].reverse(), { name: 'monitoring' }).yaml).toBe(yaml);
  });

  it('prints a role that RBAC evaluates as allowing every line, and nothing else asked', () => {
    const { role } = clusterRoleFor(LINES);
    const binding = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'alice-kubelet-api' },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: 'kubelet-api-access',
      },
      subjects: [{ kind: 'User', name: 'alice' }],
    };
    const policy = { rbac: [role, binding] };
    const specsOf = (method: string, path: string) =>
      accepted(explainRequest(method, path, { nodeName: 'node-a', user: 'alice' })).reviews.map(
        (review) => review.spec,
      );
    for (const line of LINES) {
      const [method, path] = line.replace(/#.*/, '').trim().split(/\s+/);
      if (!method || !path) continue;
      const [first] = specsOf(method, path);
      expect([line, evaluate(policy, first!).allowed]).toEqual([line, true]);
    }
    // Minimal: no proxy fallback for GET, and nothing for paths that were not listed.
    expect(evaluate(policy, specsOf('GET', '/pods')[1]!).allowed).toBe(false);
    expect(evaluate(policy, specsOf('GET', '/logs/x')[0]!).allowed).toBe(false);
    expect(evaluate(policy, specsOf('POST', '/stats/x')[0]!).allowed).toBe(false);
  });

  it('reports paths refused with 400 with their line numbers', () => {
    const { role, refused } = clusterRoleFor(['GET /stats/x', 'GET /stats/../exec/a/b/c']);
    expect(refused).toEqual([{ line: 2, reason: expect.stringContaining('refused with 400') }]);
    expect(role).toMatchObject({ rules: [{ resources: ['nodes/stats'] }] });
  });

  it.each([
    [['GET /a', 'GET'], 2],
    [['', 'GET /a extra'], 2],
    [['G(T /a'], 1],
  ])('throws RequestListError for a line that is not METHOD PATH: %j', (lines, line) => {
    expect(() => clusterRoleFor(lines)).toThrow(RequestListError);
    expect(() => clusterRoleFor(lines)).toThrow(`line ${line}:`);
  });

  it('follows fine-grained off', () => {
    const { role } = clusterRoleFor(['GET /pods', 'GET /healthz'], { fineGrained: false });
    expect(role).toMatchObject({ rules: [{ resources: ['nodes/proxy'], verbs: ['get'] }] });
  });
});
