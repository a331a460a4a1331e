import { describe, expect, it } from '@jest/globals';
import { kubeletRequestAttributes } from '../../lib/authz/attributes.js';
import { staticAuthorizer, type StaticRule } from '../../lib/authz/static-rules.js';
import { subjectAccessReviewSpec } from '../../lib/authz/subject-access-review.js';
import type { Attributes } from '../../lib/contracts.js';
import { compilePolicy } from '../../lib/testing/index.js';
import type { KubeUser } from '../../lib/user.js';
import { KubeletAuthError } from '../../lib/errors.js';

const PROMETHEUS: KubeUser = {
  username: 'system:serviceaccount:monitoring:prometheus',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:monitoring', 'system:authenticated'],
};
const ALICE: KubeUser = { username: 'alice', groups: ['devs', 'system:authenticated'] };

/** A resource record; every field can be overridden. */
function resource(fields: Partial<Attributes> = {}): Attributes {
  return {
    user: ALICE,
    verb: 'get',
    namespace: '',
    apiGroup: '',
    apiVersion: 'v1',
    resource: 'nodes',
    subresource: '',
    name: 'node-a',
    resourceRequest: true,
    path: '/',
    ...fields,
  };
}

function nonResource(path: string, fields: Partial<Attributes> = {}): Attributes {
  return resource({
    apiVersion: '',
    resource: '',
    name: '',
    resourceRequest: false,
    path,
    ...fields,
  });
}

/** `authorize`'s decision, after checking `peek` gives the very same result and no error. */
async function decide(rules: StaticRule[], attributes: Attributes): Promise<string> {
  const authorizer = staticAuthorizer(rules);
  const result = await authorizer.authorize(attributes);
  expect(authorizer.peek?.(attributes)).toBe(result);
  expect(result.error).toBeUndefined();
  return result.decision;
}

const anyone = { groups: ['system:authenticated'] };

