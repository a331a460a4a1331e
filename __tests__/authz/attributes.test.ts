import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  isSubpath,
  kubeletRequestAttributes,
  kubeletRouteConflict,
  kubeletSubresources,
  kubeletVerb,
} from '../../lib/authz/attributes.js';

describe('isSubpath (upstream TestIsSubPath and derived vectors)', () => {
  it.each([
    ['', '', true],
    ['foo', 'foo', true],
    ['/foo', '/foo', true],
    ['/foo/', '/foo/', true],
    ['/foo/bar', '/foo/bar', true],
    ['/foo', '/', true],
    ['/foo/', '/', true],
    ['/foo/bar', '/', true],
    ['/foo/', '/foo', true],
    ['/foo/bar', '/foo', true],
    ['/foo', '/bar', false],
    ['/foo', '/foobar', false],
    ['/foobar', '/foo', false],
    ['/stats', '/stats/', true],
    ['/statsfoo', '/stats/', false],
    ['/stats//x', '/stats/', true],
    ['/', '/stats/', false],
    ['/metrics/', '/metrics', true],
  ])('isSubpath(%j, %j) is %s', (subpath, path, expected) => {
    expect(isSubpath(subpath, path)).toBe(expected);
  });
});

// Upstream TestGetRequestAttributes, newest kubelet, gate off / gate on.
const TABLE: [path: string, gateOff: string[], gateOn: string[]][] = [
  ['/attach/{podNamespace}/{podID}/{containerName}', ['proxy'], ['proxy']],
  ['/attach/{podNamespace}/{podID}/{uid}/{containerName}', ['proxy'], ['proxy']],
  ['/checkpoint/{podNamespace}/{podID}/{containerName}', ['checkpoint'], ['checkpoint']],
  ['/configz', ['proxy'], ['configz', 'proxy']],
  ['/flagz', ['configz'], ['configz']],
  ['/statusz', ['statusz'], ['statusz']],
  ['/containerLogs/{podNamespace}/{podID}/{containerName}', ['proxy'], ['proxy']],
  ['/debug/flags/v', ['proxy'], ['proxy']],
  ['/debug/pprof/{subpath:*}', ['proxy'], ['proxy']],
  ['/exec/{podNamespace}/{podID}/{containerName}', ['proxy'], ['proxy']],
  ['/exec/{podNamespace}/{podID}/{uid}/{containerName}', ['proxy'], ['proxy']],
  ['/healthz', ['proxy'], ['healthz', 'proxy']],
  ['/healthz/log', ['proxy'], ['healthz', 'proxy']],
  ['/healthz/ping', ['proxy'], ['healthz', 'proxy']],
  ['/healthz/syncloop', ['proxy'], ['healthz', 'proxy']],
  ['/logs/', ['log'], ['log']],
  ['/logs/{logpath:*}', ['log'], ['log']],
  ['/metrics', ['metrics'], ['metrics']],
  ['/metrics/slis', ['metrics'], ['metrics']],
  ['/metrics/cadvisor', ['metrics'], ['metrics']],
  ['/metrics/probes', ['metrics'], ['metrics']],
  ['/metrics/resource', ['metrics'], ['metrics']],
  ['/pods/', ['proxy'], ['pods', 'proxy']],
  ['/portForward/{podNamespace}/{podID}', ['proxy'], ['proxy']],
  ['/portForward/{podNamespace}/{podID}/{uid}', ['proxy'], ['proxy']],
  ['/run/{podNamespace}/{podID}/{containerName}', ['proxy'], ['proxy']],
  ['/run/{podNamespace}/{podID}/{uid}/{containerName}', ['proxy'], ['proxy']],
  ['/runningpods/', ['proxy'], ['pods', 'proxy']],
  ['/stats/', ['stats'], ['stats']],
  ['/stats/summary', ['stats'], ['stats']],
];

const METHODS: [method: string, verb: string][] = [
  ['POST', 'create'],
  ['GET', 'get'],
  ['PUT', 'update'],
  ['PATCH', 'patch'],
  ['DELETE', 'delete'],
];

const user = { username: 'phibby', groups: ['system:authenticated'] };

describe('kubeletRequestAttributes (upstream TestGetRequestAttributes, every path × method)', () => {
  const rows = TABLE.flatMap(([path, off, on]) =>
    METHODS.map(([method, verb]) => [method, path, verb, off, on] as const),
  );
  it.each(rows)('%s %s → verb %s, gate off %j, gate on %j', (method, path, verb, off, on) => {
    for (const [fineGrained, expected] of [
      [false, off],
      [true, on],
    ] as const) {
      const attributes = kubeletRequestAttributes(user, method, path, {
        nodeName: 'test',
        fineGrained,
      });
      expect(attributes).toEqual(
        expected.map((subresource) => ({
          user,
          verb,
          namespace: '',
          apiGroup: '',
          apiVersion: 'v1',
          resource: 'nodes',
          subresource,
          name: 'test',
          resourceRequest: true,
          path,
        })),
      );
    }
  });

  it('defaults to fine-grained authorization', () => {
    expect(
      kubeletRequestAttributes(user, 'GET', '/pods', { nodeName: 'n' }).map((a) => a.subresource),
    ).toEqual(['pods', 'proxy']);
  });
});

