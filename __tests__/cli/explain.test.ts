import { describe, expect, it } from '@jest/globals';
import {
  clusterRoleFor,
  explainRequest,
  explanationReport,
  formatExplanation,
  RequestListError,
  type ExplainResult,
} from '../../lib/cli/explain.js';
import { evaluate } from '../../lib/testing/policy.js';

function accepted(result: ExplainResult): Extract<ExplainResult, { refused: false }> {
  if (result.refused) throw new Error(`unexpectedly refused: ${result.reason}`);
  return result;
}

describe('explainRequest', () => {
  it.each([
    // method, path, fineGrained, subresources asked, verb, minimal rule resource, rule verb
    ['GET', '/stats/summary', true, ['stats'], 'get', 'nodes/stats', 'get'],
    ['HEAD', '/healthz', true, ['healthz', 'proxy'], 'get', 'nodes/healthz', 'get'],
    ['OPTIONS', '/pods', true, ['pods', 'proxy'], '', 'nodes/pods', '*'],
    ['POST', '/exec/ns/p/c', true, ['proxy'], 'create', 'nodes/proxy', 'create'],
    // Matching is case-sensitive on the decoded path.
    ['GET', '/statsfoo', true, ['proxy'], 'get', 'nodes/proxy', 'get'],
    ['GET', '/logs/%73yslog?tail=1', true, ['log'], 'get', 'nodes/log', 'get'],
    ['GET', '/pods', false, ['proxy'], 'get', 'nodes/proxy', 'get'],
    ['GET', '/healthz', false, ['proxy'], 'get', 'nodes/proxy', 'get'],
    ['DELETE', '/flagz', false, ['configz'], 'delete', 'nodes/configz', 'delete'],
  ])(
    '%s %s (fine-grained %s) asks %j with verb %j; rule %s %s',
    (method, path, fineGrained, subresources, verb, resource, ruleVerb) => {
      const result = accepted(explainRequest(method, path, { nodeName: 'node-a', fineGrained }));
      expect(result.attributes.map((a) => a.subresource)).toEqual(subresources);
      expect(result.attributes.every((a) => a.verb === verb && a.name === 'node-a')).toBe(true);
      expect(result.rule).toEqual({ apiGroups: [''], resources: [resource], verbs: [ruleVerb] });
      expect(result.proxyFallback).toBe(subresources.length > 1);
    },
  );

  it.each([
    ['/stats/../exec/ns/p/c', '".." segment'],
    ['/stats/%2e%2e/exec', '".." segment'],
    ['/stats%2Fsummary', 'encoded "/"'],
    ['/stats/%zz', 'malformed percent escape'],
    ['/stats/%00', 'control character'],
    ['stats', 'does not start with "/"'],
    ['http://node-a/logs/x/../../stats/summary', '".." segment'],
    ['/stats\\..\\exec', '"\\"'],
    ['/Stats/summary', 'ignore case'],
    ['/metrics.json', 'ends a mount path at "."'],
    ['/%73tats/summary', 'still encoded'],
  ])('refuses %s with 400 (%s)', (path, reason) => {
    const result = explainRequest('GET', path, { nodeName: 'node-a' });
    expect(result).toMatchObject({ refused: true, url: path });
    expect(result.refused && result.reason).toContain(reason);
    expect(formatExplanation(result)).toContain('400 Bad Request');
  });

  it('builds the SubjectAccessReview exactly as the middleware sends it', () => {
    const result = accepted(
      explainRequest('GET', '/pods', {
        nodeName: 'node-a',
        user: 'alice',
        groups: ['ops'],
        uid: '7',
      }),
    );
    expect(JSON.stringify(result.reviews[0])).toBe(
      '{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":' +
        '{"resourceAttributes":{"verb":"get","version":"v1","resource":"nodes","subresource":"pods","name":"node-a"},' +
        '"user":"alice","groups":["ops","system:authenticated"],"uid":"7"}}',
    );
  });

  it('gives system:anonymous only system:unauthenticated; an unmapped method sends no verb', () => {
    const result = accepted(
      explainRequest('TRACE', '/metrics', { nodeName: 'n', user: 'system:anonymous' }),
    );
    expect(result.reviews[0]?.spec).toEqual({
      resourceAttributes: { version: 'v1', resource: 'nodes', subresource: 'metrics', name: 'n' },
      user: 'system:anonymous',
      groups: ['system:unauthenticated'],
    });
  });

  it('formats the explanation: example user, empty verb, fallback note, YAML rule', () => {
    const text = formatExplanation(explainRequest('OPTIONS', '/pods', { nodeName: 'node-a' }));
    expect(text).toContain('User: example-user (an example: pass --user NAME)');
    expect(text).toContain('1. verb (empty verb: only "*" rules match), resource nodes');
    expect(text).toContain('the first Allow lets the request in');
    expect(text).toContain(
      '- apiGroups:\n    - ""\n  resources:\n    - nodes/pods\n  verbs:\n    - "*"',
    );
    expect(text).toContain('a "nodes/proxy" grant with verb * would also allow it');
    expect(formatExplanation(explainRequest('GET', '/stats', { nodeName: 'n' }))).not.toContain(
      'Note:',
    );
  });

  it('reports the same as data: the notes the text prints, one sentence each', () => {
    const fallback = explanationReport(explainRequest('OPTIONS', '/pods', { nodeName: 'node-a' }));
    expect(fallback.notes).toEqual([
      'a "nodes/proxy" grant with verb * would also allow it (the fallback), but nodes/proxy is ' +
        'broad: it also allows exec, attach and run in every pod of the node.',
    ]);
    const proxy = explanationReport(explainRequest('POST', '/exec/ns/p/c', { nodeName: 'n' }));
    expect(proxy).toMatchObject({
      minimalRule: { resources: ['nodes/proxy'], verbs: ['create'] },
      proxyFallback: false,
      notes: [expect.stringMatching(/^nodes\/proxy is broad/)],
    });
    expect(explanationReport(explainRequest('GET', '/stats', { nodeName: 'n' })).notes).toEqual([]);
  });
});

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
