/**
 * One bench server, run in its own process (forked by run.ts) so that it has a core of its own
 * while the load generator uses the other. Waits for a `start` message, listens on 127.0.0.1,
 * answers `ready` with the port; answers `reviews` with what reached the stand-in API server;
 * exits on `close` (or when the runner goes away).
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { RequestListener, Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import express from 'express';
import type { KubeletAuthMiddleware } from '../../lib/index.js';
import { startApiServer } from '../../lib/testing/index.js';
import type { StandInApiServer } from '../../lib/testing/index.js';
import { certFloor, tokenFloor } from './floor.js';
import { builtPackage } from './built-package.js';
import { BENCH } from './protocol.js';
import type { BenchPki, FromServer, ReviewCounts, ServerScenario, ToServer } from './protocol.js';

const { kubeletAuth, silentLogger } = builtPackage;

const BODY = JSON.stringify(BENCH.body);

function send(message: FromServer): void {
  process.send?.(message);
}

/** The stand-in API server: knows both bench tokens, allows `get nodes/stats` to the bench user. */
function standIn(): Promise<StandInApiServer> {
  const user = { username: BENCH.user, uid: 'uid-bench', groups: ['bench'] };
  return startApiServer({
    tokens: { [BENCH.warmToken]: user, [BENCH.stormToken]: user },
    policy: { rules: [{ users: [BENCH.user], verbs: ['get'], resources: ['nodes/stats'] }] },
  });
}

const noop: express.RequestHandler = (_req, _res, next) => next();

/**
 * In-server timing, on only while the runner asks for it (the interleaved A/B): from the app's
 * first middleware to the route, i.e. the middleware under test (or nothing, for a baseline) as
 * it runs inside a busy server rather than in a loop.
 */
const insitu = { recording: false, started: 0n, samples: [] as number[] };

const stamp: express.RequestHandler = (_req, _res, next) => {
  if (insitu.recording) insitu.started = process.hrtime.bigint();
  next();
};

/** The app every Express scenario serves, with or without a middleware (kubeletAuth) in front. */
function expressApp(auth?: express.RequestHandler | KubeletAuthMiddleware): RequestListener {
  const app = express();
  app.use(stamp);
  if (auth) app.use(auth);
  // Named, so that a CPU profile (BENCH_CPU_PROF) tells the route from the middleware.
  app.get(BENCH.path, function benchRoute(_req, res) {
    if (insitu.recording) insitu.samples.push(Number(process.hrtime.bigint() - insitu.started));
    res.json(BENCH.body);
  });
  return app;
}

/** What was recorded since the last call, in µs; recording goes on afresh. */
function insituSince(): number[] {
  const samplesUs = insitu.samples.map((ns) => ns / 1000);
  insitu.samples = [];
  insitu.recording = true;
  return samplesUs;
}

/** The limit: node:http answering the same body with nothing in between. */
const bareNodeHttp: RequestListener = (_req, res) => {
  res.writeHead(200, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(BODY),
  });
  res.end(BODY);
};

interface Built {
  server: HttpServer;
  protocol: 'http' | 'https';
  auth?: KubeletAuthMiddleware;
}

/** The stand-in API server's kubeconfig, as the runner passed it. */
function kubeConfigFrom(yaml: string | undefined): KubeConfig {
  if (!yaml) throw new Error('this scenario needs the stand-in API server’s kubeconfig');
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(yaml);
  return kubeConfig;
}

