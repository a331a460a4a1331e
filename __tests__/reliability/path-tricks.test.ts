import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:http';
import { connect as connectSocket, type AddressInfo } from 'node:net';
import connect from 'connect';
import express from 'express';
import express4 from 'express4';
import fc from 'fast-check';
import { kubeletAuthz } from '../../lib/authz/middleware.js';
import { pathRules } from '../../lib/authz/path-rules.js';
import type {
  Attributes,
  AttributesFunction,
  Authorizer,
  Middleware,
} from '../../lib/contracts.js';
import { anonymousUser } from '../../lib/user.js';

/**
 * The property: whatever target a client sends (any case, percent-encoding, dot segments,
 * separators, origin- or absolute-form) and whatever the caller was granted, a handler that runs
 * was authorized: the record the authorizer allowed is one that handler's rule accepts. Checked
 * over a real socket against Express 5, Express 4 (each with its default, case-insensitive
 * routing, and with `caseSensitive` and `strict` on) and Connect, with every route shape they
 * dispatch by: `app.use(path)`, `Router` mounts, parameters, wildcards and regular expressions.
 * The authorizer is a stub composed into the real middleware: it allows the granted names and
 * records what it allowed.
 */

/** The attribute name a handler is served under: a kubelet subresource, or a pathRules resource. */
type Name = string;

/** For each handler, the allowed records that let it run (a kubelet row and its proxy fallback). */
const KUBELET_ACCEPTS: Record<string, Name[]> = {
  stats: ['stats'],
  metrics: ['metrics'],
  log: ['log'],
  checkpoint: ['checkpoint'],
  spec: ['spec'],
  statusz: ['statusz'],
  pods: ['pods', 'proxy'],
  healthz: ['healthz', 'proxy'],
  configz: ['configz', 'proxy'],
  proxy: ['proxy'],
};
const KUBELET_NAMES = [
  'stats',
  'metrics',
  'log',
  'checkpoint',
  'spec',
  'statusz',
  'pods',
  'healthz',
  'configz',
  'proxy',
];

const RULES_ACCEPTS: Record<string, Name[]> = {
  public: ['public'],
  admin: ['admin'],
  keys: ['keys'],
};
const RULES_NAMES = ['public', 'admin', 'keys'];

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A handler that says who it is in a header (HEAD has no body). */
function handler(name: string): Handler {
  return function serve(_req, res) {
    res.setHeader('x-handler', name);
    res.end(name);
  };
}

function notFound(_req: IncomingMessage, res: ServerResponse): void {
  res.statusCode = 404;
  res.end('404 page not found');
}

interface RoutingOptions {
  caseSensitive: boolean;
  strict: boolean;
}

type ExpressFactory = () => express.Express;

/** The kubelet's routes in every shape Express dispatches by. */
function kubeletExpress(
  make: ExpressFactory,
  version: 4 | 5,
  routing: RoutingOptions,
  auth: Middleware,
): RequestListener {
  const app = make();
  app.set('case sensitive routing', routing.caseSensitive);
  app.set('strict routing', routing.strict);
  const wildcard = version === 5 ? '/*rest' : '/*';
  app.use(auth as express.RequestHandler);
  // A Router mount, with a fixed route and a parameter.
  const stats = express.Router(routing);
  stats.all('/summary', handler('stats'));
  stats.all('/:kind', handler('stats'));
  app.use('/stats', stats);
  // app.use(path) mounts.
  app.use('/metrics', handler('metrics'));
  app.use('/statusz', handler('statusz'));
  // Wildcards.
  app.all(`/logs${wildcard}`, handler('log'));
  app.all(`/healthz${wildcard}`, handler('healthz'));
  // Plain paths and parameters.
  app.all('/healthz', handler('healthz'));
  app.all('/pods', handler('pods'));
  app.all('/runningpods', handler('pods'));
  app.all('/checkpoint/:ns/:pod/:c', handler('checkpoint'));
  app.all('/exec/:ns/:pod/:c', handler('proxy'));
  app.all('/containerLogs/:ns/:pod/:c', handler('proxy'));
  app.all('/portForward/:ns/:pod', handler('proxy'));
  // Regular expressions, one case-insensitive whatever the options.
  app.all(/^\/spec\/?$/i, handler('spec'));
  app.all(/^\/configz$/, handler('configz'));
  app.use(notFound);
  return app;
}

/** The kubelet's routes as Connect mounts them. */
function kubeletConnect(auth: Middleware): RequestListener {
  const app = connect();
  app.use(auth);
  const mounts: [string, string][] = [
    ['/stats', 'stats'],
    ['/metrics', 'metrics'],
    ['/logs', 'log'],
    ['/checkpoint', 'checkpoint'],
    ['/spec', 'spec'],
    ['/statusz', 'statusz'],
    ['/pods', 'pods'],
    ['/runningpods', 'pods'],
    ['/healthz', 'healthz'],
    ['/configz', 'configz'],
    ['/exec', 'proxy'],
    ['/containerLogs', 'proxy'],
    ['/portForward', 'proxy'],
  ];
  for (const [path, name] of mounts) app.use(path, handler(name));
  app.use(notFound);
  return app;
}

