/**
 * ClusterRole aggregation as upstream's controller does it, observed through
 * SubjectAccessReviews over HTTPS.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApiServer } from '../../lib/testing/index.js';
import type { StandInApiServer } from '../../lib/testing/index.js';
import { allowed } from './stand-in-http.js';

const V1 = 'rbac.authorization.k8s.io/v1';

let server: StandInApiServer;
beforeAll(async () => {
  server = await startApiServer();
});
afterAll(() => server.close());

const role = (
  name: string,
  labels: Record<string, string>,
  resources: string[],
  extra: object = {},
) => ({
  apiVersion: V1,
  kind: 'ClusterRole',
  metadata: { name, labels },
  rules: resources.length ? [{ apiGroups: [''], resources, verbs: ['get'] }] : [],
  ...extra,
});
const aggregated = (
  name: string,
  selectors: object[],
  labels: Record<string, string> = {},
  own: string[] = [],
) => role(name, labels, own, { aggregationRule: { clusterRoleSelectors: selectors } });
const bindAlice = (roleName: string) => ({
  apiVersion: V1,
  kind: 'ClusterRoleBinding',
  metadata: { name: `alice-${roleName}` },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
  subjects: [{ kind: 'User', name: 'alice' }],
});
const can = (resource: string) =>
  allowed(server, { user: 'alice', resourceAttributes: { verb: 'get', resource, namespace: 'n' } });

describe('aggregated ClusterRoles', () => {
  it('get the union of the selected roles, their own rules dropped', async () => {
    server.setPolicy({
      rbac: [
        aggregated('monitoring', [{ matchLabels: { 'example.com/monitoring': 'true' } }], {}, [
          'secrets',
        ]),
        role('pods-reader', { 'example.com/monitoring': 'true' }, ['pods']),
        role('nodes-reader', { 'example.com/monitoring': 'true' }, ['nodes']),
        role('other', { 'example.com/monitoring': 'false' }, ['configmaps']),
        bindAlice('monitoring'),
      ],
    });
    expect(await can('pods')).toBe(true);
    expect(await can('nodes')).toBe(true);
    expect(await can('configmaps')).toBe(false);
    expect(await can('secrets')).toBe(false);
  });

  it('combine several selectors, a role matched by more than one counting once', async () => {
    server.setPolicy({
      rbac: [
        aggregated('combined', [
          { matchLabels: { a: 'x' } },
          { matchLabels: { b: 'y' } },
          { matchExpressions: [{ key: 'c', operator: 'Exists' }] },
        ]),
        role('both', { a: 'x', b: 'y' }, ['pods']),
        role('only-b', { b: 'y' }, ['nodes']),
        role('has-c', { c: '' }, ['services']),
        role('a-wrong-value', { a: 'z' }, ['secrets']),
        bindAlice('combined'),
      ],
    });
    expect(await can('pods')).toBe(true);
    expect(await can('nodes')).toBe(true);
    expect(await can('services')).toBe(true);
    expect(await can('secrets')).toBe(false);
  });

  it('match expressions: In, NotIn, DoesNotExist', async () => {
    server.setPolicy({
      rbac: [
        aggregated('expr', [
          {
            matchExpressions: [
              { key: 'tier', operator: 'In', values: ['gold', 'silver'] },
              { key: 'env', operator: 'NotIn', values: ['prod'] },
              { key: 'legacy', operator: 'DoesNotExist' },
            ],
          },
        ]),
        role('gold-dev', { tier: 'gold', env: 'dev' }, ['pods']),
        role('silver-unlabelled-env', { tier: 'silver' }, ['nodes']),
        role('gold-prod', { tier: 'gold', env: 'prod' }, ['secrets']),
        role('gold-legacy', { tier: 'gold', legacy: 'yes' }, ['configmaps']),
        role('bronze', { tier: 'bronze' }, ['services']),
        bindAlice('expr'),
      ],
    });
    expect(await can('pods')).toBe(true);
    expect(await can('nodes')).toBe(true);
    expect(await can('secrets')).toBe(false);
    expect(await can('configmaps')).toBe(false);
    expect(await can('services')).toBe(false);
  });

  it('feed one another (view into edit into admin), in any order', async () => {
    server.setPolicy({
      rbac: [
        bindAlice('top'),
        aggregated('top', [{ matchLabels: { 'to-top': 'true' } }]),
        aggregated('middle', [{ matchLabels: { 'to-middle': 'true' } }], { 'to-top': 'true' }),
        aggregated('bottom', [{ matchLabels: { 'to-bottom': 'true' } }], { 'to-middle': 'true' }),
        role('leaf', { 'to-bottom': 'true' }, ['pods']),
      ],
    });
    expect(await can('pods')).toBe(true);
  });

  it('pick up roles added later with setPolicy', async () => {
    const base = [aggregated('grows', [{ matchLabels: { grow: 'true' } }]), bindAlice('grows')];
    server.setPolicy({ rbac: base });
    expect(await can('pods')).toBe(false);
    server.setPolicy({ rbac: [...base, role('added', { grow: 'true' }, ['pods'])] });
    expect(await can('pods')).toBe(true);
  });

  it('an empty selector selects every other ClusterRole', async () => {
    server.setPolicy({
      rbac: [aggregated('all', [{}]), role('any', {}, ['pods']), bindAlice('all')],
    });
    expect(await can('pods')).toBe(true);
  });
});
