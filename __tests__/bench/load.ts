/**
 * Load generation: autocannon runs (warm-up, then a measured run with every response time kept
 * to the microsecond), single probe requests, and the cold storm of concurrent fresh requests.
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import autocannon from 'autocannon';
import type { Result } from 'autocannon';

/** TLS material a client presents and trusts. */
export interface ClientTls {
  /** PEM the client trusts (the serving certificate). */
  ca: string;
  /** Client certificate and key, PEM, when the client presents one. */
  cert?: string;
  key?: string;
}

export interface LoadOptions {
  url: string;
  durationS: number;
  connections: number;
  headers?: Record<string, string>;
  tls?: ClientTls;
  /** Requests per second across all connections (a fixed rate, to measure latency below saturation). */
  overallRate?: number;
}

export interface LoadResult {
  /** autocannon's mean of per-second request counts. */
  reqPerSec: number;
  /** Percentiles of every response time in the run (not autocannon's 1 ms histogram buckets). */
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  durationS: number;
}

/** The `q` quantile (0..1) of sorted values, nearest rank. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] as number;
}

/** One autocannon run with keep-alive connections and pipelining 1. */
export function cannon(options: LoadOptions): Promise<LoadResult> {
  const times: number[] = [];
  let guard: NodeJS.Timeout | undefined;
  return new Promise<LoadResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        pipelining: 1,
        duration: options.durationS,
        headers: options.headers ?? {},
        ...(options.overallRate ? { overallRate: options.overallRate } : {}),
        // Passed to tls.connect for https URLs (autocannon itself sets rejectUnauthorized: false).
        ...(options.tls ? { tlsOptions: { ...options.tls } } : {}),
      },
      (error: Error | null, result: Result) => {
        clearTimeout(guard);
        if (error) return reject(error);
        const sorted = Float64Array.from(times).sort();
        resolve({
          reqPerSec: result.requests.average,
          p50Ms: quantile(sorted, 0.5),
          p99Ms: quantile(sorted, 0.99),
          requests: result.requests.total,
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          durationS: result.duration,
        });
      },
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      times.push(responseTime);
    });
    // A run that overstays its duration by far is stopped (it then reports what it has).
    guard = setTimeout(() => instance.stop(), (options.durationS + 30) * 1000);
  });
}

export interface ProbeResult {
  status: number;
  body: string;
}

/** One request on a fresh connection (checks a scenario answers 200 before it is measured). */
export function probe(
  url: string,
  headers: Record<string, string> = {},
  tls?: ClientTls,
): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const onResponse = (res: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
      );
    };
    const req =
      target.protocol === 'https:'
        ? httpsRequest(target, { headers, agent: false, ...tls }, onResponse)
        : httpRequest(target, { headers, agent: false }, onResponse);
    req.setTimeout(30_000, () => req.destroy(new Error(`probe of ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

export interface StormResult {
  requests: number;
  /** Responses by status code (`0`: the request failed). */
  statuses: Record<string, number>;
  /** From the first request sent to the last response completed. */
  totalMs: number;
  /** Percentiles of the individual requests' completion times. */
  p50Ms: number;
  p99Ms: number;
}

/**
 * `count` requests fired at once, each on its own new connection (an agent without keep-alive
 * and without a socket limit), all with the same headers.
 */
export async function storm(
  url: string,
  count: number,
  headers: IncomingHttpHeaders,
): Promise<StormResult> {
  const target = new URL(url);
  const agent =
    target.protocol === 'https:'
      ? new HttpsAgent({ keepAlive: false, maxSockets: Infinity })
      : new HttpAgent({ keepAlive: false, maxSockets: Infinity });
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const started = performance.now();
  const one = (): Promise<{ status: number; ms: number }> =>
    new Promise((resolve) => {
      const req = send(target, { headers, agent }, (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }),
        );
      });
      req.setTimeout(60_000, () => req.destroy(new Error('storm request timed out')));
      req.on('error', () => resolve({ status: 0, ms: performance.now() - started }));
      req.end();
    });
  const outcomes = await Promise.all(Array.from({ length: count }, one));
  const totalMs = performance.now() - started;
  agent.destroy();
  const statuses: Record<string, number> = {};
  for (const { status } of outcomes) statuses[status] = (statuses[status] ?? 0) + 1;
  const sorted = Float64Array.from(outcomes, (o) => o.ms).sort();
  return {
    requests: count,
    statuses,
    totalMs,
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
  };
}