describe('rule matching: upstream-style cases (rbac TestRuleMatches, ResourceMatches)', () => {
  it.each<[name: string, rule: Omit<StaticRule, 'users' | 'groups'>, Partial<Attributes>, boolean]>(
    [
      ['star verb', { verbs: ['*'], resources: ['nodes'] }, { verb: 'delete' }, true],
      ['star verb, empty verb', { verbs: ['*'], resources: ['nodes'] }, { verb: '' }, true],
      ['exact verb', { verbs: ['get'], resources: ['nodes'] }, { verb: 'get' }, true],
      ['other verb', { verbs: ['get'], resources: ['nodes'] }, { verb: 'list' }, false],
      ['verbs are case-sensitive', { verbs: ['GET'], resources: ['nodes'] }, {}, false],
      [
        'default group is core',
        { verbs: ['get'], resources: ['nodes'] },
        { apiGroup: 'apps' },
        false,
      ],
      [
        'exact group',
        { verbs: ['get'], apiGroups: ['apps'], resources: ['deployments'] },
        { apiGroup: 'apps', resource: 'deployments' },
        true,
      ],
      [
        'star group',
        { verbs: ['get'], apiGroups: ['*'], resources: ['nodes'] },
        { apiGroup: 'metrics.k8s.io' },
        true,
      ],
      ['star resource', { verbs: ['get'], resources: ['*'] }, { resource: 'pods' }, true],
      [
        'star resource covers subresources',
        { verbs: ['get'], resources: ['*'] },
        { subresource: 'proxy' },
        true,
      ],
      ['bare resource: main only', { verbs: ['get'], resources: ['nodes'] }, {}, true],
      [
        'bare resource: not its subresources',
        { verbs: ['get'], resources: ['nodes'] },
        { subresource: 'metrics' },
        false,
      ],
      [
        'exact subresource',
        { verbs: ['get'], resources: ['nodes/metrics'] },
        { subresource: 'metrics' },
        true,
      ],
      [
        'other subresource',
        { verbs: ['get'], resources: ['nodes/metrics'] },
        { subresource: 'proxy' },
        false,
      ],
      [
        'subresource rule: not the main resource',
        { verbs: ['get'], resources: ['nodes/metrics'] },
        {},
        false,
      ],
      [
        'subresource of another resource',
        { verbs: ['get'], resources: ['nodes/metrics'] },
        { resource: 'pods', subresource: 'metrics' },
        false,
      ],
      [
        '*/subresource',
        { verbs: ['get'], resources: ['*/metrics'] },
        { resource: 'pods', subresource: 'metrics' },
        true,
      ],
      [
        '*/subresource: not the main resource',
        { verbs: ['get'], resources: ['*/metrics'] },
        {},
        false,
      ],
      [
        '*/subresource: other subresource',
        { verbs: ['get'], resources: ['*/metrics'] },
        { subresource: 'proxy' },
        false,
      ],
      [
        'resource/* (beyond RBAC): every subresource',
        { verbs: ['get'], resources: ['nodes/*'] },
        { subresource: 'proxy' },
        true,
      ],
      ['resource/*: not the main resource', { verbs: ['get'], resources: ['nodes/*'] }, {}, false],
      [
        'resource/*: not other resources',
        { verbs: ['get'], resources: ['nodes/*'] },
        { resource: 'pods', subresource: 'log' },
        false,
      ],
      [
        '*/*: any subresource',
        { verbs: ['get'], resources: ['*/*'] },
        { resource: 'pods', subresource: 'log' },
        true,
      ],
      ['*/*: not a main resource', { verbs: ['get'], resources: ['*/*'] }, {}, false],
      [
        'resource names',
        { verbs: ['get'], resources: ['nodes/metrics'], resourceNames: ['node-a', 'node-b'] },
        { subresource: 'metrics', name: 'node-b' },
        true,
      ],
      [
        'other resource name',
        { verbs: ['get'], resources: ['nodes/metrics'], resourceNames: ['node-a'] },
        { subresource: 'metrics', name: 'node-c' },
        false,
      ],
      [
        'resource names: not an empty name',
        { verbs: ['get'], resources: ['nodes'], resourceNames: ['node-a'] },
        { name: '' },
        false,
      ],
      [
        'namespaces: any by default',
        { verbs: ['get'], resources: ['pods'] },
        { resource: 'pods', namespace: 'kube-system' },
        true,
      ],
      [
        'namespaces: listed',
        { verbs: ['get'], resources: ['pods'], namespaces: ['monitoring'] },
        { resource: 'pods', namespace: 'monitoring' },
        true,
      ],
      [
        'namespaces: not listed',
        { verbs: ['get'], resources: ['pods'], namespaces: ['monitoring'] },
        { resource: 'pods', namespace: 'default' },
        false,
      ],
      [
        'namespaces: "" is cluster scope',
        { verbs: ['get'], resources: ['nodes'], namespaces: [''] },
        {},
        true,
      ],
      [
        'namespaces: "" is not a namespace',
        { verbs: ['get'], resources: ['pods'], namespaces: [''] },
        { resource: 'pods', namespace: 'default' },
        false,
      ],
      [
        'namespaces: "*"',
        { verbs: ['get'], resources: ['pods'], namespaces: ['*'] },
        { resource: 'pods', namespace: 'default' },
        true,
      ],
      [
        'a resource rule never matches a non-resource request',
        { verbs: ['*'], resources: ['*'], apiGroups: ['*'] },
        { resourceRequest: false, path: '/metrics' },
        false,
      ],
    ],
  )('%s', async (_name, rule, fields, allowed) => {
    expect(await decide([{ ...anyone, ...rule }], resource(fields))).toBe(
      allowed ? 'Allow' : 'NoOpinion',
    );
  });

  it.each<[name: string, urls: string[], path: string, verb: string, boolean]>([
    ['star', ['*'], '/anything/at/all', 'get', true],
    ['exact', ['/metrics'], '/metrics', 'get', true],
    ['exact: not a subpath', ['/metrics'], '/metrics/cadvisor', 'get', false],
    ['exact: not with a trailing slash', ['/metrics'], '/metrics/', 'get', false],
    ['prefix', ['/metrics*'], '/metricsfoo', 'get', true],
    ['subpath prefix', ['/foo/*'], '/foo/bar/one', 'get', true],
    ['subpath prefix: not the parent', ['/foo/*'], '/foo', 'get', false],
    ['subpath prefix: elsewhere', ['/foo/*'], '/me/bar/one', 'get', false],
    ['case-sensitive', ['/metrics'], '/METRICS', 'get', false],
    ['other verb', ['/metrics'], '/metrics', 'post', false],
  ])('nonResourceURLs %s', async (_name, nonResourceURLs, path, verb, allowed) => {
    const rule: StaticRule = { ...anyone, verbs: ['get'], nonResourceURLs };
    expect(await decide([rule], nonResource(path, { verb }))).toBe(allowed ? 'Allow' : 'NoOpinion');
  });

  it('a nonResourceURLs rule never matches a resource request (the kubelet’s are all that)', async () => {
    const rule: StaticRule = { ...anyone, verbs: ['*'], nonResourceURLs: ['*'] };
    const records = kubeletRequestAttributes(ALICE, 'GET', '/metrics', { nodeName: 'node-a' });
    expect(records).toHaveLength(1);
    expect(await decide([rule], records[0] as Attributes)).toBe('NoOpinion');
  });
});

