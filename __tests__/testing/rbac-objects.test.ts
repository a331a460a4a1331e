/**
 * RBAC objects a real cluster refuses are refused when the policy is loaded, with the object's
 * name and the field (and a did-you-mean for misspellings), never loaded as a silent grant or
 * deny.
 */
import { describe, expect, it } from '@jest/globals';
import { compilePolicy } from '../../lib/testing/index.js';

const V1 = 'rbac.authorization.k8s.io/v1';
const GROUP = 'rbac.authorization.k8s.io';
const reader = {
  apiVersion: V1,
  kind: 'ClusterRole',
  metadata: { name: 'reader' },
  rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
};
const binding = (
  subjects: object[],
  roleRef: object = { apiGroup: GROUP, kind: 'ClusterRole', name: 'reader' },
) => ({
  apiVersion: V1,
  kind: 'ClusterRoleBinding',
  metadata: { name: 'read' },
  roleRef,
  subjects,
});
const get = (user: string, groups?: string[]) => ({
  user,
  ...(groups ? { groups } : {}),
  resourceAttributes: { verb: 'get', resource: 'pods', namespace: 'ns' },
});

describe('objects kube-apiserver refuses', () => {
  it.each([
    [
      'a ServiceAccount subject with the RBAC apiGroup',
      [reader, binding([{ kind: 'ServiceAccount', apiGroup: GROUP, name: 'sa', namespace: 'ns' }])],
      /ClusterRoleBinding read\): subjects\[0\]\.apiGroup: Unsupported value: "rbac.authorization.k8s.io": supported values: ""/,
    ],
    [
      'a User subject with apiGroup foo',
      [reader, binding([{ kind: 'User', apiGroup: 'foo', name: 'alice' }])],
      /subjects\[0\]\.apiGroup: Unsupported value: "foo": supported values: "rbac.authorization.k8s.io"/,
    ],
    [
      'a roleRef apiGroup with a version',
      [
        reader,
        binding([{ kind: 'User', name: 'alice' }], {
          apiGroup: `${GROUP}/v1`,
          kind: 'ClusterRole',
          name: 'reader',
        }),
      ],
      /roleRef\.apiGroup: Unsupported value: "rbac.authorization.k8s.io\/v1"/,
    ],
    [
      'a rule with nonResourceURLs and resourceNames',
      [{ ...reader, rules: [{ verbs: ['get'], nonResourceURLs: ['/x'], resourceNames: ['n'] }] }],
      /\(ClusterRole reader\): rules\[0\]\.nonResourceURLs: Invalid value: rules cannot apply to both regular resources and non-resource URLs/,
    ],
    [
      'rbac.authorization.k8s.io/v1beta1',
      [{ ...reader, apiVersion: `${GROUP}/v1beta1` }],
      /\(ClusterRole reader\): apiVersion rbac.authorization.k8s.io\/v1beta1 is not served/,
    ],
    [
      'the kind ClusterRolebinding',
      [reader, { ...binding([{ kind: 'User', name: 'a' }]), kind: 'ClusterRolebinding' }],
      /\(ClusterRolebinding read\): no kind "ClusterRolebinding" in rbac.authorization.k8s.io\/v1 \(did you mean "ClusterRoleBinding"\?\)/,
    ],
    [
      'the kind Clusterrole',
      [{ ...reader, kind: 'Clusterrole' }],
      /no kind "Clusterrole" .*\(did you mean "ClusterRole"\?\)/,
    ],
    [
      'an RBAC kind under another apiVersion',
      [{ ...reader, apiVersion: 'v1' }],
      /apiVersion must be rbac.authorization.k8s.io\/v1 for a ClusterRole, not "v1"/,
    ],
    [
      'rule: instead of rules:',
      [{ apiVersion: V1, kind: 'ClusterRole', metadata: { name: 'reader' }, rule: reader.rules }],
      /\(ClusterRole reader\): unknown field "rule" \(did you mean "rules"\?\)/,
    ],
    [
      'an unknown field in a rule',
      [{ ...reader, rules: [{ verbs: ['get'], apiGroups: [''], resource: ['pods'] }] }],
      /rules\[0\]: unknown field "resource" \(did you mean "resources"\?\)/,
    ],
    [
      'an unknown field in a subject',
      [reader, binding([{ kind: 'User', nmae: 'alice' }])],
      /subjects\[0\]: unknown field "nmae" \(did you mean "name"\?\)/,
    ],
    [
      'an unknown field in roleRef',
      [
        reader,
        binding([{ kind: 'User', name: 'a' }], {
          kind: 'ClusterRole',
          name: 'reader',
          namespace: 'x',
        }),
      ],
      /roleRef: unknown field "namespace"/,
    ],
    [
      'an unknown field in metadata',
      [{ ...reader, metadata: { name: 'reader', label: {} } }],
      /metadata: unknown field "label" \(did you mean "labels"\?\)/,
    ],
    [
      'a name with a slash',
      [{ ...reader, metadata: { name: 'a/b' } }],
      /metadata\.name: Invalid value: "a\/b": may not contain '\/'/,
    ],
    [
      'a bad selector operator',
      [
        {
          apiVersion: V1,
          kind: 'ClusterRole',
          metadata: { name: 'agg' },
          aggregationRule: {
            clusterRoleSelectors: [
              { matchExpressions: [{ key: 'k', operator: 'in', values: ['v'] }] },
            ],
          },
        },
      ],
      /matchExpressions\[0\]\.operator: Invalid value: "in": not a valid selector operator/,
    ],
  ])('%s', (_name, rbac, message) => {
    expect(() => compilePolicy({ rbac })).toThrow(TypeError);
    expect(() => compilePolicy({ rbac })).toThrow(message);
  });

  it('refuses a misspelled policy option with a hint', () => {
    expect(() => compilePolicy({ default: true } as never)).toThrow(
      /policy\.default: unknown option \(did you mean "defaults"\?\)/,
    );
  });

  it('accepts what v1 defaults: no apiGroup on User, Group and roleRef', () => {
    const policy = compilePolicy({
      rbac: [
        reader,
        binding(
          [
            { kind: 'User', name: 'alice' },
            { kind: 'Group', name: 'devs' },
          ],
          { kind: 'ClusterRole', name: 'reader' },
        ),
      ],
    });
    expect(policy.evaluate(get('alice')).allowed).toBe(true);
    expect(policy.evaluate(get('bob', ['devs'])).allowed).toBe(true);
    expect(policy.evaluate(get('bob', ['xdevsx'])).allowed).toBe(false);
  });

  it('still skips objects of other API groups', () => {
    const sa = {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'x', namespace: 'y' },
      secrets: [],
    };
    expect(() => compilePolicy({ rbac: [sa, reader] })).not.toThrow();
  });
});
