/**
 * Upstream's own RBAC tests as the oracle: the tables of kubernetes/kubernetes'
 * plugin/pkg/auth/authorizer/rbac/rbac_test.go (TestAuthorizer, TestRuleMatches), the matching
 * rules of pkg/apis/rbac/v1/evaluation_helpers.go with the subject rules of rbac.go
 * (appliesTo), and pkg/apis/rbac/validation/validation_test.go, restated as data and replayed
 * against the stand-in: decisions as SubjectAccessReviews over HTTPS, validation cases through
 * setPolicy.
 *
 * Deliberate differences from the upstream tables, each because the stand-in validates what
 * upstream's unit tests build without validation:
 * - rbac_test.go builds rules with every list set (newRule("*", "*", "*", "*") has resources and
 *   nonResourceURLs together), which kube-apiserver would refuse; here each is split into its
 *   resource rule and its non-resource rule, which decides every request the same way.
 * - TestValidateRoleBindingUpdate (a changed roleRef) has no counterpart: policies are replaced
 *   whole, never updated.
 * - Bindings name a role the policy defines; upstream allows a dangling roleRef (it grants
 *   nothing), the stand-in refuses it so that a typo cannot pass silently.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApiServer } from '../../lib/testing/index.js';
import type { StandInApiServer } from '../../lib/testing/index.js';
import { allowed } from './stand-in-http.js';

const V1 = 'rbac.authorization.k8s.io/v1';
const GROUP = 'rbac.authorization.k8s.io';

let server: StandInApiServer;
beforeAll(async () => {
  server = await startApiServer();
});
afterAll(() => server.close());

interface Rule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

const clusterRole = (name: string, rules: Rule[]) => ({
  apiVersion: V1,
  kind: 'ClusterRole',
  metadata: { name },
  rules,
});

// "User:admin" / "Group:admins" / "ServiceAccount:ns:name", as upstream's helpers spell them.
const subject = (spec: string) => {
  const [kind, ...rest] = spec.split(':');
  if (kind === 'ServiceAccount') {
    const [a, b] = rest;
    return b === undefined ? { kind, name: a } : { kind, namespace: a, name: b };
  }
  return { kind, apiGroup: GROUP, name: rest.join(':') };
};

const clusterBinding = (role: string, ...subjects: string[]) => ({
  apiVersion: V1,
  kind: 'ClusterRoleBinding',
  metadata: { name: `${role}-binding` },
  roleRef: { apiGroup: GROUP, kind: 'ClusterRole', name: role },
  subjects: subjects.map(subject),
});

const roleBinding = (namespace: string, role: string, ...subjects: string[]) => ({
  apiVersion: V1,
  kind: 'RoleBinding',
  metadata: { name: `${role}-binding`, namespace },
  roleRef: { apiGroup: GROUP, kind: 'ClusterRole', name: role },
  subjects: subjects.map(subject),
});

// Upstream's defaultAttributes{user, groups, verb, resource, subresource, namespace, apiGroup}.
const res = (
  user: string,
  groups: string,
  verb: string,
  resource: string,
  subresource: string,
  namespace: string,
  group = '',
  name = '',
) => ({
  user,
  ...(groups ? { groups: groups.split(',') } : {}),
  resourceAttributes: { verb, resource, subresource, namespace, group, name },
});
const url = (user: string, groups: string[], verb: string, path: string) => ({
  ...(user ? { user } : {}),
  ...(groups.length ? { groups } : {}),
  nonResourceAttributes: { verb, path },
});

type Case = [spec: object, expected: boolean];
interface Scenario {
  name: string;
  rbac: object[];
  cases: Case[];
}

const everything: Rule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

// TestAuthorizer.
const authorizerScenarios: Scenario[] = [
  {
    name: 'RoleBinding of a star ClusterRole in ns1',
    rbac: [
      clusterRole('admin', everything),
      roleBinding('ns1', 'admin', 'User:admin', 'Group:admins'),
    ],
    cases: [
      [res('admin', '', 'get', 'Pods', '', 'ns1'), true],
      [res('admin', '', 'watch', 'Pods', '', 'ns1'), true],
      [res('admin', 'group1', 'watch', 'Foobar', '', 'ns1'), true],
      [res('joe', 'admins', 'watch', 'Foobar', '', 'ns1'), true],
      [res('joe', 'group1,admins', 'watch', 'Foobar', '', 'ns1'), true],
      [res('admin', '', 'GET', 'Pods', '', 'ns2'), false],
      [res('admin', '', 'GET', 'Nodes', '', ''), false],
      [res('admin', 'admins', 'GET', 'Pods', '', 'ns2'), false],
      [res('admin', 'admins', 'GET', 'Nodes', '', ''), false],
    ],
  },
  {
    name: 'non-resource URLs',
    rbac: [
      clusterRole('non-resource-url-getter', [{ verbs: ['get'], nonResourceURLs: ['/apis'] }]),
      clusterRole('non-resource-url', [{ verbs: ['*'], nonResourceURLs: ['/apis'] }]),
      clusterRole('non-resource-url-prefix', [{ verbs: ['get'], nonResourceURLs: ['/apis/*'] }]),
      clusterBinding('non-resource-url-getter', 'User:foo', 'Group:bar'),
      clusterBinding('non-resource-url', 'User:admin', 'Group:admin'),
      clusterBinding('non-resource-url-prefix', 'User:prefixed', 'Group:prefixed'),
    ],
    cases: [
      [url('foo', [], 'get', '/apis'), true],
      [url('', ['bar'], 'get', '/apis'), true],
      [url('admin', [], 'get', '/apis'), true],
      [url('', ['admin'], 'get', '/apis'), true],
      [url('admin', [], 'watch', '/apis'), true],
      [url('', ['admin'], 'watch', '/apis'), true],
      [url('prefixed', [], 'get', '/apis/v1'), true],
      [url('', ['prefixed'], 'get', '/apis/v1'), true],
      [url('prefixed', [], 'get', '/apis/v1/foobar'), true],
      [url('', ['prefixed'], 'get', '/apis/v1/foorbar'), true],
      [url('foo', [], 'watch', '/apis'), false],
      [url('', ['bar'], 'watch', '/apis'), false],
      [url('foo', [], 'get', '/api/v1'), false],
      [url('', ['bar'], 'get', '/api/v1'), false],
      [url('admin', [], 'get', '/api/v1'), false],
      [url('', ['admin'], 'get', '/api/v1'), false],
      [url('prefixed', [], 'get', '/api/v1'), false],
      [url('', ['prefixed'], 'get', '/api/v1'), false],
    ],
  },
  {
    name: 'a resource rule does not reach its subresources',
    rbac: [
      clusterRole('admin', [{ verbs: ['*'], apiGroups: ['*'], resources: ['pods'] }]),
      roleBinding('ns1', 'admin', 'User:admin', 'Group:admins'),
    ],
    cases: [
      [res('admin', '', 'get', 'pods', '', 'ns1'), true],
      [res('admin', '', 'get', 'pods', 'status', 'ns1'), false],
    ],
  },
  {
    name: 'a subresource rule does not reach its resource',
    rbac: [
      clusterRole('admin', [{ verbs: ['*'], apiGroups: ['*'], resources: ['pods/status'] }]),
      roleBinding('ns1', 'admin', 'User:admin', 'Group:admins'),
    ],
    cases: [
      [res('admin', '', 'get', 'pods', 'status', 'ns1'), true],
      [res('admin', '', 'get', 'pods', '', 'ns1'), false],
    ],
  },
];

// TestRuleMatches and the evaluation helpers: one rule bound cluster-wide to user "u".
const r = (verb: string, group: string, resource: string, subresource = '', name = '') =>
  res('u', '', verb, resource, subresource, '', group, name);
const p = (verb: string, path: string) => url('u', [], verb, path);
const grid = (expect: (verb: string, group: string, resource: string) => boolean): Case[] =>
  ['verb1', 'verb2'].flatMap((v) =>
    ['resource1', 'resource2'].flatMap((rs) =>
      ['group1', 'group2'].map((g): Case => [r(v, g, rs), expect(v, g, rs)]),
    ),
  );

const ruleScenarios: [string, Rule, Case[]][] = [
  [
    'star verb, exact match other',
    { verbs: ['*'], apiGroups: ['group1'], resources: ['resource1'] },
    grid((_v, g, rs) => g === 'group1' && rs === 'resource1'),
  ],
  [
    'star group, exact match other',
    { verbs: ['verb1'], apiGroups: ['*'], resources: ['resource1'] },
    grid((v, _g, rs) => v === 'verb1' && rs === 'resource1'),
  ],
  [
    'star resource, exact match other',
    { verbs: ['verb1'], apiGroups: ['group1'], resources: ['*'] },
    grid((v, g) => v === 'verb1' && g === 'group1'),
  ],
  [
    'tuple expansion',
    {
      verbs: ['verb1', 'verb2'],
      apiGroups: ['group1', 'group2'],
      resources: ['resource1', 'resource2'],
    },
    grid(() => true),
  ],
  [
    'subresource expansion',
    { verbs: ['*'], apiGroups: ['*'], resources: ['resource1/subresource1'] },
    ['verb1', 'verb2'].flatMap((v): Case[] => [
      [r(v, 'group1', 'resource1', 'subresource1'), true],
      [r(v, 'group2', 'resource1', 'subresource2'), false],
      [r(v, 'group1', 'resource2', 'subresource1'), false],
      [r(v, 'group2', 'resource2', 'subresource1'), false],
    ]),
  ],
  [
    'star nonresource, exact match other',
    { verbs: ['verb1'], nonResourceURLs: ['*'] },
    ['verb1', 'verb2'].flatMap((v) =>
      ['/foo', '/foo/bar', '/foo/baz', '/foo/bar/one', '/foo/baz/one'].map((path): Case => [
        p(v, path),
        v === 'verb1',
      ]),
    ),
  ],
  [
    'star nonresource subpath',
    { verbs: ['verb1'], nonResourceURLs: ['/foo/*'] },
    [
      [p('verb1', '/foo'), false],
      [p('verb1', '/foo/bar'), true],
      [p('verb1', '/foo/baz'), true],
      [p('verb1', '/foo/bar/one'), true],
      [p('verb1', '/foo/baz/one'), true],
      [p('verb1', '/notfoo'), false],
      [p('verb1', '/notfoo/bar'), false],
      [p('verb1', '/notfoo/baz'), false],
      [p('verb1', '/notfoo/bar/one'), false],
      [p('verb1', '/notfoo/baz/one'), false],
    ],
  ],
  [
    'star verb, exact nonresource',
    { verbs: ['*'], nonResourceURLs: ['/foo', '/foo/bar/one'] },
    ['verb1', 'verb2'].flatMap((v) =>
      ['/foo', '/foo/bar', '/foo/baz', '/foo/bar/one', '/foo/baz/one'].map((path): Case => [
        p(v, path),
        path === '/foo' || path === '/foo/bar/one',
      ]),
    ),
  ],
  // ResourceMatches: "*/subresource" matches that subresource of any resource, nothing else.
  [
    'star slash subresource',
    { verbs: ['get'], apiGroups: ['apps'], resources: ['*/scale'] },
    [
      [r('get', 'apps', 'deployments', 'scale'), true],
      [r('get', 'apps', 'statefulsets', 'scale'), true],
      [r('get', 'apps', 'deployments'), false],
      [r('get', 'apps', 'deployments', 'status'), false],
      [r('get', 'apps', 'deployments', 'scalex'), false],
      [r('get', 'apps', 'scale'), false],
      [r('get', '', 'deployments', 'scale'), false],
    ],
  ],
  [
    'star resource covers subresources',
    { verbs: ['get'], apiGroups: [''], resources: ['*'] },
    [
      [r('get', '', 'nodes', 'proxy'), true],
      [r('get', '', 'nodes'), true],
      [r('get', 'apps', 'nodes'), false],
    ],
  ],
  // ResourceNameMatches: an empty list is every name; otherwise an exact name.
  [
    'resource names',
    { verbs: ['get'], apiGroups: [''], resources: ['nodes/proxy'], resourceNames: ['node-a'] },
    [
      [r('get', '', 'nodes', 'proxy', 'node-a'), true],
      [r('get', '', 'nodes', 'proxy', 'node-b'), false],
      [r('get', '', 'nodes', 'proxy', ''), false],
      [r('get', '', 'nodes', 'proxy', 'Node-a'), false],
      [r('get', '', 'nodes', '', 'node-a'), false],
    ],
  ],
  // APIGroupMatches: "" is the core group only.
  [
    'core group',
    { verbs: ['get'], apiGroups: [''], resources: ['pods'] },
    [
      [r('get', '', 'pods'), true],
      [r('get', 'apps', 'pods'), false],
      [r('Get', '', 'pods'), false],
    ],
  ],
  // NonResourceURLMatches: a star is only a wildcard at the end, and trailing stars are one.
  [
    'non-resource stars',
    { verbs: ['get'], nonResourceURLs: ['/api/*/x', '/healthz**'] },
    [
      [p('get', '/api/v1/x'), false],
      [p('get', '/api/*/x'), true],
      [p('get', '/healthz'), true],
      [p('get', '/healthzfoo'), true],
      [p('get', '/health'), false],
    ],
  ],
];

