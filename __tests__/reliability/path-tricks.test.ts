import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import express4 from 'express4';
import fc from 'fast-check';
import type { Attributes } from '../../lib/authz/attributes.js';
import type { Authorizer } from '../../lib/authz/authorizer.js';
import { kubeletAuthz } from '../../lib/authz/middleware.js';
import { anonymousUser } from '../../lib/user.js';

/**
 * The property: for any path a client can send, either the request is refused with 400 before
 * routing, or no route serves it (404), or the route that served it belongs to the subresource
 * that was authorized — or to `proxy`, which on the kubelet grants everything (so it is never
 * less privileged than the route). Checked on Express 5 and Express 4 with kubelet-style routes,
 * both case-insensitive as Express is by default.
 */

type Family =
  'stats' | 'metrics' | 'log' | 'pods' | 'healthz' | 'configz' | 'checkpoint' | 'spec' | 'proxy';

const ROUTES5: [string, Family][] = [
  ['/stats/summary', 'stats'],
  ['/stats/*rest', 'stats'],
  ['/metrics', 'metrics'],
  ['/metrics/*rest', 'metrics'],
  ['/logs/*rest', 'log'],
  ['/pods', 'pods'],
  ['/runningpods', 'pods'],
  ['/healthz', 'healthz'],
  ['/healthz/*rest', 'healthz'],
  ['/configz', 'configz'],
  ['/checkpoint/:ns/:pod/:c', 'checkpoint'],
  ['/spec', 'spec'],
  ['/exec/:ns/:pod/:c', 'proxy'],
  ['/run/:ns/:pod/:c', 'proxy'],
  ['/attach/:ns/:pod/:c', 'proxy'],
  ['/portForward/:ns/:pod', 'proxy'],
  ['/containerLogs/:ns/:pod/:c', 'proxy'],
];
// Express 4 spells wildcards `*`.
const ROUTES4: [string, Family][] = ROUTES5.map(([p, f]) => [p.replace('*rest', '*'), f]);

const BASE_PATHS = [
  '/stats/summary',
  '/stats/container',
  '/metrics',
  '/metrics/cadvisor',
  '/logs/kubelet.log',
  '/pods',
  '/runningpods',
  '/healthz',
  '/healthz/ping',
  '/configz',
  '/checkpoint/ns/pod/c',
  '/spec',
  '/exec/ns/pod/c',
  '/run/ns/pod/c',
  '/attach/ns/pod/c',
  '/portForward/ns/pod',
  '/containerLogs/ns/pod/c',
];

interface Harness {
  server: Server;
  authorized: (string | undefined)[];
}

async function start(makeApp: () => express.Express, routes: [string, Family][]): Promise<Harness> {
  const authorized: (string | undefined)[] = [];
  const recording: Authorizer = {
    async authorize(a: Attributes) {
      authorized.push(a.subresource);
      return { decision: 'Allow' };
    },
  };
  const app = makeApp();
  app.use((req, _res, next) => {
    (req as { user?: unknown }).user = anonymousUser();
    next();
  });
  app.use(kubeletAuthz({ nodeName: 'node-a', authorizer: recording }) as express.RequestHandler);
  for (const [route, family] of routes) {
    app.all(route, (_req, res) => {
      res.status(200).send(family);
    });
  }
  app.use((_req, res) => {
    res.status(404).send('404 page not found');
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s)) as Server;
  });
  return { server, authorized };
}

