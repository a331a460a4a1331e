/**
 * The route Fastify runs is the one that was authorized, under each of its router options: real
 * Fastify apps with routes like the kubelet's, request targets written as is on the wire. For
 * every request a route serves, the subresources asked about are the kubelet's for the path that
 * route was dispatched (rebuilt from its pattern and parameters), and the path authorized is that
 * path, up to what the options declare equal (a trailing `/`; case). A table pins what the
 * tricky targets get; a property test tries many more.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type AddressInfo } from 'node:net';
import fc from 'fast-check';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { fastifyKubeletAuth } from 'express-kubelet-auth/fastify';
import { kubeletSubresources } from '../../lib/authz/attributes.js';
import type { DecisionEvent } from '../../lib/contracts.js';
import { recordingLogger } from '../support/secrets.js';

/** The kubelet's routes (and a catch-all, as a proxy to containers would have). */
const ROUTES = [
  '/stats/summary',
  '/stats/*',
  '/metrics',
  '/metrics/cadvisor',
  '/metrics/*',
  '/logs/*',
  '/checkpoint/:namespace/:pod/:container',
  '/pods',
  '/runningpods/',
  '/healthz',
  '/configz',
  '/statusz',
  '/flagz',
  '/spec/',
  '/exec/:namespace/:pod/:container',
  '/containerLogs/:namespace/:pod/:container',
  '/*',
];

/** The router options that make Fastify dispatch another path than the one sent. */
type Loosening = 'caseSensitive: false' | 'ignoreDuplicateSlashes' | 'useSemicolonDelimiter';

const SETUPS: [string, FastifyServerOptions, Loosening[]][] = [
  ['defaults', {}, []],
  ['caseSensitive: false', { routerOptions: { caseSensitive: false } }, ['caseSensitive: false']],
  ['ignoreTrailingSlash', { routerOptions: { ignoreTrailingSlash: true } }, []],
  [
    'ignoreDuplicateSlashes',
    { routerOptions: { ignoreDuplicateSlashes: true } },
    ['ignoreDuplicateSlashes'],
  ],
  [
    'useSemicolonDelimiter',
    // Fastify 5 reads it there, though its types leave it out.
    { routerOptions: { useSemicolonDelimiter: true } as FastifyServerOptions['routerOptions'] },
    ['useSemicolonDelimiter'],
  ],
  [
    'all four, at the top level (deprecated there)',
    {
      caseSensitive: false,
      ignoreTrailingSlash: true,
      ignoreDuplicateSlashes: true,
      useSemicolonDelimiter: true,
    },
    ['caseSensitive: false', 'ignoreDuplicateSlashes', 'useSemicolonDelimiter'],
  ],
];

interface Served {
  status: number;
  /** What the route reports: the path it was dispatched, rebuilt from pattern and parameters. */
  dispatched?: string;
}

/** A running app: send a raw request, see what was served and what was decided. */
interface Kubelet {
  app: FastifyInstance;
  options: FastifyServerOptions;
  events: DecisionEvent[];
  send(method: string, target: string): Promise<Served>;
}

async function start(options: FastifyServerOptions): Promise<Kubelet> {
  const events: DecisionEvent[] = [];
  const app = Fastify(options);
  await app.register(fastifyKubeletAuth, {
    nodeName: 'node-a',
    authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
    authorization: { mode: 'AlwaysAllow' },
    logger: recordingLogger,
    onDecision: (event) => events.push(event),
  });
  for (const url of ROUTES) {
    app.route({
      method: ['GET', 'POST', 'DELETE', 'OPTIONS'],
      url,
      handler: async (request) => {
        const params = request.params as Record<string, string>;
        const pattern = request.routeOptions.url ?? '';
        return {
          dispatched: pattern
            .replace(/:(\w+)/g, (_m, name: string) => params[name] ?? '')
            .replace('*', () => params['*'] ?? ''),
        };
      },
    });
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  return {
    app,
    options,
    events,
    send: (method, target) =>
      new Promise((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () =>
          socket.write(`${method} ${target} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`),
        );
        const chunks: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        socket.on('error', reject);
        socket.on('end', () => {
          const data = Buffer.concat(chunks).toString('utf8');
          const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
          const body = data.slice(data.indexOf('\r\n\r\n') + 4);
          resolve(status === 200 ? { status, ...(JSON.parse(body) as object) } : { status });
        });
      }),
  };
}

const kubelets = new Map<string, Kubelet>();
beforeAll(async () => {
  for (const [name, options] of SETUPS) kubelets.set(name, await start(options));
});
afterAll(() => Promise.all([...kubelets.values()].map((k) => k.app.close())));

/**
 * Sends one request and checks the agreement: a request a route served was allowed with the
 * kubelet's subresources for the path that route was dispatched; any other got 400 (from the
 * plugin, or Fastify's own for a target it cannot parse) and ran no route. Returns the status
 * and, for a served request, the subresources asked about.
 */