describe('derived vectors (the package’s decisions)', () => {
  it.each([
    ['/statsfoo', ['proxy']],
    ['/Stats/summary', ['proxy']],
    ['/runningPods/', ['proxy']],
    ['/runningpods', ['pods', 'proxy']],
    ['/metrics/', ['metrics']],
    ['/metricsfoo', ['proxy']],
    ['/logs', ['log']],
    ['/checkpoint', ['checkpoint']],
    ['/podsx', ['proxy']],
    ['/spec/', ['spec']],
    ['/spec', ['spec']],
    ['/', ['proxy']],
    ['*', ['proxy']],
  ])('%s → %j', (path, expected) => {
    expect(kubeletSubresources(path)).toEqual(expected);
  });

  it.each([
    ['GET', 'get'],
    ['HEAD', 'get'],
    ['POST', 'create'],
    ['PUT', 'update'],
    ['PATCH', 'patch'],
    ['DELETE', 'delete'],
    ['OPTIONS', ''],
    ['TRACE', ''],
    ['CONNECT', ''],
    ['get', ''],
    ['PROPFIND', ''],
    ['toString', ''],
    ['__proto__', ''],
  ])('method %s → verb %j', (method, verb) => {
    expect(kubeletVerb(method)).toBe(verb);
  });
});

describe('kubeletRouteConflict: paths a loosely matching router would serve from another row', () => {
  it.each([
    // Another case: the kubelet's row is proxy (or none), a case-insensitive route's is finer.
    ['/Stats/summary', true],
    ['/STATS', true],
    ['/Metrics/cadvisor', true],
    ['/metricS', true],
    ['/Logs/x', true],
    ['/Checkpoint/ns/p/c', true],
    ['/Spec/', true],
    ['/Statusz', true],
    ['/FLAGZ', true],
    ['/Pods', true],
    ['/HEALTHZ/ping', true],
    ['/Configz', true],
    ['/runningPods/', true],
    // Connect ends a mount path at ".".
    ['/metrics.json', true],
    ['/stats.x/summary', true],
    ['/pods.json', true],
    // The same row either way.
    ['/stats/summary', false],
    ['/stats/Summary', false],
    ['/stats/summary.json', false],
    ['/metrics/cadvisor', false],
    ['/logs/kubelet.log', false],
    ['/logs/A.LOG', false],
    ['/exec/ns/p/c', false],
    ['/EXEC/ns/p/c', false],
    ['/portForward/ns/p', false],
    ['/containerLogs/ns/p/c', false],
    ['/Statsfoo', false],
    ['/metricsx.json', false],
    ['/debug/pprof/', false],
    ['*', false],
  ])('%j → %j', (path, conflict) => {
    expect(kubeletRouteConflict(path)).toBe(conflict);
  });

  it('without fine-grained authorization, /Pods and /HEALTHZ are proxy either way', () => {
    expect(kubeletRouteConflict('/Pods', { fineGrained: false })).toBe(false);
    expect(kubeletRouteConflict('/HEALTHZ', { fineGrained: false })).toBe(false);
    expect(kubeletRouteConflict('/Metrics', { fineGrained: false })).toBe(true);
  });

  it.each([
    // Routers match the path as sent: an escape in a row's prefix misses that row's routes.
    ['/stats/summary', '/%73tats/summary', true],
    ['/metrics', '/metric%73', true],
    ['/checkpoint/ns/p/c', '/%63heckpoint/ns/p/c', true],
    ['/Stats/summary', '/Stat%73/summary', false],
    // An escape after the prefix, or in a proxy path, routes as the decoded path is authorized.
    ['/stats/summary', '/stats/%73ummary', false],
    ['/logs/a b.log', '/logs/a%20b.log', false],
    ['/exec/ns/p/c', '/%65xec/ns/p/c', false],
  ])('%j sent as %j → %j', (path, routed, conflict) => {
    expect(kubeletRouteConflict(path, { routed })).toBe(conflict);
  });

  it('never refuses a path in the tables’ own spelling, whatever follows', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(
          '/stats',
          '/metrics',
          '/logs',
          '/checkpoint',
          '/pods',
          '/healthz',
          '/configz',
          '/runningpods',
          '/statusz',
          '/flagz',
          '/spec',
        ),
        fc.stringMatching(/^(\/[a-zA-Z0-9._-]*)*$/),
        (prefix, rest) => {
          expect(kubeletRouteConflict(prefix + rest)).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });
});