function send(
  server: Server,
  method: string,
  path: string,
): Promise<{ status: number; body: string }> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A path mutated the ways an attacker would try: case, escapes, dots, slashes, NUL, length. */
const mutatedPath = fc
  .tuple(
    fc.constantFrom(...BASE_PATHS),
    fc.array(
      fc.oneof(
        fc.constant('flip-case'),
        fc.constant('encode-char'),
        fc.constant('dot-segment'),
        fc.constant('dotdot-segment'),
        fc.constant('encoded-dotdot'),
        fc.constant('double-slash'),
        fc.constant('trailing-dot'),
        fc.constant('trailing-slash'),
        fc.constant('nul'),
        fc.constant('encoded-slash'),
        fc.constant('long'),
        fc.constant('prefix-other'),
      ),
      { maxLength: 4 },
    ),
    fc.nat(),
  )
  .map(([base, mutations, seed]) => {
    let path = base;
    let n = seed;
    const pick = (max: number) => {
      n = (n * 1103515245 + 12345) % 2147483648;
      return max <= 0 ? 0 : n % max;
    };
    for (const m of mutations) {
      const i = 1 + pick(path.length - 1);
      switch (m) {
        case 'flip-case': {
          const c = path[i] ?? '';
          path =
            path.slice(0, i) +
            (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) +
            path.slice(i + 1);
          break;
        }
        case 'encode-char': {
          const c = path[i] ?? '';
          if (c !== '%')
            path = `${path.slice(0, i)}%${c.charCodeAt(0).toString(16).padStart(2, '0')}${path.slice(i + 1)}`;
          break;
        }
        case 'dot-segment':
          path = path.replace(/\/(?=[^/]*$)/, '/./');
          break;
        case 'dotdot-segment':
          path = `/stats/../${path.slice(1)}`;
          break;
        case 'encoded-dotdot':
          path = `/stats/%2e%2e/${path.slice(1)}`;
          break;
        case 'double-slash':
          path = `${path.slice(0, i)}/${path.slice(i)}`;
          break;
        case 'trailing-dot':
          path = `${path}.`;
          break;
        case 'trailing-slash':
          path = `${path}/`;
          break;
        case 'nul':
          path = `${path}%00`;
          break;
        case 'encoded-slash':
          path = path.replace('/', '%2F').replace(/^%2F/, '/stats%2F..%2F');
          break;
        case 'long':
          path = `${path}/${'a'.repeat(5000)}`;
          break;
        case 'prefix-other':
          path = `/stats/..${path}`;
          break;
      }
    }
    return path.startsWith('/') ? path : `/${path}`;
  });

describe.each([
  ['Express 5', () => express(), ROUTES5],
  ['Express 4', () => express4() as unknown as express.Express, ROUTES4],
] as const)(
  '%s: the route reached always matches what was authorized',
  (_name, makeApp, routes) => {
    let h: Harness;
    beforeAll(async () => {
      h = await start(makeApp, routes);
    });
    afterAll(() => new Promise<void>((resolve) => h.server.close(() => resolve())));

    it('every base kubelet path is authorized as its own subresource', async () => {
      for (const path of BASE_PATHS) {
        h.authorized.length = 0;
        const res = await send(h.server, 'GET', path);
        expect(res.status).toBe(200);
        expect(h.authorized[0]).toBe(res.body);
      }
    });

    it('holds for any mutated path and method', async () => {
      await fc.assert(
        fc.asyncProperty(
          mutatedPath,
          fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'),
          async (path, method) => {
            h.authorized.length = 0;
            const res = await send(h.server, method, path);
            if (res.status === 400) {
              expect(h.authorized).toEqual([]); // refused before anything was authorized
              return;
            }
            expect(h.authorized.length).toBeGreaterThan(0); // never routed without authorization
            if (res.status === 404) return;
            expect(res.status).toBe(200);
            if (method === 'HEAD') return; // no body to tell the route by
            expect([res.body, 'proxy']).toContain(h.authorized[0]);
          },
        ),
        { numRuns: 400 },
      );
    });

    it.each([
      '/stats/../exec/ns/pod/c',
      '/stats/%2e%2e/exec/ns/pod/c',
      '/stats%2F..%2Fexec/ns/pod/c',
      '/stats/summary%00',
      '/logs/..%2F..%2Fetc/passwd',
    ])('refuses %j with 400 before routing', async (path) => {
      h.authorized.length = 0;
      const res = await send(h.server, 'GET', path);
      expect(res.status).toBe(400);
      expect(res.body).toBe('400 Bad Request');
      expect(h.authorized).toEqual([]);
    });
  },
);
