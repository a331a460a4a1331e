/**
 * The question tests of authorizers and caches ask most: the kubelet's record of
 * `GET /stats/summary` on node-a.
 */
import type { Attributes, KubeUser } from '../../lib/contracts.js';

/** `GET /stats/summary` on node-a by `user` (default: alice, in devs, authenticated). */
export function statsSummary(
  user: KubeUser = { username: 'alice', groups: ['devs', 'system:authenticated'] },
): Attributes {
  return {
    user,
    verb: 'get',
    namespace: '',
    apiGroup: '',
    apiVersion: 'v1',
    resource: 'nodes',
    subresource: 'stats',
    name: 'node-a',
    resourceRequest: true,
    path: '/stats/summary',
  };
}
