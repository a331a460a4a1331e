import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  createServer as createHttpServer,
  request as httpRequest,
  Agent,
  type Server as HttpServer,
} from 'node:http';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import express from 'express';
import { kubeletAuth } from '../../lib/index.js';
import type { KubeletAuthOptions } from '../../lib/options.js';
import { createCA, type Fault, type StandInApiServer } from '../../lib/testing/index.js';
import { recordingLogger } from '../support/secrets.js';
import {
  call,
  close,
  listen,
  makePki,
  startPolicyApiServer,
  type Pki,
} from '../integration/harness.js';

let pki: Pki;
let api: StandInApiServer;
const servers: Server[] = [];
const closers: (() => void)[] = [];
const logs: string[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

const TIMEOUT_MS = 1200;

function app(overrides: Partial<KubeletAuthOptions> = {}): express.Express {
  const auth = kubeletAuth({
    nodeName: 'node-a',
    kubeConfig: api.kubeConfig,
    timeout: TIMEOUT_MS,
    authentication: {
      webhook: { enabled: true, cacheTTL: '2m' },
      x509: { clientCAFile: pki.clientCAFile },
    },
    logger: {
      warn: (m) => {
        logs.push(m);
        recordingLogger.warn(m);
      },
    },
    ...overrides,
  });
  closers.push(() => auth.close());
  const a = express();
  a.use(auth);
  a.use((_req, res) => {
    res.send('ok');
  });
  return a;
}

async function kubelet(overrides: Partial<KubeletAuthOptions> = {}): Promise<Server> {
  const server = await listen(pki, app(overrides));
  servers.push(server);
  return server;
}

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  [pki, api] = await Promise.all([makePki(), startPolicyApiServer()]);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  closers.forEach((c) => c());
  await Promise.all(servers.map(close));
  await api.close();
  // The package did log here (refusals, failures); the setup file checks none of it leaks.
  expect(logs.length).toBeGreaterThan(0);
  expect(unhandled).toEqual([]);
});
beforeEach(() => {
  api.setFault();
  api.resetReviews();
});

const FAULTS: [string, Fault][] = [
  ['HTTP 500 (retried until the deadline)', { type: 'status', status: 500 }],
  ['HTTP 503', { type: 'status', status: 503 }],
  ['HTTP 429 with Retry-After', { type: 'status', status: 429, retryAfterSeconds: 1 }],
  ['HTTP 403 for the reviewer itself', { type: 'status', status: 403 }],
  ['a reset in the middle of the body', { type: 'reset' }],
  [
    'a reset of a Content-Length body (client-node would wait forever)',
    { type: 'reset', framing: 'content-length' },
  ],
  ['no answer at all', { type: 'hang' }],
  ['malformed JSON', { type: 'malformed' }],
];

describe.each(FAULTS)('API server fault: %s', (_name, fault) => {
  it('a token request gets 401 within the timeout, and service resumes after', async () => {
    const server = await kubelet({ authorization: { mode: 'AlwaysAllow' } });
    api.setFault(fault);
    await call(server, pki, '/pods', { authorization: 'Bearer alice-token' }).expect(
      401,
      'Unauthorized',
    );
    api.setFault();
    await call(server, pki, '/pods', { authorization: 'Bearer alice-token' }).expect(200);
  });

  it('an authorization gets 500 with the kubelet’s body within the timeout, and nothing is cached', async () => {
    const server = await kubelet();
    api.setFault(fault);
    await call(server, pki, '/stats/summary', { cert: pki.certs.alice }).expect(
      500,
      'Authorization error (user=alice, verb=get, resource=nodes, subresource=stats)',
    );
    api.setFault();
    await call(server, pki, '/stats/summary', { cert: pki.certs.alice }).expect(200);
  });
});