// TestNonResourceURLCovers, whose owner/requested pairs follow the same matching rules.
const urlCovers: [string, string, boolean][] = [
  ['*', '/api', true],
  ['/api', '/api', true],
  ['/apis', '/api', false],
  ['/api/v1', '/api', false],
  ['/api/v1', '/api/v1', true],
  ['/api/*', '/api/v1', true],
  ['/api/*', '/api', false],
  ['/api/*/*', '/api/v1', false],
  ['/*/v1/*', '/api/v1', false],
];

// rbac.go's appliesTo: which requesters a binding's subject stands for.
const appliesTo: [string, object[], Case[]][] = [
  [
    'RoleBinding subjects in ns1',
    [
      clusterRole('r', [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]),
      roleBinding(
        'ns1',
        'r',
        'User:alice',
        'Group:devs',
        'ServiceAccount:robot',
        'ServiceAccount:other:bot',
      ),
    ],
    [
      [res('alice', '', 'get', 'pods', '', 'ns1'), true],
      [res('Alice', '', 'get', 'pods', '', 'ns1'), false],
      [res('bob', 'devs', 'get', 'pods', '', 'ns1'), true],
      [res('bob', 'devsx', 'get', 'pods', '', 'ns1'), false],
      [res('bob', 'Devs', 'get', 'pods', '', 'ns1'), false],
      [res('system:serviceaccount:ns1:robot', '', 'get', 'pods', '', 'ns1'), true],
      [res('system:serviceaccount:ns2:robot', '', 'get', 'pods', '', 'ns1'), false],
      [res('system:serviceaccount:other:bot', '', 'get', 'pods', '', 'ns1'), true],
      [res('system:serviceaccount:ns1:bot', '', 'get', 'pods', '', 'ns1'), false],
      [res('robot', '', 'get', 'pods', '', 'ns1'), false],
      [res('alice', '', 'get', 'pods', '', 'ns2'), false],
      [res('alice', '', 'get', 'pods', '', ''), false],
    ],
  ],
  [
    'ClusterRoleBinding subjects everywhere',
    [
      clusterRole('r', [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]),
      clusterBinding('r', 'User:alice', 'ServiceAccount:kube-system:robot'),
    ],
    [
      [res('alice', '', 'get', 'pods', '', 'ns1'), true],
      [res('alice', '', 'get', 'pods', '', ''), true],
      [res('system:serviceaccount:kube-system:robot', '', 'get', 'pods', '', 'x'), true],
      [res('system:serviceaccount:default:robot', '', 'get', 'pods', '', 'x'), false],
    ],
  ],
];