describe('who a rule applies to', () => {
  const rule = (who: Pick<StaticRule, 'users' | 'groups'>): StaticRule => ({
    ...who,
    verbs: ['get'],
    resources: ['nodes/metrics'],
  });
  const metrics = (user: KubeUser): Attributes => resource({ user, subresource: 'metrics' });

  it.each<[string, Pick<StaticRule, 'users' | 'groups'>, KubeUser, boolean]>([
    ['user by name', { users: [PROMETHEUS.username] }, PROMETHEUS, true],
    ['another user', { users: [PROMETHEUS.username] }, ALICE, false],
    ['group', { groups: ['system:serviceaccounts:monitoring'] }, PROMETHEUS, true],
    ['no listed group', { groups: ['system:serviceaccounts:monitoring'] }, ALICE, false],
    ['users OR groups: by user', { users: ['alice'], groups: ['ops'] }, ALICE, true],
    ['users OR groups: by group', { users: ['bob'], groups: ['devs'] }, ALICE, true],
    ['a user name is not a group', { groups: ['alice'] }, ALICE, false],
    ['a group is not a user name', { users: ['devs'] }, ALICE, false],
    ['names are exact', { users: ['Alice'], groups: ['Devs'] }, ALICE, false],
  ])('%s', async (_name, who, user, allowed) => {
    expect(await decide([rule(who)], metrics(user))).toBe(allowed ? 'Allow' : 'NoOpinion');
  });
});