const RULES = {
  '/': { resource: 'public' },
  '/admin': { resource: 'admin' },
  '/admin/keys': { resource: 'keys' },
};

function rulesExpress(make: ExpressFactory, routing: RoutingOptions, auth: Middleware) {
  const app = make();
  app.set('case sensitive routing', routing.caseSensitive);
  app.set('strict routing', routing.strict);
  app.use(auth as express.RequestHandler);
  app.use('/admin/keys', handler('keys'));
  const admin = express.Router(routing);
  admin.get('/users', handler('admin'));
  admin.all('/:id', handler('admin'));
  app.use('/admin', admin);
  app.all('/home', handler('public'));
  app.use(notFound);
  return app;
}

function rulesConnect(auth: Middleware): RequestListener {
  const app = connect();
  app.use(auth);
  app.use('/admin/keys', handler('keys'));
  app.use('/admin', handler('admin'));
  app.use('/home', handler('public'));
  app.use(notFound);
  return app;
}

/** What the stub authorizer was asked and what it allowed, for one request at a time. */
interface Recorder {
  granted: Set<Name>;
  asked: Name[];
  allowed: Name[];
}

function stubAuthorizer(recorder: Recorder): Authorizer {
  return {
    async authorize(a: Attributes) {
      const name = a.subresource || a.resource;
      recorder.asked.push(name);
      if (!recorder.granted.has(name)) return { decision: 'Deny' };
      recorder.allowed.push(name);
      return { decision: 'Allow' };
    },
  };
}

/** Puts an anonymous user on the request, then the real authorization middleware. */
function authWith(recorder: Recorder, attributes?: AttributesFunction): Middleware {
  const authz = kubeletAuthz({
    nodeName: 'node-a',
    authorizer: stubAuthorizer(recorder),
    attributes,
  });
  return function authenticatedAuthz(req, res, next) {
    (req as IncomingMessage & { user?: unknown }).user = anonymousUser();
    authz(req, res, next);
  };
}

interface Response {
  status: number;
  handler: string | undefined;
}

/** Writes the request line as given (absolute-form included) and reads the status and handler. */
function send(server: Server, method: string, target: string): Promise<Response> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const socket = connectSocket(port, '127.0.0.1', () =>
      socket.write(`${method} ${target} HTTP/1.1\r\nHost: node-a\r\nConnection: close\r\n\r\n`),
    );
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('end', () => {
      const head = data.slice(0, data.indexOf('\r\n\r\n'));
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0),
        handler: /\r\nx-handler: ([^\r]*)/i.exec(head)?.[1],
      });
    });
    socket.on('error', reject);
  });
}

const KUBELET_PATHS = [
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
  '/statusz',
  '/checkpoint/ns/pod/c',
  '/spec',
  '/exec/ns/pod/c',
  '/containerLogs/ns/pod/c',
  '/portForward/ns/pod',
];
const RULES_PATHS = ['/admin/users', '/admin/42', '/admin/keys', '/admin/keys/k1', '/home'];

const MUTATIONS = [
  'flip-case',
  'upper-first-segment',
  'encode-char',
  'dot-segment',
  'dotdot-segment',
  'encoded-dotdot',
  'double-slash',
  'dot-suffix',
  'trailing-dot',
  'trailing-slash',
  'backslash',
  'nul',
  'encoded-slash',
] as const;