describe('upstream rbac_test.go TestAuthorizer, replayed as SubjectAccessReviews', () => {
  describe.each(authorizerScenarios)('$name', ({ rbac, cases }) => {
    beforeAll(() => server.setPolicy({ rbac }));
    it.each(cases)('%j → %s', async (spec, expected) => {
      expect(await allowed(server, spec)).toBe(expected);
    });
  });
});

describe('upstream TestRuleMatches and evaluation helpers, replayed as SubjectAccessReviews', () => {
  describe.each(ruleScenarios)('%s', (_name, rule, cases) => {
    beforeAll(() =>
      server.setPolicy({ rbac: [clusterRole('rule', [rule]), clusterBinding('rule', 'User:u')] }),
    );
    it.each(cases)('%j → %s', async (spec, expected) => {
      expect(await allowed(server, spec)).toBe(expected);
    });
  });

  it.each(urlCovers)('nonResourceURLs [%s] covers %s: %s', async (owner, requested, expected) => {
    server.setPolicy({
      rbac: [
        clusterRole('url', [{ verbs: ['get'], nonResourceURLs: [owner] }]),
        clusterBinding('url', 'User:u'),
      ],
    });
    expect(await allowed(server, p('get', requested))).toBe(expected);
  });
});

describe('upstream appliesTo, replayed as SubjectAccessReviews', () => {
  describe.each(appliesTo)('%s', (_name, rbac, cases) => {
    beforeAll(() => server.setPolicy({ rbac }));
    it.each(cases)('%j → %s', async (spec, expected) => {
      expect(await allowed(server, spec)).toBe(expected);
    });
  });
});

