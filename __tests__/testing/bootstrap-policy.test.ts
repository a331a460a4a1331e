/**
 * `policy.defaults` loads the bootstrap roles and bindings of Kubernetes v1.34 that callers of
 * a kubelet or an API meet; without it, an empty policy allows nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApiServer } from '../../lib/testing/index.js';
import type { StandInApiServer } from '../../lib/testing/index.js';
import { allowed } from './stand-in-http.js';

let server: StandInApiServer;
beforeAll(async () => {
  server = await startApiServer({ policy: { defaults: true } });
});
afterAll(() => server.close());

const res = (
  user: string,
  groups: string[],
  verb: string,
  resource: string,
  extra: object = {},
) => ({
  user,
  groups,
  resourceAttributes: { verb, resource, namespace: 'team', ...extra },
});
const url = (user: string, groups: string[], path: string, verb = 'get') => ({
  user,
  groups,
  nonResourceAttributes: { path, verb },
});
const AUTHENTICATED = ['system:authenticated'];
const binding = (role: string) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'RoleBinding',
  metadata: { name: `alice-${role}`, namespace: 'team' },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
  subjects: [{ kind: 'User', name: 'alice' }],
});
const clusterBinding = (role: string) => ({
  ...binding(role),
  kind: 'ClusterRoleBinding',
  metadata: { name: `alice-${role}` },
});

describe('bootstrap bindings', () => {
  it.each([
    ['system:masters may do anything', res('root', ['system:masters'], 'delete', 'nodes'), true],
    ['system:masters reach any URL', url('root', ['system:masters'], '/metrics', 'post'), true],
    ['authenticated users GET /healthz', url('u', AUTHENTICATED, '/healthz'), true],
    [
      'authenticated users GET /apis/apps/v1 (discovery)',
      url('u', AUTHENTICATED, '/apis/apps/v1'),
      true,
    ],
    [
      'unauthenticated users GET /version',
      url('system:anonymous', ['system:unauthenticated'], '/version'),
      true,
    ],
    [
      'unauthenticated users may not discover /apis',
      url('system:anonymous', ['system:unauthenticated'], '/apis'),
      false,
    ],
    [
      'authenticated users may not POST /healthz',
      url('u', AUTHENTICATED, '/healthz', 'post'),
      false,
    ],
    ['authenticated users may not get pods', res('u', AUTHENTICATED, 'get', 'pods'), false],
  ])('%s', async (_name, spec, expected) => {
    expect(await allowed(server, spec)).toBe(expected);
  });

  it('an empty policy without defaults allows neither', async () => {
    const bare = await startApiServer();
    try {
      expect(await allowed(bare, res('root', ['system:masters'], 'get', 'pods'))).toBe(false);
      expect(await allowed(bare, url('u', AUTHENTICATED, '/healthz'))).toBe(false);
    } finally {
      await bare.close();
    }
  });
});

describe('bootstrap roles, bound by the test', () => {
  it.each([
    ['view', res('alice', [], 'list', 'pods'), true],
    ['view', res('alice', [], 'get', 'deployments', { group: 'apps', subresource: 'scale' }), true],
    ['view', res('alice', [], 'get', 'secrets'), false],
    ['view', res('alice', [], 'create', 'pods'), false],
    ['edit', res('alice', [], 'create', 'deployments', { group: 'apps' }), true],
    ['edit', res('alice', [], 'get', 'secrets'), true],
    ['edit', res('alice', [], 'list', 'pods'), true],
    [
      'edit',
      res('alice', [], 'create', 'rolebindings', { group: 'rbac.authorization.k8s.io' }),
      false,
    ],
    [
      'admin',
      res('alice', [], 'create', 'rolebindings', { group: 'rbac.authorization.k8s.io' }),
      true,
    ],
    ['admin', res('alice', [], 'delete', 'pods'), true],
    ['admin', res('alice', [], 'update', 'resourcequotas'), false],
  ])('%s in a namespace: %j → %s', async (role, spec, expected) => {
    server.setPolicy({ defaults: true, rbac: [binding(role)] });
    expect(await allowed(server, spec)).toBe(expected);
  });

  it.each([
    [
      'system:kubelet-api-admin',
      res('apiserver', [], 'get', 'nodes', { subresource: 'proxy', namespace: '' }),
      true,
    ],
    [
      'system:kubelet-api-admin',
      res('apiserver', [], 'create', 'nodes', { subresource: 'stats', namespace: '' }),
      true,
    ],
    [
      'system:kubelet-api-admin',
      res('apiserver', [], 'get', 'nodes', { subresource: 'healthz', namespace: '' }),
      true,
    ],
    ['system:kubelet-api-admin', res('apiserver', [], 'delete', 'nodes', { namespace: '' }), false],
    [
      'system:auth-delegator',
      res('apiserver', [], 'create', 'tokenreviews', {
        group: 'authentication.k8s.io',
        namespace: '',
      }),
      true,
    ],
    [
      'system:auth-delegator',
      res('apiserver', [], 'create', 'subjectaccessreviews', {
        group: 'authorization.k8s.io',
        namespace: '',
      }),
      true,
    ],
    ['system:auth-delegator', res('apiserver', [], 'get', 'secrets', { namespace: '' }), false],
  ])('%s: %j → %s', async (role, spec, expected) => {
    server.setPolicy({
      defaults: true,
      rbac: [{ ...clusterBinding(role), subjects: [{ kind: 'User', name: 'apiserver' }] }],
    });
    expect(await allowed(server, spec)).toBe(expected);
  });

  it('a role labelled aggregate-to-view extends view, edit and admin', async () => {
    const crd = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: {
        name: 'widgets-view',
        labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' },
      },
      rules: [{ apiGroups: ['example.com'], resources: ['widgets'], verbs: ['get'] }],
    };
    for (const role of ['view', 'edit', 'admin']) {
      server.setPolicy({ defaults: true, rbac: [crd, binding(role)] });
      expect(
        await allowed(server, res('alice', [], 'get', 'widgets', { group: 'example.com' })),
      ).toBe(true);
    }
  });

  it('a binding to a default role without defaults says how to load it', () => {
    expect(() => server.setPolicy({ rbac: [binding('view')] })).toThrow(
      /ClusterRole view, which the policy does not define \(it is a Kubernetes default role: set policy.defaults to true to load it\)/,
    );
  });
});
