import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import {
  watchConfigMap,
  type ConfigMapFailure,
  type ConfigMapWatch,
} from '../../lib/apiserver/config-map-watch.js';
import { backoffDelay } from '../../lib/apiserver/watch-backoff.js';
import { silentLogger } from '../../lib/logger.js';
import { mintServingCert, type IssuedCertificate } from '../../lib/testing/index.js';
import { registerSecrets } from '../support/secrets.js';

/**
 * The ConfigMap watch against API servers that misbehave: unreachable, silent, answering
 * garbage, ending every watch at once. A small HTTPS server plays each one; client-node talks
 * to it as to any API server.
 */
let serving: IssuedCertificate;
let server: Server;
/** How the server answers; each test sets it. */
let handler: (req: IncomingMessage, res: ServerResponse) => void;
/** What the server was asked, as `list` or `watch rv=<resourceVersion>`. */
const asked: string[] = [];
const waiting: { count: number; resolve: () => void }[] = [];
const watches: ConfigMapWatch[] = [];

beforeAll(async () => {
  serving = await mintServingCert({ hosts: ['127.0.0.1'] });
  registerSecrets(serving.key);
  server = createServer({ key: serving.key, cert: serving.cert }, (req, res) => {
    const query = new URL(req.url ?? '/', 'https://x').searchParams;
    asked.push(query.get('watch') ? `watch rv=${query.get('resourceVersion') ?? ''}` : 'list');
    for (const w of [...waiting]) {
      if (asked.length >= w.count) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve();
      }
    }
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterEach(() => {
  for (const w of watches.splice(0)) w.close();
  server.closeAllConnections();
  asked.length = 0;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

function kubeConfigFor(url: string, kubeConfig = new KubeConfig()): KubeConfig {
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: url, caData: Buffer.from(serving.cert).toString('base64') }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kubeConfig;
}

/**
 * A KubeConfig whose credential step for a watch waits for `release` (as a slow exec plugin
 * would), and which counts what the watch's connection pool is then asked to send.
 */
class GatedKubeConfig extends KubeConfig {
  sent = 0;
  reached!: Promise<void>;
  release!: () => void;
  private arrive!: () => void;
  private gate!: Promise<void>;
  constructor() {
    super();
    this.reached = new Promise((resolve) => (this.arrive = resolve));
    this.gate = new Promise((resolve) => (this.release = resolve));
  }
  override async applyToFetchOptions(options: Parameters<KubeConfig['applyToFetchOptions']>[0]) {
    // client-node 1.x: only a watch reads its credentials this way.
    await this.waitAtGate();
    const init = await super.applyToFetchOptions(options);
    this.count(init.agent, 'createConnection');
    return init;
  }
  override async applySecurityAuthentication(
    context: Parameters<KubeConfig['applySecurityAuthentication']>[0],
  ) {
    // client-node 2.x: every request does; the watch is the one with `watch=true`.
    const isWatch = context.getUrl().includes('watch=true');
    if (isWatch) await this.waitAtGate();
    await super.applySecurityAuthentication(context);
    const withDispatcher = context as { getDispatcher?: () => unknown };
    if (isWatch) this.count(withDispatcher.getDispatcher?.(), 'dispatch');
  }
  private async waitAtGate() {
    this.arrive();
    await this.gate;
  }
  private count(pool: unknown, method: string) {
    const target = pool as Record<string, unknown> | undefined;
    const original = target?.[method];
    if (!target || typeof original !== 'function') return;
    target[method] = (...args: unknown[]) => {
      this.sent += 1;
      return (original as (...a: unknown[]) => unknown).apply(target, args);
    };
  }
}

/** Starts a watch against `url` (default: the test server), collecting what it reports. */
function start(
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
  timeoutMs = 200,
  kubeConfig?: KubeConfig,
) {
  const seen: string[] = [];
  const failures: ConfigMapFailure[] = [];
  let notify: (() => void) | undefined;
  const next = () => new Promise<void>((resolve) => (notify = resolve));
  const tell = (line: string) => {
    seen.push(line);
    notify?.();
  };
  const watch = watchConfigMap({
    kubeConfig: kubeConfigFor(url, kubeConfig),
    namespace: 'kube-system',
    name: 'auth',
    logger: silentLogger,
    timeoutMs,
    backoff: { initialMs: 5, maxMs: 20, factor: 2, jitter: 0 },
    events: {
      onConfigMap: (data, rv) => tell(`configmap ${rv} ${JSON.stringify(data)}`),
      onMissing: (how) => tell(`missing ${how}`),
      onFailure: (failure) => {
        failures.push(failure);
        tell(`failure ${failure.during}`);
      },
      onRecovered: () => tell('recovered'),
    },
  });
  watches.push(watch);
  return { seen, failures, next, watch };
}

function askedAtLeast(count: number): Promise<void> {
  if (asked.length >= count) return Promise.resolve();
  return new Promise((resolve) => waiting.push({ count, resolve }));
}

/** Watch requests left unanswered, counted as they arrive and as their connections close. */
function heldWatches() {
  let arrivedCount = 0;
  let closedCount = 0;
  const waiters: (() => void)[] = [];
  const wake = () => {
    for (const waiter of waiters.splice(0)) waiter();
  };
  const until = (ready: () => boolean): Promise<void> =>
    new Promise((resolve) => {
      const check = () => (ready() ? resolve() : waiters.push(check));
      check();
    });
  return {
    hold(req: IncomingMessage): void {
      arrivedCount += 1;
      req.socket.once('close', () => {
        closedCount += 1;
        wake();
      });
      wake();
    },
    arrived: (count: number) => until(() => arrivedCount >= count),
    closed: (count: number) => until(() => closedCount >= count),
  };
}

const LIST = JSON.stringify({
  kind: 'ConfigMapList',
  apiVersion: 'v1',
  metadata: { resourceVersion: '7' },
  items: [
    {
      kind: 'ConfigMap',
      apiVersion: 'v1',
      metadata: { name: 'auth', namespace: 'kube-system', resourceVersion: '5' },
      data: { a: '1' },
    },
  ],
});

function json(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(body);
}

describe('watchConfigMap against an API server that misbehaves', () => {
  it('an unreachable API server: the read fails with the network error, and is tried again', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const { failures, next } = start(`https://127.0.0.1:${port}`);
    await next();
    expect(failures).toEqual([{ during: 'read', reason: 'ECONNREFUSED' }]);
  });

  it('a silent API server: the read times out', async () => {
    handler = () => undefined;
    const { failures, next } = start();
    await next();
    expect(failures).toEqual([{ during: 'read', reason: 'timed out after 200 ms' }]);
  });

  it('an answer that is not JSON: a failed read, no crash, then a good read recovers', async () => {
    let lists = 0;
    handler = (req, res) => {
      if (req.url?.includes('watch=')) return; // the watch hangs
      lists += 1;
      json(res, 200, lists === 1 ? '{"kind":"ConfigMapList","items":[' : LIST);
    };
    const { seen, failures, next } = start();
    while (seen.length < 3) await next();
    expect(failures).toHaveLength(1);
    expect(failures[0]).toEqual({ during: 'read', reason: 'the answer is not JSON' });
    expect(seen).toEqual(['failure read', 'recovered', 'configmap 5 {"a":"1"}']);
  });

  it('a 500 from the read: told with its status', async () => {
    handler = (_req, res) => json(res, 500, '{"kind":"Status","code":500}');
    const { failures, next } = start();
    await next();
    expect(failures).toEqual([{ during: 'read', status: 500, reason: 'HTTP 500' }]);
  });

  it('watches that end at once are a failure: listed again after a backoff, told once, not a busy loop', async () => {
    handler = (req, res) => {
      if (!req.url?.includes('watch=')) return json(res, 200, LIST);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end();
    };
    const { failures } = start();
    await askedAtLeast(6);
    expect(asked.slice(0, 6)).toEqual([
      'list',
      'watch rv=7',
      'list',
      'watch rv=7',
      'list',
      'watch rv=7',
    ]);
    expect(failures).toEqual([{ during: 'watch', reason: 'the watch ended at once' }]);
  });

  it('an ERROR event other than 410 ends the watch as a failure, with its status', async () => {
    handler = (req, res) => {
      if (!req.url?.includes('watch=')) return json(res, 200, LIST);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 500 } })}\n`);
    };
    const { failures, next } = start();
    while (failures.length === 0) await next();
    expect(failures).toEqual([{ during: 'watch', status: 500, reason: 'HTTP 500 event' }]);
  });

  it('a watch whose answer never begins: told as timed out, its connection closed, the ConfigMap read again', async () => {
    const held = heldWatches();
    handler = (req, res) => (req.url?.includes('watch=') ? held.hold(req) : json(res, 200, LIST));
    const { failures, next } = start();
    while (failures.length === 0) await next();
    expect(failures).toEqual([{ during: 'watch', reason: 'timed out after 200 ms' }]);
    await held.closed(1);
    await askedAtLeast(3);
    expect(asked.slice(0, 3)).toEqual(['list', 'watch rv=7', 'list']);
  });

  it('a watch whose connection fails before any answer is a failure, even after more than a second', async () => {
    handler = (req, res) => {
      if (!req.url?.includes('watch=')) return json(res, 200, LIST);
      // Longer than a watch that "ended at once"; the connection then goes without an answer.
      setTimeout(() => req.socket.destroy(), 1200);
    };
    const { failures, next } = start(undefined, 60_000);
    while (failures.length === 0) await next();
    expect(failures).toEqual([{ during: 'watch', reason: expect.any(String) }]);
    await askedAtLeast(3);
    expect(asked.slice(0, 3)).toEqual(['list', 'watch rv=7', 'list']);
  });

  it('close() while a watch waits for its answer closes that connection', async () => {
    const held = heldWatches();
    handler = (req, res) => (req.url?.includes('watch=') ? held.hold(req) : json(res, 200, LIST));
    const { watch, failures } = start(undefined, 60_000);
    await askedAtLeast(2);
    await held.arrived(1);
    watch.close();
    await held.closed(1);
    expect(asked).toEqual(['list', 'watch rv=7']);
    expect(failures).toEqual([]);
  });

  it('close() while the watch reads its credentials: the watch sends nothing', async () => {
    handler = (req, res) => (req.url?.includes('watch=') ? undefined : json(res, 200, LIST));
    const gated = new GatedKubeConfig();
    const { watch } = start(undefined, 60_000, gated);
    await gated.reached;
    watch.close();
    gated.release();
    // What the watch would send, it sends as soon as its credentials are in: within this turn.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(gated.sent).toBe(0);
    expect(asked).toEqual(['list']);
  });

  it('a watch refused with 403: told as a watch failure, the ConfigMap still read', async () => {
    handler = (req, res) =>
      req.url?.includes('watch=')
        ? json(res, 403, '{"kind":"Status","code":403}')
        : json(res, 200, LIST);
    const { seen, failures, next } = start();
    while (failures.length === 0) await next();
    expect(seen).toEqual(['configmap 5 {"a":"1"}', 'failure watch']);
    expect(failures).toEqual([{ during: 'watch', status: 403, reason: 'HTTP 403' }]);
  });
});

describe('backoffDelay', () => {
  const backoff = { initialMs: 800, maxMs: 30_000, factor: 2, jitter: 1 };
  it.each([
    [1, 800],
    [2, 1600],
    [3, 3200],
    [6, 25_600],
    [7, 30_000],
    [50, 30_000],
  ])('after %p failures in a row waits %p ms before jitter', (failures, ms) => {
    expect(backoffDelay(backoff, failures, () => 0)).toBe(ms);
    expect(backoffDelay(backoff, failures, () => 0.999999)).toBeCloseTo(2 * ms, 0);
  });
});