describe('faults of meaning', () => {
  it('TokenReview "authenticated" without a user: 401, not cached', async () => {
    const server = await kubelet({ authorization: { mode: 'AlwaysAllow' } });
    api.setFault({ type: 'authenticated-without-user' });
    await call(server, pki, '/pods', { authorization: 'Bearer alice-token' }).expect(401);
    api.setFault();
    await call(server, pki, '/pods', { authorization: 'Bearer alice-token' }).expect(200);
  });

  it('SubjectAccessReview both allowed and denied: 500', async () => {
    const server = await kubelet();
    api.setFault({ type: 'both-allowed-and-denied' });
    await call(server, pki, '/stats/summary', { cert: pki.certs.alice }).expect(500);
    api.setFault();
    await call(server, pki, '/stats/summary', { cert: pki.certs.alice }).expect(200);
  });

  it('SubjectAccessReview with evaluationError: 403 as upstream (not allowed), and not cached', async () => {
    const server = await kubelet();
    api.setFault({ type: 'evaluation-error', times: 1 });
    await call(server, pki, '/stats/summary', { cert: pki.certs.alice }).expect(403);
    await call(server, pki, '/stats/summary', { cert: pki.certs.alice }).expect(200);
    expect(api.reviews.subjectAccessReviews).toHaveLength(2);
  });

  it('connection refused: 401 for tokens and 500 for authorization, at once', async () => {
    const gone = await startPolicyApiServer();
    const kubeConfig = gone.kubeConfig;
    await gone.close();
    const server = await kubelet({ kubeConfig });
    await call(server, pki, '/pods', { authorization: 'Bearer alice-token' }).expect(401);
    await call(server, pki, '/stats/summary', { cert: pki.certs.alice }).expect(500);
  });

  it('an API server whose certificate the kubeconfig does not trust: 401 / 500', async () => {
    const other = await createCA({ commonName: 'not the API server CA' });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(api.kubeconfigYaml('token'));
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('no cluster');
    kubeConfig.clusters = [
      { ...cluster, caData: Buffer.from(other.cert).toString('base64'), caFile: undefined },
    ];
    const server = await kubelet({ kubeConfig });
    await call(server, pki, '/pods', { authorization: 'Bearer alice-token' }).expect(401);
    await call(server, pki, '/stats/summary', { cert: pki.certs.alice }).expect(500);
    expect(api.reviews.tokenReviews).toHaveLength(0);
    expect(logs.some((l) => /TokenReview failed: /.test(l))).toBe(true);
  });
});

describe('bad Authorization headers get 401 or 431, never 500', () => {
  let server: Server;
  beforeAll(async () => {
    server = await kubelet({ authorization: { mode: 'AlwaysAllow' } });
  });

  it.each([
    ['no scheme', 'alice-token'],
    ['scheme only', 'Bearer'],
    ['extra spaces inside', 'Bearer   alice-token'],
    ['a tab', 'Bearer\talice-token'],
    ['another scheme', 'Basic YWxpY2U6cHc='],
    ['non-ASCII token', 'Bearer tökén'],
    ['a very long token', `Bearer ${'x'.repeat(12_000)}`],
  ])('%s → 401', async (_name, header) => {
    await call(server, pki, '/pods', { authorization: header }).expect(401, 'Unauthorized');
  });

  it('a header over 16 KiB → 431 from Node, before any review', async () => {
    const res = await call(server, pki, '/pods', {
      authorization: `Bearer ${'x'.repeat(17 * 1024)}`,
    }).catch((e: { status?: number; response?: { status: number } }) => e.response ?? e);
    expect(res.status).toBe(431);
    expect(api.reviews.tokenReviews).toHaveLength(0);
  });

  it('several Authorization headers: only the first counts', async () => {
    const { port } = server.address() as AddressInfo;
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpsRequestRaw(port, [
        'Authorization: Bearer nope-token',
        'Authorization: Bearer alice-token',
      ]);
      req.then(resolve, reject);
    });
    expect(status).toBe(401);
  });
});

/** A request with raw repeated headers (clients merge them otherwise). */
async function httpsRequestRaw(port: number, headers: string[]): Promise<number> {
  const { connect } = await import('node:tls');
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: '127.0.0.1', port, ca: pki.serving.cert, servername: 'localhost' },
      () => {
        socket.write(
          `GET /pods HTTP/1.1\r\nHost: localhost\r\n${headers.join('\r\n')}\r\nConnection: close\r\n\r\n`,
        );
      },
    );
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => (data += c));
    socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0)));
    socket.on('error', reject);
  });
}

describe('10,000 faulted requests', () => {
  it('all get 401, with no crash, no unhandled rejection, and no growing memory', async () => {
    // Plain HTTP and keep-alive to the app: the API server side is what is under test.
    const server: HttpServer = createHttpServer(app({ authorization: { mode: 'AlwaysAllow' } }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    api.setFault({ type: 'status', status: 403 });
    const get = () =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            path: '/pods',
            agent,
            headers: { authorization: 'Bearer alice-token' },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end();
      });
    const burst = async (n: number) => {
      const statuses = new Map<number, number>();
      for (let i = 0; i < n; i += 100) {
        const batch = await Promise.all(Array.from({ length: Math.min(100, n - i) }, get));
        for (const s of batch) statuses.set(s, (statuses.get(s) ?? 0) + 1);
      }
      return statuses;
    };
    const gc = (globalThis as { gc?: () => void }).gc;
    await burst(1000); // warm up
    gc?.();
    const before = process.memoryUsage().heapUsed;
    const statuses = await burst(10_000);
    gc?.();
    const growth = process.memoryUsage().heapUsed - before;
    agent.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    expect(Object.fromEntries(statuses)).toEqual({ 401: 10_000 });
    if (gc) expect(growth).toBeLessThan(16 * 1024 * 1024);
  }, 120_000);
});
