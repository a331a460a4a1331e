import { describe, it, expect } from '@jest/globals';
import { compilePolicy, evaluate } from '../../lib/testing/index.js';
import type {
  SimpleRule,
  StandInPolicy,
  SubjectAccessReviewSpec,
} from '../../lib/testing/index.js';

const RBAC = 'rbac.authorization.k8s.io/v1';

interface RuleInput {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

// A ClusterRole with one rule, bound cluster-wide to user 'u'.
function clusterGrant(rule: RuleInput): object[] {
  return [
    { apiVersion: RBAC, kind: 'ClusterRole', metadata: { name: 'r' }, rules: [rule] },
    {
      apiVersion: RBAC,
      kind: 'ClusterRoleBinding',
      metadata: { name: 'b' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'r' },
      subjects: [{ kind: 'User', name: 'u' }],
    },
  ];
}

interface Req {
  verb?: string;
  group?: string;
  resource?: string;
  subresource?: string;
  name?: string;
  namespace?: string;
  path?: string;
}

function resourceSar(user: string, r: Req, groups?: string[]): SubjectAccessReviewSpec {
  const spec: SubjectAccessReviewSpec = { user, resourceAttributes: { ...r } };
  if (groups) spec.groups = groups;
  return spec;
}

function sar(r: Req, user = 'u', groups?: string[]): SubjectAccessReviewSpec {
  if (r.path !== undefined) {
    const spec: SubjectAccessReviewSpec = { user, nonResourceAttributes: { path: r.path } };
    if (r.verb !== undefined) spec.nonResourceAttributes = { path: r.path, verb: r.verb };
    if (groups) spec.groups = groups;
    return spec;
  }
  return resourceSar(user, r, groups);
}

// Modelled on the categories of upstream's RBAC rule-matching tests (rbac authorizer
// TestRuleMatches and the rbac/v1 helpers): verbs, groups, resources, subresources, names and
// non-resource URLs, each with the wildcard forms RBAC defines.
const ruleCases: [string, RuleInput, Req, boolean][] = [
  // verbs
  [
    'exact verb',
    { verbs: ['get'], apiGroups: [''], resources: ['pods'] },
    { verb: 'get', resource: 'pods' },
    true,
  ],
  [
    'other verb',
    { verbs: ['get'], apiGroups: [''], resources: ['pods'] },
    { verb: 'list', resource: 'pods' },
    false,
  ],
  [
    'star verb, exact match other',
    { verbs: ['*'], apiGroups: ['group1'], resources: ['resource1'] },
    { verb: 'update', group: 'group1', resource: 'resource1' },
    true,
  ],
  [
    'star verb, mismatched group',
    { verbs: ['*'], apiGroups: ['group1'], resources: ['resource1'] },
    { verb: 'update', group: 'group2', resource: 'resource1' },
    false,
  ],
  [
    'star verb matches the empty verb',
    { verbs: ['*'], apiGroups: [''], resources: ['pods'] },
    { resource: 'pods' },
    true,
  ],
  [
    'a named verb does not match the empty verb',
    { verbs: ['get'], apiGroups: [''], resources: ['pods'] },
    { resource: 'pods' },
    false,
  ],
  [
    'several verbs',
    { verbs: ['get', 'watch'], apiGroups: [''], resources: ['pods'] },
    { verb: 'watch', resource: 'pods' },
    true,
  ],
  // API groups
  [
    'star group',
    { verbs: ['get'], apiGroups: ['*'], resources: ['deployments'] },
    { verb: 'get', group: 'apps', resource: 'deployments' },
    true,
  ],
  [
    'core group only',
    { verbs: ['get'], apiGroups: [''], resources: ['deployments'] },
    { verb: 'get', group: 'apps', resource: 'deployments' },
    false,
  ],
  [
    'named group',
    { verbs: ['get'], apiGroups: ['apps'], resources: ['deployments'] },
    { verb: 'get', group: 'apps', resource: 'deployments' },
    true,
  ],
  // resources and subresources
  [
    'star resource',
    { verbs: ['get'], apiGroups: [''], resources: ['*'] },
    { verb: 'get', resource: 'nodes' },
    true,
  ],
  [
    'star resource covers subresources',
    { verbs: ['get'], apiGroups: [''], resources: ['*'] },
    { verb: 'get', resource: 'nodes', subresource: 'stats' },
    true,
  ],
  [
    'other resource',
    { verbs: ['get'], apiGroups: [''], resources: ['pods'] },
    { verb: 'get', resource: 'nodes' },
    false,
  ],
  [
    'resource alone does not cover its subresources',
    { verbs: ['get'], apiGroups: [''], resources: ['nodes'] },
    { verb: 'get', resource: 'nodes', subresource: 'stats' },
    false,
  ],
  [
    'exact resource/subresource',
    { verbs: ['get'], apiGroups: [''], resources: ['nodes/stats'] },
    { verb: 'get', resource: 'nodes', subresource: 'stats' },
    true,
  ],
  [
    'resource/subresource does not cover the resource',
    { verbs: ['get'], apiGroups: [''], resources: ['nodes/stats'] },
    { verb: 'get', resource: 'nodes' },
    false,
  ],
  [
    'other subresource',
    { verbs: ['get'], apiGroups: [''], resources: ['nodes/stats'] },
    { verb: 'get', resource: 'nodes', subresource: 'proxy' },
    false,
  ],
  [
    '*/subresource on any resource',
    { verbs: ['get'], apiGroups: [''], resources: ['*/log'] },
    { verb: 'get', resource: 'pods', subresource: 'log' },
    true,
  ],
  [
    '*/subresource on another resource',
    { verbs: ['get'], apiGroups: [''], resources: ['*/log'] },
    { verb: 'get', resource: 'nodes', subresource: 'log' },
    true,
  ],
  [
    '*/subresource, other subresource',
    { verbs: ['get'], apiGroups: [''], resources: ['*/log'] },
    { verb: 'get', resource: 'pods', subresource: 'exec' },
    false,
  ],
  [
    '*/subresource does not cover the resource',
    { verbs: ['get'], apiGroups: [''], resources: ['*/log'] },
    { verb: 'get', resource: 'pods' },
    false,
  ],
  [
    'resource/* is not an RBAC wildcard',
    { verbs: ['get'], apiGroups: [''], resources: ['nodes/*'] },
    { verb: 'get', resource: 'nodes', subresource: 'stats' },
    false,
  ],
  // resource names
  [
    'named resource',
    { verbs: ['get'], apiGroups: [''], resources: ['nodes'], resourceNames: ['n1'] },
    { verb: 'get', resource: 'nodes', name: 'n1' },
    true,
  ],
  [
    'other name',
    { verbs: ['get'], apiGroups: [''], resources: ['nodes'], resourceNames: ['n1'] },
    { verb: 'get', resource: 'nodes', name: 'n2' },
    false,
  ],
  [
    'resourceNames need a name',
    { verbs: ['list'], apiGroups: [''], resources: ['nodes'], resourceNames: ['n1'] },
    { verb: 'list', resource: 'nodes' },
    false,
  ],
  [
    'no resourceNames: every name',
    { verbs: ['get'], apiGroups: [''], resources: ['nodes'] },
    { verb: 'get', resource: 'nodes', name: 'n9' },
    true,
  ],
  [
    'named subresource',
    { verbs: ['get'], apiGroups: [''], resources: ['nodes/proxy'], resourceNames: ['n1'] },
    { verb: 'get', resource: 'nodes', subresource: 'proxy', name: 'n1' },
    true,
  ],
  // non-resource URLs
  [
    'star nonresource URL',
    { verbs: ['get'], nonResourceURLs: ['*'] },
    { verb: 'get', path: '/anything/at/all' },
    true,
  ],
  [
    'exact nonresource URL',
    { verbs: ['get'], nonResourceURLs: ['/healthz'] },
    { verb: 'get', path: '/healthz' },
    true,
  ],
  [
    'exact nonresource URL, longer path',
    { verbs: ['get'], nonResourceURLs: ['/healthz'] },
    { verb: 'get', path: '/healthz/ping' },
    false,
  ],
  [
    'prefix nonresource URL',
    { verbs: ['get'], nonResourceURLs: ['/metrics/*'] },
    { verb: 'get', path: '/metrics/cadvisor' },
    true,
  ],
  [
    'prefix nonresource URL needs the slash',
    { verbs: ['get'], nonResourceURLs: ['/metrics/*'] },
    { verb: 'get', path: '/metrics' },
    false,
  ],
  [
    'bare prefix nonresource URL',
    { verbs: ['get'], nonResourceURLs: ['/metrics*'] },
    { verb: 'get', path: '/metricsz' },
    true,
  ],
  [
    'nonresource URL, other verb',
    { verbs: ['get'], nonResourceURLs: ['/healthz'] },
    { verb: 'post', path: '/healthz' },
    false,
  ],
  [
    'nonresource star verb',
    { verbs: ['*'], nonResourceURLs: ['/healthz'] },
    { verb: 'post', path: '/healthz' },
    true,
  ],
  // rule kinds do not cross over
  [
    'resource rule vs nonresource request',
    { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
    { verb: 'get', path: '/healthz' },
    false,
  ],
  [
    'nonresource rule vs resource request',
    { verbs: ['*'], nonResourceURLs: ['*'] },
    { verb: 'get', resource: 'nodes' },
    false,
  ],
];

describe('RBAC rule matching', () => {
  it.each(ruleCases)('%s', (_name, rule, request, allowed) => {
    const decision = evaluate({ rbac: clusterGrant(rule) }, sar(request));
    expect(decision.allowed).toBe(allowed);
    if (allowed) {
      expect(decision.reason).toBe(
        'RBAC: allowed by ClusterRoleBinding "b" of ClusterRole "r" to User "u"',
      );
    } else {
      expect(decision).toEqual({ allowed: false });
    }
  });
});

const scopingYaml = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: pod-reader
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: secret-reader
  namespace: team-a
rules:
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: read-secrets
  namespace: team-a
subjects:
- kind: User
  name: alice
- kind: ServiceAccount
  name: builder
roleRef:
  kind: Role
  name: secret-reader
  apiGroup: rbac.authorization.k8s.io
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: read-pods
  namespace: team-a
subjects:
- kind: Group
  name: devs
- kind: ServiceAccount
  name: deployer
  namespace: ci
roleRef:
  kind: ClusterRole
  name: pod-reader
  apiGroup: rbac.authorization.k8s.io
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: pod-readers-everywhere
subjects:
- kind: ServiceAccount
  name: monitor
  namespace: kube-system
roleRef:
  kind: ClusterRole
  name: pod-reader
  apiGroup: rbac.authorization.k8s.io
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: builder
  namespace: team-a
`;

describe('RBAC subjects and binding scope', () => {
  const policy = compilePolicy({ rbac: scopingYaml });
  const sa = (ns: string, name: string) => `system:serviceaccount:${ns}:${name}`;

  it.each([
    [
      'User of a RoleBinding, in its namespace',
      'alice',
      [],
      { verb: 'get', resource: 'secrets', namespace: 'team-a' },
      true,
    ],
    [
      'User of a RoleBinding, another namespace',
      'alice',
      [],
      { verb: 'get', resource: 'secrets', namespace: 'team-b' },
      false,
    ],
    [
      'User of a RoleBinding, cluster-scoped request',
      'alice',
      [],
      { verb: 'get', resource: 'secrets' },
      false,
    ],
    [
      'Group of a RoleBinding to a ClusterRole, in its namespace',
      'bob',
      ['devs'],
      { verb: 'get', resource: 'pods', namespace: 'team-a' },
      true,
    ],
    [
      'Group of a RoleBinding to a ClusterRole, another namespace',
      'bob',
      ['devs'],
      { verb: 'get', resource: 'pods', namespace: 'default' },
      false,
    ],
    [
      'Group of a RoleBinding to a ClusterRole, cluster-scoped',
      'bob',
      ['devs'],
      { verb: 'get', resource: 'pods' },
      false,
    ],
    [
      'non-member of the group',
      'bob',
      ['ops'],
      { verb: 'get', resource: 'pods', namespace: 'team-a' },
      false,
    ],
    [
      'ServiceAccount defaulting to the RoleBinding namespace',
      sa('team-a', 'builder'),
      [],
      { verb: 'get', resource: 'secrets', namespace: 'team-a' },
      true,
    ],
    [
      'same ServiceAccount name, other namespace',
      sa('team-b', 'builder'),
      [],
      { verb: 'get', resource: 'secrets', namespace: 'team-a' },
      false,
    ],
    [
      'ServiceAccount from another namespace named in a RoleBinding',
      sa('ci', 'deployer'),
      [],
      { verb: 'get', resource: 'pods', namespace: 'team-a' },
      true,
    ],
    [
      'that ServiceAccount in its own namespace',
      sa('ci', 'deployer'),
      [],
      { verb: 'get', resource: 'pods', namespace: 'ci' },
      false,
    ],
    [
      'ServiceAccount of a ClusterRoleBinding, any namespace',
      sa('kube-system', 'monitor'),
      [],
      { verb: 'get', resource: 'pods', namespace: 'team-z' },
      true,
    ],
    [
      'ServiceAccount of a ClusterRoleBinding, cluster-scoped',
      sa('kube-system', 'monitor'),
      [],
      { verb: 'get', resource: 'pods' },
      true,
    ],
    [
      'ServiceAccount of a ClusterRoleBinding, verb not granted',
      sa('kube-system', 'monitor'),
      [],
      { verb: 'delete', resource: 'pods', namespace: 'x' },
      false,
    ],
    [
      'user name that only looks like the ServiceAccount',
      'monitor',
      [],
      { verb: 'get', resource: 'pods' },
      false,
    ],
    ['unknown user', 'nobody', [], { verb: 'get', resource: 'pods', namespace: 'team-a' }, false],
  ] as [string, string, string[], Req, boolean][])(
    '%s',
    (_name, user, groups, request, allowed) => {
      expect(policy.evaluate(resourceSar(user, request, groups)).allowed).toBe(allowed);
    },
  );

  it('describes the grant the way the RBAC authorizer does', () => {
    expect(
      policy.evaluate(
        resourceSar('alice', { verb: 'get', resource: 'secrets', namespace: 'team-a' }),
      ),
    ).toEqual({
      allowed: true,
      reason:
        'RBAC: allowed by RoleBinding "read-secrets/team-a" of Role "secret-reader" to User "alice"',
    });
    expect(
      policy.evaluate(
        resourceSar(sa('team-a', 'builder'), {
          verb: 'get',
          resource: 'secrets',
          namespace: 'team-a',
        }),
      ).reason,
    ).toBe(
      'RBAC: allowed by RoleBinding "read-secrets/team-a" of Role "secret-reader" to ServiceAccount "team-a/builder"',
    );
  });

  it('reads a kubectl-style List', () => {
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: clusterGrant({ verbs: ['get'], apiGroups: [''], resources: ['nodes/stats'] }),
    };
    const spec = sar({ verb: 'get', resource: 'nodes', subresource: 'stats' });
    expect(evaluate({ rbac: [list] }, spec).allowed).toBe(true);
  });
});

describe('the kubelet API roles', () => {
  // The shape of the real system:kubelet-api-admin ClusterRole and its usual binding.
  const yaml = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:kubelet-api-admin
rules:
- apiGroups: [""]
  resources: ["nodes"]
  verbs: ["get", "list", "watch", "proxy"]
- apiGroups: [""]
  resources: ["nodes/log", "nodes/metrics", "nodes/proxy", "nodes/stats"]
  verbs: ["*"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: kube-apiserver-kubelet-admin
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:kubelet-api-admin
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: kube-apiserver-kubelet-client
`;
  const user = 'kube-apiserver-kubelet-client';

  it.each([
    [{ verb: 'get', resource: 'nodes', subresource: 'stats', name: 'n1' }, true],
    [{ verb: 'create', resource: 'nodes', subresource: 'proxy', name: 'n1' }, true],
    [{ verb: 'get', resource: 'nodes', subresource: 'spec', name: 'n1' }, false],
    [{ verb: 'proxy', resource: 'nodes', name: 'n1' }, true],
    [{ verb: 'delete', resource: 'nodes', name: 'n1' }, false],
  ] as [Req, boolean][])('%j → %s', (request, allowed) => {
    expect(evaluate({ rbac: yaml }, resourceSar(user, request)).allowed).toBe(allowed);
  });
});