// validation_test.go: each object with the field its error must name (undefined: valid).
const ref = (kind: string, name?: string, apiGroup = GROUP) => ({
  apiGroup,
  kind,
  ...(name === undefined ? {} : { name }),
});
const crb = (metadata: object, roleRef: object, subjects: object[] = []) => ({
  apiVersion: V1,
  kind: 'ClusterRoleBinding',
  metadata,
  roleRef,
  subjects,
});
const rb = (metadata: object, roleRef: object, subjects: object[] = []) => ({
  ...crb(metadata, roleRef, subjects),
  kind: 'RoleBinding',
});
const role = (metadata: object, rules: object[] = []) => ({
  apiVersion: V1,
  kind: 'Role',
  metadata,
  rules,
});
const validRoles = [clusterRole('valid', []), role({ name: 'valid', namespace: 'default' })];
const validSubjects = [
  { name: 'validsaname', kind: 'ServiceAccount' },
  { name: 'valid@username', kind: 'User' },
  { name: 'valid@groupname', kind: 'Group' },
];

const validationCases: [string, object, string | undefined][] = [
  [
    'ClusterRoleBinding: valid',
    crb({ name: 'master' }, ref('ClusterRole', 'valid'), [
      { ...validSubjects[0], namespace: 'foo' },
      validSubjects[1] as object,
      validSubjects[2] as object,
    ]),
    undefined,
  ],
  [
    'ClusterRoleBinding: bad group',
    crb({ name: 'default' }, ref('ClusterRole', 'valid', 'rbac.GroupName')),
    'roleRef.apiGroup',
  ],
  ['ClusterRoleBinding: bad kind', crb({ name: 'default' }, ref('Type', 'valid')), 'roleRef.kind'],
  [
    'ClusterRoleBinding: reference role',
    crb({ name: 'default' }, ref('Role', 'valid')),
    'roleRef.kind',
  ],
  ['ClusterRoleBinding: zero-length name', crb({}, ref('ClusterRole', 'valid')), 'metadata.name'],
  ['ClusterRoleBinding: bad role', crb({ name: 'default' }, ref('ClusterRole')), 'roleRef.name'],
  [
    'ClusterRoleBinding: bad subject kind',
    crb({ name: 'master' }, ref('ClusterRole', 'valid'), [{ name: 'subject' }]),
    'subjects[0].kind',
  ],
  [
    'ClusterRoleBinding: bad subject name',
    crb({ name: 'master' }, ref('ClusterRole', 'valid'), [
      { namespace: 'foo', name: 'subject:bad', kind: 'ServiceAccount' },
    ]),
    'subjects[0].name',
  ],
  [
    'ClusterRoleBinding: missing SA namespace',
    crb({ name: 'master' }, ref('ClusterRole', 'valid'), [
      { name: 'good', kind: 'ServiceAccount' },
    ]),
    'subjects[0].namespace',
  ],
  [
    'ClusterRoleBinding: missing subject name',
    crb({ name: 'master' }, ref('ClusterRole', 'valid'), [
      { namespace: 'foo', kind: 'ServiceAccount' },
    ]),
    'subjects[0].name',
  ],
  [
    'RoleBinding: valid',
    rb({ namespace: 'default', name: 'master' }, ref('Role', 'valid'), validSubjects),
    undefined,
  ],
  [
    'RoleBinding: bad group',
    rb({ namespace: 'default', name: 'default' }, ref('ClusterRole', 'valid', 'rbac.GroupName')),
    'roleRef.apiGroup',
  ],
  [
    'RoleBinding: bad kind',
    rb({ namespace: 'default', name: 'default' }, ref('Type', 'valid')),
    'roleRef.kind',
  ],
  [
    'RoleBinding: zero-length namespace',
    rb({ name: 'default' }, ref('Role', 'valid')),
    'metadata.namespace',
  ],
  [
    'RoleBinding: zero-length name',
    rb({ namespace: 'default' }, ref('Role', 'valid')),
    'metadata.name',
  ],
  [
    'RoleBinding: bad role',
    rb({ namespace: 'default', name: 'default' }, ref('Role')),
    'roleRef.name',
  ],
  [
    'RoleBinding: bad subject kind',
    rb({ namespace: 'default', name: 'master' }, ref('Role', 'valid'), [{ name: 'subject' }]),
    'subjects[0].kind',
  ],
  [
    'RoleBinding: bad subject name',
    rb({ namespace: 'default', name: 'master' }, ref('Role', 'valid'), [
      { name: 'subject:bad', kind: 'ServiceAccount' },
    ]),
    'subjects[0].name',
  ],
  [
    'RoleBinding: missing subject name',
    rb({ namespace: 'default', name: 'master' }, ref('Role', 'valid'), [
      { kind: 'ServiceAccount' },
    ]),
    'subjects[0].name',
  ],
  ['Role: zero-length namespace', role({ name: 'default' }), 'metadata.namespace'],
  ['Role: zero-length name', role({ namespace: 'default' }), 'metadata.name'],
  ['Role: valid', role({ namespace: 'default', name: 'default' }), undefined],
  ['ClusterRole: valid without namespace', clusterRole('default', []), undefined],
  [
    'ClusterRole: non-resource URL',
    clusterRole('default', [{ verbs: ['get'], nonResourceURLs: ['/*'] }]),
    undefined,
  ],
  [
    'Role: namespaced non-resource URL',
    role({ namespace: 'default', name: 'default' }, [{ verbs: ['get'], nonResourceURLs: ['/*'] }]),
    'rules[0].nonResourceURLs',
  ],
  [
    'ClusterRole: non-resource URL without verbs',
    clusterRole('default', [{ verbs: [], nonResourceURLs: ['/*'] }]),
    'rules[0].verbs',
  ],
  [
    'Role: mixed non-resource and resource',
    role({ name: 'default', namespace: 'default' }, [
      { verbs: ['get'], nonResourceURLs: ['/*'], apiGroups: ['v1'], resources: ['pods'] },
    ]),
    'rules[0].nonResourceURLs',
  ],
  [
    'Role: valid resource',
    role({ name: 'default', namespace: 'default' }, [
      { verbs: ['get'], apiGroups: ['v1'], resources: ['pods'] },
    ]),
    undefined,
  ],
  [
    'Role: no API group',
    role({ name: 'default', namespace: 'default' }, [{ verbs: ['get'], resources: ['pods'] }]),
    'rules[0].apiGroups',
  ],
  [
    'Role: no resources',
    role({ name: 'default', namespace: 'default' }, [{ verbs: ['get'], apiGroups: ['v1'] }]),
    'rules[0].resources',
  ],
  [
    'ClusterRole: aggregationRule without selectors',
    { ...clusterRole('agg', []), aggregationRule: { clusterRoleSelectors: [] } },
    'aggregationRule.clusterRoleSelectors',
  ],
];

describe('upstream validation_test.go, replayed through setPolicy', () => {
  it.each(validationCases)('%s', (_name, object, field) => {
    const load = () => server.setPolicy({ rbac: [...validRoles, object] });
    if (field === undefined) {
      expect(load).not.toThrow();
    } else {
      expect(load).toThrow(TypeError);
      expect(load).toThrow(new RegExp(`[: ]${field.replace(/[.[\]]/g, '\\$&')}[:. ]`));
    }
  });
});