describe('the kubelet’s own records (kubeletRequestAttributes)', () => {
  const rules: StaticRule[] = [
    {
      users: [PROMETHEUS.username],
      verbs: ['get'],
      resources: ['nodes/metrics', 'nodes/stats'],
      resourceNames: ['node-a'],
    },
    { groups: ['system:nodes'], verbs: ['get'], resources: ['nodes/healthz'] },
  ];
  const node = { username: 'system:node:node-b', groups: ['system:nodes'] };

  it.each<[string, string, string, string, string[]]>([
    ['prometheus', 'GET', '/metrics', 'node-a', ['Allow']],
    ['prometheus', 'GET', '/metrics/cadvisor', 'node-a', ['Allow']],
    ['prometheus', 'GET', '/stats/summary', 'node-a', ['Allow']],
    ['prometheus', 'HEAD', '/metrics', 'node-a', ['Allow']],
    ['prometheus', 'POST', '/metrics', 'node-a', ['NoOpinion']],
    ['prometheus', 'GET', '/metrics', 'node-b', ['NoOpinion']],
    ['prometheus', 'GET', '/pods', 'node-a', ['NoOpinion', 'NoOpinion']],
    ['prometheus', 'GET', '/logs/', 'node-a', ['NoOpinion']],
    ['alice', 'GET', '/metrics', 'node-a', ['NoOpinion']],
    ['node', 'GET', '/healthz', 'node-a', ['Allow', 'NoOpinion']],
    ['node', 'GET', '/healthz/ping', 'node-a', ['Allow', 'NoOpinion']],
    ['node', 'GET', '/configz', 'node-a', ['NoOpinion', 'NoOpinion']],
  ])('%s: %s %s on %s', async (who, method, path, nodeName, expected) => {
    const user = { prometheus: PROMETHEUS, alice: ALICE, node }[who] as KubeUser;
    const records = kubeletRequestAttributes(user, method, path, { nodeName });
    const decisions: string[] = [];
    for (const record of records) decisions.push(await decide(rules, record));
    expect(decisions).toEqual(expected);
  });

  it('the first matching rule is named in the reason', async () => {
    const authorizer = staticAuthorizer([
      { users: ['bob'], verbs: ['*'], resources: ['*'] },
      { groups: ['devs'], verbs: ['get'], resources: ['nodes/stats'] },
      { users: ['alice'], verbs: ['get'], resources: ['nodes/*'] },
    ]);
    const [record] = kubeletRequestAttributes(ALICE, 'GET', '/stats/summary', {
      nodeName: 'node-a',
    });
    expect(await authorizer.authorize(record as Attributes)).toEqual({
      decision: 'Allow',
      reason: 'allowed by staticAuthorizer rules[1]',
    });
  });

  it('answers are constants, frozen, shared by every request', async () => {
    const authorizer = staticAuthorizer(rules);
    const a = resource({ user: PROMETHEUS, subresource: 'metrics' });
    const b = resource({ user: PROMETHEUS, subresource: 'stats' });
    expect(authorizer.peek?.(a)).toBe(authorizer.peek?.(b));
    expect(Object.isFrozen(authorizer.peek?.(a))).toBe(true);
    expect(authorizer.authorize(a)).toBe(authorizer.authorize(b));
    expect(authorizer.peek?.(resource())).toBe(authorizer.peek?.(nonResource('/x')));
  });
});

describe('agrees with what RBAC would answer (the testkit’s evaluator)', () => {
  // Static rules mean "what a binding of this rule would allow", without asking: for rules the
  // testkit's stand-in policy also understands, both must decide every record alike.
  const rules: StaticRule[] = [
    { users: [PROMETHEUS.username], verbs: ['get'], resources: ['nodes/metrics', 'nodes/stats'] },
    { groups: ['ops'], verbs: ['*'], resources: ['nodes/*'], resourceNames: ['node-a'] },
    { groups: ['devs'], verbs: ['get', 'create'], resources: ['*/log', 'nodes'] },
    { users: ['alice'], verbs: ['get'], apiGroups: ['*'], resources: ['*'] },
    { groups: ['viewers'], verbs: ['get'], nonResourceURLs: ['/healthz', '/debug/*'] },
  ];
  const policy = compilePolicy({ rules });
  const users: KubeUser[] = [
    PROMETHEUS,
    ALICE,
    { username: 'bob', groups: ['devs'] },
    { username: 'oscar', groups: ['ops'] },
    { username: 'vera', groups: ['viewers'] },
    { username: 'system:anonymous', groups: ['system:unauthenticated'] },
  ];
  const records: Attributes[] = [];
  for (const user of users) {
    for (const method of ['GET', 'POST', 'DELETE']) {
      for (const path of ['/metrics', '/stats/summary', '/pods', '/logs/x', '/exec/a/b/c']) {
        for (const nodeName of ['node-a', 'node-b']) {
          records.push(...kubeletRequestAttributes(user, method, path, { nodeName }));
        }
      }
      for (const path of ['/healthz', '/healthz/x', '/debug/pprof', '/debug']) {
        records.push(nonResource(path, { user, verb: method === 'GET' ? 'get' : 'create' }));
      }
      records.push(resource({ user, apiGroup: 'apps', resource: 'deployments' }));
      records.push(resource({ user, resource: 'pods', subresource: 'log', namespace: 'x' }));
    }
  }

  it(`on ${records.length} records`, async () => {
    const authorizer = staticAuthorizer(rules);
    let allowed = 0;
    for (const record of records) {
      const spec = subjectAccessReviewSpec(record);
      const rbac = policy.evaluate({
        ...spec,
        user: record.user.username,
        groups: record.user.groups,
      });
      const ours = (await authorizer.authorize(record)).decision === 'Allow';
      expect([spec, ours]).toEqual([spec, rbac.allowed]);
      if (ours) allowed += 1;
    }
    // Both kinds of answer are exercised.
    expect(allowed).toBeGreaterThan(20);
    expect(records.length - allowed).toBeGreaterThan(20);
  });
});