/** A target mutated the ways an attacker would try, in origin- or absolute-form. */
function mutatedTarget(bases: readonly string[]) {
  return fc
    .tuple(
      fc.constantFrom(...bases),
      fc.array(fc.constantFrom(...MUTATIONS), { maxLength: 3 }),
      fc.nat(),
      fc.constantFrom('', 'http://node-a', 'HTTP://node-a:10250', 'https://x@h'),
      fc.constantFrom('', '?x=1', '?a=/../b'),
    )
    .map(([base, mutations, seed, authority, query]) => {
      let path = base;
      let n = seed;
      const pick = (max: number) => {
        n = (n * 1103515245 + 12345) % 2147483648;
        return max <= 0 ? 0 : n % max;
      };
      for (const m of mutations) {
        const i = 1 + pick(path.length - 1);
        const c = path[i] ?? '';
        switch (m) {
          case 'flip-case':
            path =
              path.slice(0, i) +
              (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) +
              path.slice(i + 1);
            break;
          case 'upper-first-segment':
            path = path.replace(/^\/[^/]*/, (s) => s.toUpperCase());
            break;
          case 'encode-char':
            if (c !== '%' && c !== '') {
              const hex = c.charCodeAt(0).toString(16).padStart(2, '0');
              path = `${path.slice(0, i)}%${pick(2) ? hex : hex.toUpperCase()}${path.slice(i + 1)}`;
            }
            break;
          case 'dot-segment':
            path = path.replace(/\/(?=[^/]*$)/, '/./');
            break;
          case 'dotdot-segment':
            path = `/stats/x/../..${path}`;
            break;
          case 'encoded-dotdot':
            path = `/logs/x/%2e%2e/.%2E${path}`;
            break;
          case 'double-slash':
            path = `${path.slice(0, i)}/${path.slice(i)}`;
            break;
          case 'dot-suffix':
            path = path.replace(/^(\/[^/]*)/, '$1.json');
            break;
          case 'trailing-dot':
            path = `${path}.`;
            break;
          case 'trailing-slash':
            path = `${path}/`;
            break;
          case 'backslash':
            path = `${path.slice(0, i)}\\${path.slice(i)}`;
            break;
          case 'nul':
            path = `${path}%00`;
            break;
          case 'encoded-slash':
            path = `/stats%2F..%2F${path.slice(1)}`;
            break;
        }
      }
      return `${authority}${path}${query}`;
    });
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'];

interface Case {
  name: string;
  listener: (recorder: Recorder) => RequestListener;
  accepts: Record<string, Name[]>;
  names: string[];
  paths: string[];
}

const E5: ExpressFactory = () => express();
const E4: ExpressFactory = () => express4() as unknown as express.Express;
const LOOSE: RoutingOptions = { caseSensitive: false, strict: false };
const STRICT: RoutingOptions = { caseSensitive: true, strict: true };
const kubelet = (r: Recorder) => authWith(r);
const rules = (r: Recorder) => authWith(r, pathRules({ rules: RULES }));

const CASES: Case[] = [
  ...(
    [
      ['Express 5', E5, 5, LOOSE],
      ['Express 5 (caseSensitive, strict)', E5, 5, STRICT],
      ['Express 4', E4, 4, LOOSE],
      ['Express 4 (caseSensitive, strict)', E4, 4, STRICT],
    ] as const
  ).flatMap(([name, make, version, routing]): Case[] => [
    {
      name: `${name}, kubelet routes`,
      listener: (r) => kubeletExpress(make, version, routing, kubelet(r)),
      accepts: KUBELET_ACCEPTS,
      names: KUBELET_NAMES,
      paths: KUBELET_PATHS,
    },
    {
      name: `${name}, pathRules`,
      listener: (r) => rulesExpress(make, routing, rules(r)),
      accepts: RULES_ACCEPTS,
      names: RULES_NAMES,
      paths: RULES_PATHS,
    },
  ]),
  {
    name: 'Connect, kubelet routes',
    listener: (r) => kubeletConnect(kubelet(r)),
    accepts: KUBELET_ACCEPTS,
    names: KUBELET_NAMES,
    paths: KUBELET_PATHS,
  },
  {
    name: 'Connect, pathRules',
    listener: (r) => rulesConnect(rules(r)),
    accepts: RULES_ACCEPTS,
    names: RULES_NAMES,
    paths: RULES_PATHS,
  },
];

describe.each(CASES)('$name: a handler runs only under attributes that cover it', (c) => {
  const recorder: Recorder = { granted: new Set(), asked: [], allowed: [] };
  let server: Server;
  beforeAll(async () => {
    server = createServer(c.listener(recorder));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function request(granted: Iterable<Name>, method: string, target: string) {
    recorder.granted = new Set(granted);
    recorder.asked = [];
    recorder.allowed = [];
    return send(server, method, target);
  }

  it('serves every base path, in both forms, from its own handler when everything is granted', async () => {
    for (const path of c.paths) {
      for (const target of [path, `http://node-a${path}`]) {
        const res = await request(c.names, 'GET', target);
        expect(res.status).toBe(200);
        expect(c.accepts[res.handler ?? '']).toContain(recorder.allowed[0]);
      }
    }
  });

  it('holds for any target, method and grant', async () => {
    await fc.assert(
      fc.asyncProperty(
        mutatedTarget(c.paths),
        fc.constantFrom(...METHODS),
        fc.subarray(c.names),
        async (target, method, granted) => {
          const res = await request(granted, method, target);
          if (res.status === 400) {
            expect(recorder.allowed).toEqual([]); // refused before any handler, nothing allowed
          }
          if (res.handler === undefined) return;
          // A handler ran: exactly one record was allowed, and it is one this handler accepts.
          expect(recorder.allowed).toHaveLength(1);
          expect(c.accepts[res.handler]).toContain(recorder.allowed[0]);
        },
      ),
      { numRuns: 150 },
    );
  });
});