async function build(
  scenario: Exclude<ServerScenario, 'apiserver'>,
  pki: BenchPki,
  kubeconfig: string | undefined,
): Promise<Built> {
  // As the kubelet (and the integration harness): ask for a client certificate, verify it in
  // the middleware rather than in the TLS handshake.
  const https = (app: RequestListener): HttpServer =>
    createHttpsServer(
      { key: pki.servingKey, cert: pki.servingCert, requestCert: true, rejectUnauthorized: false },
      app,
    );
  const http = (app: RequestListener): HttpServer => createHttpServer(app);

  switch (scenario) {
    case 'bare-node-http':
      return { server: http(bareNodeHttp), protocol: 'http' };
    case 'bare-express':
      return { server: http(expressApp()), protocol: 'http' };
    case 'noop-middleware':
      // What any one extra Express middleware costs, for reference.
      return { server: http(expressApp(noop)), protocol: 'http' };
    case 'anonymous-always-allow':
    case 'anonymous-always-allow-https': {
      const auth = kubeletAuth({
        nodeName: BENCH.nodeName,
        authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
        authorization: { mode: 'AlwaysAllow' },
        logger: silentLogger,
      });
      return scenario === 'anonymous-always-allow'
        ? { server: http(expressApp(auth)), protocol: 'http', auth }
        : { server: https(expressApp(auth)), protocol: 'https', auth };
    }
    case 'token-webhook':
    case 'token-webhook-https':
    case 'storm': {
      const auth = kubeletAuth({
        nodeName: BENCH.nodeName,
        kubeConfig: kubeConfigFrom(kubeconfig),
        authentication: { anonymous: { enabled: false }, webhook: { enabled: true } },
        authorization: { mode: 'Webhook' },
        logger: silentLogger,
      });
      return scenario === 'token-webhook-https'
        ? { server: https(expressApp(auth)), protocol: 'https', auth }
        : { server: http(expressApp(auth)), protocol: 'http', auth };
    }
    case 'token-floor':
      // The least that scenario 3's work can cost (floor.ts).
      return { server: http(expressApp(tokenFloor())), protocol: 'http' };
    case 'bare-https':
      return { server: https(expressApp()), protocol: 'https' };
    case 'cert-floor':
      // The least that scenario 4b's work can cost (floor.ts).
      return {
        server: https(expressApp(certFloor(readFileSync(pki.clientCAFile, 'utf8')))),
        protocol: 'https',
      };
    case 'cert-webhook': {
      const auth = kubeletAuth({
        nodeName: BENCH.nodeName,
        kubeConfig: kubeConfigFrom(kubeconfig),
        authentication: {
          x509: { clientCAFile: pki.clientCAFile },
          anonymous: { enabled: false },
          webhook: { enabled: false },
        },
        authorization: { mode: 'Webhook' },
        logger: silentLogger,
      });
      return { server: https(expressApp(auth)), protocol: 'https', auth };
    }
  }
}

let built: Built | undefined;
let api: StandInApiServer | undefined;

async function start(
  scenario: ServerScenario,
  pki: BenchPki,
  kubeconfig: string | undefined,
): Promise<void> {
  if (scenario === 'apiserver') {
    api = await standIn();
    send({
      type: 'ready',
      port: api.port,
      protocol: 'https',
      kubeconfig: api.kubeconfigYaml('cert'),
    });
    return;
  }
  built = await build(scenario, pki, kubeconfig);
  const { server } = built;
  // The cold storm opens 1,000 connections at once: keep them all in the accept queue.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', backlog: 2048 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  send({ type: 'ready', port: (server.address() as AddressInfo).port, protocol: built.protocol });
}

function counts(): ReviewCounts {
  const reviews = api?.reviews;
  return {
    tokenReviews: reviews?.tokenReviews.length ?? 0,
    subjectAccessReviews: reviews?.subjectAccessReviews.length ?? 0,
  };
}

async function shutdown(code: number): Promise<never> {
  const current = built;
  built = undefined;
  if (current) {
    current.auth?.close();
    current.server.closeAllConnections();
    await new Promise<void>((resolve) => current.server.close(() => resolve()));
  }
  await api?.close();
  // Review clients may keep sockets or timers: the process ends here regardless (a CPU profile,
  // when asked for with --cpu-prof, is still written on exit).
  process.exit(code);
}

process.on('message', (message: ToServer) => {
  switch (message.type) {
    case 'start':
      start(message.scenario, message.pki, message.kubeconfig).catch((error: unknown) => {
        send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
        void shutdown(1);
      });
      break;
    case 'reviews':
      send({ type: 'reviews', id: message.id, counts: counts() });
      break;
    case 'cpu': {
      const { user, system } = process.cpuUsage();
      send({ type: 'cpu', id: message.id, micros: user + system });
      break;
    }
    case 'insitu':
      send({ type: 'insitu', id: message.id, samplesUs: insituSince() });
      break;
    case 'close':
      void shutdown(0);
      break;
  }
});
// The runner died or closed the channel: nothing is left to serve.
process.on('disconnect', () => void shutdown(0));