async function check(kubelet: Kubelet, method: string, target: string): Promise<number | string[]> {
  const before = kubelet.events.length;
  const served = await kubelet.send(method, target);
  const decided = kubelet.events.slice(before);
  if (served.status !== 200) {
    expect([target, served.status]).toEqual([target, 400]);
    expect(decided.map((e) => e.decision)).not.toContain('allowed');
    return served.status;
  }
  expect(decided).toHaveLength(1);
  const event = decided[0] as DecisionEvent;
  const asked = event.attributes.map((a) => a.subresource);
  const dispatched = served.dispatched ?? '';
  expect([target, asked]).toEqual([target, kubeletSubresources(dispatched)]);
  // The same path, up to what the options declare equal: case, and one trailing `/`.
  const router = { ...kubelet.options, ...kubelet.options.routerOptions };
  const fold = (path: string) => (router.caseSensitive === false ? path.toLowerCase() : path);
  const [authorized, routed] = [fold(event.path), fold(dispatched)];
  const trimmed = (path: string) => (path.length > 1 ? path.replace(/\/$/, '') : path);
  const same =
    authorized === routed ||
    (router.ignoreTrailingSlash === true &&
      (trimmed(authorized) === routed || authorized === trimmed(routed)));
  expect([target, authorized, same]).toEqual([target, authorized, true]);
  return asked;
}

/** A target, what it gets (400, or the subresources asked), and the options that refuse it. */
const TABLE: [string, string, number | string[], Loosening[]?][] = [
  ['GET', '/stats/summary', ['stats']],
  ['GET', '/stats/summary/', ['stats']],
  ['GET', 'http://node-a:10250/stats/summary?x=1', ['stats']],
  ['GET', '/pods', ['pods', 'proxy']],
  ['GET', '/pods/', ['pods', 'proxy']],
  ['POST', '/checkpoint/ns/p/c', ['checkpoint']],
  ['GET', '/containerLogs/ns/p/c', ['proxy']],
  ['GET', '/metrics', ['metrics']],
  // Read as the kubelet does, these are proxy; a router could serve them as another row.
  ['GET', '/Stats/summary', 400],
  ['POST', '/CHECKPOINT/ns/p/c', 400],
  ['GET', '/metrics.json', 400],
  ['GET', '/stats%2Fsummary', 400],
  ['GET', '/%73tats/summary', 400],
  ['GET', '/stats/../exec/ns/p/c', 400],
  // What only Fastify reads differently.
  ['OPTIONS', '*', 400],
  ['GET', '/metrics#x', 400],
  ['GET', '/pods?name=a#b', 400],
  ['GET', '//stats/summary', ['proxy'], ['ignoreDuplicateSlashes']],
  ['GET', '/stats//summary', ['stats'], ['ignoreDuplicateSlashes']],
  ['GET', '/metrics;x', ['proxy'], ['useSemicolonDelimiter']],
  ['GET', '/metrics%3Bx', ['proxy']],
  ['POST', '/chec%E2%84%AApoint/ns/p/c', ['proxy'], ['caseSensitive: false']],
  ['GET', '/%53tats/summary', ['proxy'], ['caseSensitive: false']],
  ['GET', '/pods/%C3%84', ['pods', 'proxy'], ['caseSensitive: false']],
];

describe.each(SETUPS)('Fastify with %s', (setup, _options, loosenings) => {
  it.each(TABLE)('%s %s', async (method, target, outcome, refusedWith = []) => {
    const kubelet = kubelets.get(setup) as Kubelet;
    const refused = refusedWith.some((option) => loosenings.includes(option));
    expect(await check(kubelet, method, target)).toEqual(refused ? 400 : outcome);
  });

  it('every target: the route served was the route authorized', async () => {
    const kubelet = kubelets.get(setup) as Kubelet;
    const segment = fc.constantFrom(
      'stats',
      'Stats',
      'summary',
      'metrics',
      'metricS',
      'metrics.json',
      'cadvisor',
      'logs',
      'checkpoint',
      'chec%E2%84%AApoint',
      'pods',
      'po%64s',
      '%50ods',
      'runningpods',
      'healthz',
      'configz',
      'statusz',
      'flagz',
      'spec',
      'exec',
      'containerLogs',
      'ns',
      '',
      '.',
      '..',
      '%2e',
      'a;b',
      'x%3By',
      '%25',
      '%C3%A4',
      'K',
    );
    const target = fc
      .tuple(
        fc.constantFrom('', 'http://node-a:10250', 'HTTP://h'),
        fc.array(fc.tuple(fc.constantFrom('/', '/', '//'), segment), {
          minLength: 1,
          maxLength: 5,
        }),
        fc.constantFrom('', '/', '?q=1', '?q=1#f', '#f', ';p'),
      )
      .map(([origin, parts, end]) => origin + parts.map(([s, p]) => s + p).join('') + end);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'POST', 'DELETE'), target, async (method, t) => {
        await check(kubelet, method, t);
      }),
      { numRuns: 300 },
    );
  });
});
