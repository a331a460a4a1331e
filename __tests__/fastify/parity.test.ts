/**
 * The Fastify plugin and the Express middleware, given the same options and the same requests
 * (sent byte for byte over TLS, with client certificates), answer the same: status, headers that
 * matter, body; and report the same `onDecision` events, the same Prometheus counts and the same
 * reviews to the API server.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RequestListener } from 'node:http';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import express from 'express';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { fastifyKubeletAuth } from 'express-kubelet-auth/fastify';
import { prometheusMetrics } from 'express-kubelet-auth/metrics';
import { kubeletAuth } from '../../lib/index.js';
import type { DecisionEvent } from '../../lib/contracts.js';
import type { KubeletAuthOptions } from '../../lib/options.js';
import type { Fault, StandInApiServer } from '../../lib/testing/index.js';
import type { IssuedCertificate } from '../../lib/testing/index.js';
import { recordingLogger } from '../support/secrets.js';
import { close, listen, makePki, startPolicyApiServer, type Pki } from '../integration/harness.js';

let pki: Pki;
let api: StandInApiServer;

beforeAll(async () => {
  [pki, api] = await Promise.all([makePki(), startPolicyApiServer()]);
});
afterAll(() => api.close());

interface Step {
  line: string;
  cert?: keyof Pki['certs'];
  token?: string;
  /** Injected for this request only. */
  fault?: Fault;
  /** What kubeletAuth answers (so the comparison cannot pass on two broken answers). */
  status: number;
}

const STEPS: Step[] = [
  { line: 'GET /stats/summary', cert: 'alice', status: 200 },
  { line: 'GET /stats/summary', token: 'alice-token', status: 200 },
  { line: 'GET /stats/summary', token: 'alice-token', status: 200 },
  { line: 'GET /pods', token: 'bob-token', status: 403 },
  { line: 'DELETE /pods/x', cert: 'alice', status: 403 },
  { line: 'GET /stats/summary', status: 401 },
  { line: 'GET /stats/summary', token: 'nope-token', status: 401 },
  { line: 'GET /stats/summary', token: 'error-token', status: 401 },
  { line: 'GET /stats/summary', cert: 'expired', status: 401 },
  { line: 'GET /stats/../pods', cert: 'admin', status: 400 },
  { line: 'GET /logs/%2e%2e/pods', cert: 'admin', status: 400 },
  { line: 'GET /Stats/summary', cert: 'admin', status: 400 },
  { line: 'GET http://node-a:10250/stats/summary?x=1', cert: 'alice', status: 200 },
  { line: 'POST /exec/ns/p/c', cert: 'admin', status: 200 },
  { line: 'HEAD /healthz', cert: 'manyGroups', status: 200 },
  { line: 'GET /metrics/cadvisor', cert: 'withUid', status: 200 },
  {
    line: 'GET /configz',
    cert: 'alice',
    fault: { type: 'status', status: 400, times: 1 },
    status: 500,
  },
  {
    line: 'GET /stats/summary',
    token: 'admin-token',
    fault: { type: 'malformed', times: 1 },
    status: 401,
  },
];

/** One exchange as written on the wire: status, the headers users rely on, the body. */
interface Answer {
  status: number;
  contentType: string | undefined;
  contentLength: string | undefined;
  wwwAuthenticate: string | undefined;
  body: string;
}

/** Sends `line` (request line without the version) as is over TLS and reads the answer. */
function exchange(server: Server, step: Step): Promise<Answer> {
  const cert: IssuedCertificate | undefined = step.cert && pki.certs[step.cert];
  const head = [
    `${step.line} HTTP/1.1`,
    'Host: localhost',
    'Connection: close',
    ...(step.token ? [`Authorization: Bearer ${step.token}`] : []),
  ].join('\r\n');
  return new Promise((resolve, reject) => {
    const socket = connect(
      {
        host: '127.0.0.1',
        port: (server.address() as AddressInfo).port,
        ca: pki.serving.cert,
        servername: 'localhost',
        cert: cert?.cert,
        key: cert?.key,
      },
      () => socket.write(`${head}\r\n\r\n`),
    );
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const [top = '', ...rest] = data.split('\r\n\r\n');
      const [statusLine = '', ...fields] = top.split('\r\n');
      const header = (name: string) =>
        fields.find((f) => f.toLowerCase().startsWith(`${name}:`))?.replace(/^[^:]*:\s*/, '');
      resolve({
        status: Number(statusLine.split(' ')[1]),
        contentType: header('content-type'),
        contentLength: header('content-length'),
        wwwAuthenticate: header('www-authenticate'),
        body: rest.join('\r\n\r\n'),
      });
    });
  });
}