describe('configuration: a TypeError naming the rule index and field', () => {
  const ok = { users: ['alice'], verbs: ['get'], resources: ['nodes/metrics'] };

  it.each<[string, unknown, string]>([
    ['not an object', 'alice', 'staticAuthorizer: rules[0] must be an object'],
    ['null', null, 'staticAuthorizer: rules[0] must be an object'],
    [
      'no subject',
      { verbs: ['get'], resources: ['nodes'] },
      'staticAuthorizer: rules[0] names no users or groups, so it could never apply',
    ],
    [
      'empty subjects',
      { users: [], groups: [], verbs: ['get'], resources: ['nodes'] },
      'staticAuthorizer: rules[0] names no users or groups, so it could never apply',
    ],
    [
      'users not a list',
      { ...ok, users: 'alice' },
      'staticAuthorizer: rules[0].users must be a list of strings',
    ],
    [
      'empty user',
      { ...ok, users: [''] },
      'staticAuthorizer: rules[0].users[0] must be a non-empty string',
    ],
    [
      'wildcard user',
      { ...ok, users: ['*'] },
      'staticAuthorizer: rules[0].users[0] is "*", which is no wildcard here: name the users or groups (e.g. system:authenticated)',
    ],
    [
      'wildcard group',
      { ...ok, users: undefined, groups: ['ops', '*'] },
      'staticAuthorizer: rules[0].groups[1] is "*", which is no wildcard here: name the users or groups (e.g. system:authenticated)',
    ],
    [
      'no verbs',
      { users: ['alice'], resources: ['nodes'] },
      'staticAuthorizer: rules[0].verbs must be a non-empty list of strings',
    ],
    [
      'empty verbs',
      { ...ok, verbs: [] },
      'staticAuthorizer: rules[0].verbs must be a non-empty list of strings',
    ],
    [
      'empty verb',
      { ...ok, verbs: [''] },
      'staticAuthorizer: rules[0].verbs[0] must be a non-empty string',
    ],
    [
      'neither resources nor URLs',
      { users: ['alice'], verbs: ['get'] },
      'staticAuthorizer: rules[0] needs either resources or nonResourceURLs',
    ],
    [
      'both resources and URLs',
      { ...ok, nonResourceURLs: ['/metrics'] },
      'staticAuthorizer: rules[0] needs either resources or nonResourceURLs, not both',
    ],
    [
      'empty resources',
      { ...ok, resources: [] },
      'staticAuthorizer: rules[0].resources must be a non-empty list of strings',
    ],
    [
      'two slashes',
      { ...ok, resources: ['nodes/metrics/x'] },
      'staticAuthorizer: rules[0].resources[0] ("nodes/metrics/x") must be "resource", "resource/subresource", "*" or "*/subresource"',
    ],
    [
      'empty subresource',
      { ...ok, resources: ['nodes/'] },
      'staticAuthorizer: rules[0].resources[0] ("nodes/") must be "resource", "resource/subresource", "*" or "*/subresource"',
    ],
    [
      'empty resource',
      { ...ok, resources: ['nodes', '/metrics'] },
      'staticAuthorizer: rules[0].resources[1] ("/metrics") must be "resource", "resource/subresource", "*" or "*/subresource"',
    ],
    [
      'partial star',
      { ...ok, resources: ['node*'] },
      'staticAuthorizer: rules[0].resources[0] ("node*") may use "*" only as a whole resource or subresource',
    ],
    [
      'partial star in subresource',
      { ...ok, resources: ['nodes/metr*'] },
      'staticAuthorizer: rules[0].resources[0] ("nodes/metr*") may use "*" only as a whole resource or subresource',
    ],
    [
      'empty apiGroups',
      { ...ok, apiGroups: [] },
      'staticAuthorizer: rules[0].apiGroups must be a non-empty list of strings',
    ],
    [
      'empty namespaces',
      { ...ok, namespaces: [] },
      'staticAuthorizer: rules[0].namespaces must be a non-empty list of strings',
    ],
    [
      'empty resourceNames (RBAC would read it as every name)',
      { ...ok, resourceNames: [] },
      'staticAuthorizer: rules[0].resourceNames must be a non-empty list of strings',
    ],
    [
      'empty resource name',
      { ...ok, resourceNames: [''] },
      'staticAuthorizer: rules[0].resourceNames[0] must be a non-empty string',
    ],
    [
      'URL without a slash',
      { users: ['alice'], verbs: ['get'], nonResourceURLs: ['metrics'] },
      'staticAuthorizer: rules[0].nonResourceURLs[0] ("metrics") must start with "/"',
    ],
    [
      'URL with an inner star',
      { users: ['alice'], verbs: ['get'], nonResourceURLs: ['/a*b'] },
      'staticAuthorizer: rules[0].nonResourceURLs[0] ("/a*b") may have one "*", only at the end',
    ],
    [
      'URL with a dot segment',
      { users: ['alice'], verbs: ['get'], nonResourceURLs: ['/a/../b'] },
      'staticAuthorizer: rules[0].nonResourceURLs[0] ("/a/../b") has a "." or ".." segment, which no accepted request path has',
    ],
    [
      'URL with an escape',
      { users: ['alice'], verbs: ['get'], nonResourceURLs: ['/a%20b'] },
      'staticAuthorizer: rules[0].nonResourceURLs[0] ("/a%20b") has a "%": paths are matched decoded, so write the character itself',
    ],
    [
      'namespaces with URLs',
      { users: ['alice'], verbs: ['get'], nonResourceURLs: ['/x'], namespaces: ['a'] },
      'staticAuthorizer: rules[0].namespaces only goes with resources, not nonResourceURLs',
    ],
    [
      'apiGroups with URLs',
      { users: ['alice'], verbs: ['get'], nonResourceURLs: ['/x'], apiGroups: [''] },
      'staticAuthorizer: rules[0].apiGroups only goes with resources, not nonResourceURLs',
    ],
    [
      'a misspelt field that would widen the rule',
      { ...ok, namespace: ['monitoring'] },
      'staticAuthorizer: rules[0]: unknown field "namespace" (did you mean "namespaces"?)',
    ],
    [
      'misspelt case',
      { ...ok, resourcenames: ['node-a'] },
      'staticAuthorizer: rules[0]: unknown field "resourcenames" (did you mean "resourceNames"?)',
    ],
    [
      'a kube-rbac-proxy field',
      { ...ok, path: '/metrics' },
      'staticAuthorizer: rules[0]: unknown field "path" (known: users, groups, verbs, resources, apiGroups, namespaces, resourceNames, nonResourceURLs)',
    ],
  ])('%s', (_name, rule, message) => {
    expect(() => staticAuthorizer([rule as StaticRule])).toThrow(
      new KubeletAuthError('ERR_INVALID_OPTION', message),
    );
  });

  it('names the index of the failing rule', () => {
    expect(() => staticAuthorizer([ok, { ...ok, verbs: [] }])).toThrow(
      /^staticAuthorizer: rules\[1\]\.verbs /,
    );
  });

  it('the rules must be a list; an empty list has no opinion on anything', async () => {
    expect(() => staticAuthorizer(ok as unknown as StaticRule[])).toThrow(
      new KubeletAuthError('ERR_INVALID_OPTION', 'staticAuthorizer: rules must be a list'),
    );
    expect(await decide([], resource())).toBe('NoOpinion');
  });

  it('does not keep the caller’s arrays: changing them later changes nothing', async () => {
    const rule: StaticRule = { users: ['alice'], verbs: ['get'], resources: ['nodes/metrics'] };
    const authorizer = staticAuthorizer([rule]);
    rule.users?.push('bob');
    rule.resources?.push('*');
    const bob = { username: 'bob', groups: [] };
    expect(authorizer.peek?.(resource({ user: bob, subresource: 'metrics' }))?.decision).toBe(
      'NoOpinion',
    );
    expect(authorizer.peek?.(resource({ subresource: 'proxy' }))?.decision).toBe('NoOpinion');
  });
});