describe('simple rules', () => {
  const rules: SimpleRule[] = [
    { users: ['alice'], verbs: ['get'], resources: ['nodes/stats'] },
    { groups: ['system:nodes'], verbs: ['*'], resources: ['nodes/*'] },
    { users: ['*'], verbs: ['get'], nonResourceURLs: ['/healthz'] },
    {
      groups: ['admins'],
      verbs: ['*'],
      resources: ['*'],
      apiGroups: ['*'],
      resourceNames: ['only-this'],
    },
  ];

  it.each([
    ['user match', 'alice', [], { verb: 'get', resource: 'nodes', subresource: 'stats' }, true],
    [
      'user match, other subresource',
      'alice',
      [],
      { verb: 'get', resource: 'nodes', subresource: 'log' },
      false,
    ],
    [
      'user match, other verb',
      'alice',
      [],
      { verb: 'create', resource: 'nodes', subresource: 'stats' },
      false,
    ],
    [
      'apiGroups default to the core group',
      'alice',
      [],
      { verb: 'get', group: 'apps', resource: 'nodes', subresource: 'stats' },
      false,
    ],
    [
      'any namespace',
      'alice',
      [],
      { verb: 'get', resource: 'nodes', subresource: 'stats', namespace: 'x' },
      true,
    ],
    [
      'group match with the resource/* shorthand',
      'system:node:n1',
      ['system:nodes'],
      { verb: 'get', resource: 'nodes', subresource: 'proxy' },
      true,
    ],
    [
      'resource/* shorthand does not cover the resource itself',
      'system:node:n1',
      ['system:nodes'],
      { verb: 'get', resource: 'nodes' },
      false,
    ],
    [
      "'*' user matches system:anonymous",
      'system:anonymous',
      ['system:unauthenticated'],
      { verb: 'get', path: '/healthz' },
      true,
    ],
    ["'*' user, other path", 'system:anonymous', [], { verb: 'get', path: '/metrics' }, false],
    [
      'resourceNames',
      'carol',
      ['admins'],
      { verb: 'delete', group: 'apps', resource: 'deployments', name: 'only-this' },
      true,
    ],
    [
      'resourceNames, other name',
      'carol',
      ['admins'],
      { verb: 'delete', group: 'apps', resource: 'deployments', name: 'x' },
      false,
    ],
    [
      'nobody matches',
      'mallory',
      ['evil'],
      { verb: 'get', resource: 'nodes', subresource: 'stats' },
      false,
    ],
  ] as [string, string, string[], Req, boolean][])(
    '%s',
    (_name, user, groups, request, allowed) => {
      const decision = evaluate({ rules }, sar(request, user, groups));
      expect(decision.allowed).toBe(allowed);
      if (allowed) expect(decision.reason).toMatch(/^allowed by stand-in policy rule #\d$/);
    },
  );

  it("'*' in groups matches a requester with no groups at all", () => {
    const policy: StandInPolicy = {
      rules: [{ groups: ['*'], verbs: ['get'], resources: ['nodes'] }],
    };
    expect(
      evaluate(policy, { user: 'x', resourceAttributes: { verb: 'get', resource: 'nodes' } })
        .allowed,
    ).toBe(true);
  });

  it('combines with RBAC objects', () => {
    const policy = compilePolicy({
      rules: [{ users: ['a'], verbs: ['get'], resources: ['pods'] }],
      rbac: clusterGrant({ verbs: ['list'], apiGroups: [''], resources: ['pods'] }),
    });
    expect(policy.evaluate(sar({ verb: 'get', resource: 'pods' }, 'a')).allowed).toBe(true);
    expect(policy.evaluate(sar({ verb: 'list', resource: 'pods' }, 'u')).allowed).toBe(true);
    expect(policy.evaluate(sar({ verb: 'list', resource: 'pods' }, 'a')).allowed).toBe(false);
  });

  it('denies everything with an empty policy, never saying denied', () => {
    expect(evaluate({}, sar({ verb: 'get', resource: 'pods' }))).toEqual({ allowed: false });
  });
});

describe('malformed policies', () => {
  const role = { apiVersion: RBAC, kind: 'ClusterRole', metadata: { name: 'r' }, rules: [] };
  const crb = (roleRef: object, subjects: object[] = [{ kind: 'User', name: 'u' }]) => ({
    apiVersion: RBAC,
    kind: 'ClusterRoleBinding',
    metadata: { name: 'b' },
    roleRef,
    subjects,
  });

  it.each([
    ['YAML syntax', { rbac: 'kind: ClusterRole\n  metadata: [' }, /not valid YAML/],
    [
      'unknown roleRef',
      { rbac: [role, crb({ kind: 'ClusterRole', name: 'missing' })] },
      /ClusterRole missing, which the policy does not define/,
    ],
    [
      'ClusterRoleBinding to a Role',
      { rbac: [role, crb({ kind: 'Role', name: 'r' })] },
      /roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"$/,
    ],
    [
      'roleRef without a name',
      { rbac: [role, crb({ kind: 'ClusterRole' })] },
      /roleRef.name: Required value/,
    ],
    [
      'binding without roleRef',
      { rbac: [role, { apiVersion: RBAC, kind: 'ClusterRoleBinding', metadata: { name: 'b' } }] },
      /roleRef must be an object/,
    ],
    [
      'RoleBinding without a namespace',
      { rbac: [role, { ...crb({ kind: 'ClusterRole', name: 'r' }), kind: 'RoleBinding' }] },
      /metadata.namespace: Required value/,
    ],
    [
      'object without a name',
      { rbac: [{ apiVersion: RBAC, kind: 'ClusterRole', metadata: {} }] },
      /metadata.name: Required value/,
    ],
    ['object without a kind', { rbac: [{ apiVersion: RBAC, metadata: { name: 'x' } }] }, /no kind/],
    [
      'wrong apiVersion',
      { rbac: [{ ...role, apiVersion: 'v1' }] },
      /apiVersion must be rbac.authorization.k8s.io\/v1/,
    ],
    [
      'rule without verbs',
      { rbac: [{ ...role, rules: [{ apiGroups: [''], resources: ['pods'] }] }] },
      /verbs: Required value: verbs must contain at least one value/,
    ],
    [
      'resource rule without apiGroups',
      { rbac: [{ ...role, rules: [{ verbs: ['get'], resources: ['pods'] }] }] },
      /at least one api group/,
    ],
    [
      'resource rule without resources',
      { rbac: [{ ...role, rules: [{ verbs: ['get'], apiGroups: [''] }] }] },
      /at least one resource/,
    ],
    [
      'Role with nonResourceURLs',
      {
        rbac: [
          {
            ...role,
            kind: 'Role',
            metadata: { name: 'r', namespace: 'n' },
            rules: [{ verbs: ['get'], nonResourceURLs: ['/x'] }],
          },
        ],
      },
      /cannot apply to non-resource URLs/,
    ],
    [
      'rule mixing resources and URLs',
      {
        rbac: [
          {
            ...role,
            rules: [
              { verbs: ['get'], apiGroups: [''], resources: ['pods'], nonResourceURLs: ['/x'] },
            ],
          },
        ],
      },
      /both regular resources and non-resource URLs/,
    ],
    [
      'verbs not strings',
      { rbac: [{ ...role, rules: [{ verbs: [1], apiGroups: [''], resources: ['pods'] }] }] },
      /verbs must be a list of strings/,
    ],
    [
      'bad subject kind',
      { rbac: [role, crb({ kind: 'ClusterRole', name: 'r' }, [{ kind: 'Robot', name: 'x' }])] },
      /kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"/,
    ],
    [
      'subject without a name',
      { rbac: [role, crb({ kind: 'ClusterRole', name: 'r' }, [{ kind: 'User' }])] },
      /subjects\[0\].name: Required value/,
    ],
    [
      'ServiceAccount of a ClusterRoleBinding without namespace',
      {
        rbac: [
          role,
          crb({ kind: 'ClusterRole', name: 'r' }, [{ kind: 'ServiceAccount', name: 'x' }]),
        ],
      },
      /subjects\[0\].namespace: Required value/,
    ],
    ['duplicate ClusterRole', { rbac: [role, role] }, /defined twice/],
    ['rbac of the wrong type', { rbac: 42 as unknown as string }, /YAML text or an array/],
    [
      'simple rule without users or groups',
      { rules: [{ verbs: ['get'], resources: ['pods'] }] },
      /names no users or groups/,
    ],
    [
      'simple rule without verbs',
      { rules: [{ users: ['a'], resources: ['pods'] } as unknown as SimpleRule] },
      /verbs is required/,
    ],
    [
      'simple rule without resources or URLs',
      { rules: [{ users: ['a'], verbs: ['get'] }] },
      /needs resources or nonResourceURLs/,
    ],
  ] as [string, StandInPolicy, RegExp][])('%s → TypeError', (_name, policy, message) => {
    expect(() => compilePolicy(policy)).toThrow(TypeError);
    expect(() => compilePolicy(policy)).toThrow(message);
  });

  it('names the offending object', () => {
    expect(() =>
      compilePolicy({ rbac: [role, crb({ kind: 'ClusterRole', name: 'nope' })] }),
    ).toThrow(/policy.rbac object #1 \(ClusterRoleBinding b\)/);
  });
});