/**
 * Every counter and gauge series, and every histogram's count (its buckets and sum hold
 * latencies), as `name{labels} value` lines.
 */
async function counts(registry: Registry): Promise<string[]> {
  const lines: string[] = [];
  for (const metric of await registry.getMetricsAsJSON()) {
    for (const value of metric.values) {
      const series = (value as { metricName?: string }).metricName ?? metric.name;
      if (String(metric.type) === 'histogram' && !series.endsWith('_count')) continue;
      lines.push(`${series}${JSON.stringify(value.labels)} ${value.value}`);
    }
  }
  return lines.sort();
}

interface Run {
  answers: Answer[];
  events: Omit<DecisionEvent, 'latencyMs'>[];
  metrics: string[];
  reviews: unknown;
}

/** Runs every step against a fresh app made by `make` (given the options), one at a time. */
async function run(
  make: (options: KubeletAuthOptions) => Promise<{ server: Server; close: () => Promise<void> }>,
): Promise<Run> {
  const registry = new Registry();
  const events: Omit<DecisionEvent, 'latencyMs'>[] = [];
  const { server, close: stop } = await make({
    nodeName: 'node-a',
    kubeConfig: api.kubeConfig,
    authentication: { x509: { clientCAFile: pki.clientCAFile } },
    logger: recordingLogger,
    metrics: prometheusMetrics({ registry }),
    onDecision: ({ latencyMs, ...event }) => {
      expect(latencyMs).toBeGreaterThanOrEqual(0);
      events.push(event);
    },
  });
  api.resetReviews();
  const answers: Answer[] = [];
  try {
    for (const step of STEPS) {
      await api.setFault(step.fault);
      answers.push(await exchange(server, step));
      await api.setFault();
    }
  } finally {
    await stop();
  }
  return {
    answers,
    events,
    metrics: await counts(registry),
    reviews: structuredClone(api.reviews),
  };
}

/** A body both apps' routes answer with. */
const echo = (user: unknown) => JSON.stringify({ user });

describe('the same options, the same requests', () => {
  let viaExpress: Run;
  let viaFastify: Run;

  beforeAll(async () => {
    viaExpress = await run(async (options) => {
      const auth = kubeletAuth(options);
      const app = express();
      app.use(auth);
      app.use((req, res) => void res.type('application/json').send(echo(req.user)));
      const server = await listen(pki, app as RequestListener);
      return {
        server,
        close: async () => {
          auth.close();
          await close(server);
        },
      };
    });
    viaFastify = await run(async (options) => {
      const app = Fastify({
        https: {
          key: pki.serving.key,
          cert: pki.serving.cert,
          requestCert: true,
          rejectUnauthorized: false,
        },
      });
      await app.register(fastifyKubeletAuth, options);
      app.all(
        '/*',
        (request, reply) => void reply.type('application/json').send(echo(request.kubeUser)),
      );
      await app.listen({ port: 0, host: '127.0.0.1' });
      return { server: app.server as Server, close: () => app.close() };
    });
  });

  it('kubeletAuth answers as expected (the reference is right)', () => {
    expect(viaExpress.answers.map((a) => a.status)).toEqual(STEPS.map((s) => s.status));
    expect(viaExpress.events.map((e) => e.decision)).toContain('bad-request');
  });

  it.each(STEPS.map((step, i) => [step.line, step.cert ?? step.token ?? '-', i] as const))(
    '%s (%s): the same status, content type, length and body',
    (_line, _who, i) => {
      expect(viaFastify.answers[i]).toEqual(viaExpress.answers[i]);
    },
  );

  it('the same onDecision events, in order', () => {
    expect(viaFastify.events).toEqual(viaExpress.events);
    expect(viaFastify.events).toHaveLength(STEPS.length);
  });

  it('the same Prometheus counts', () => {
    expect(viaFastify.metrics).toEqual(viaExpress.metrics);
    expect(viaFastify.metrics.length).toBeGreaterThan(5);
  });

  it('the same reviews sent to the API server', () => {
    expect(viaFastify.reviews).toEqual(viaExpress.reviews);
  });
});
