/**
 * Interleaved A/B: two server children (a baseline and a scenario) answer requests in strict
 * alternation, one at a time, on one keep-alive connection each. Whatever the machine does in
 * the meantime (a shared VM's other tenants, the load generator's own scheduling) falls on both
 * alike, so the difference is the middleware's, which 10-second throughput runs on a noisy
 * 2-core VM cannot resolve. Measured per side: the latency of each request, and the server
 * process's CPU time per request (its ratio is what throughput at saturation follows when the
 * server is CPU-bound).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { ServerChild } from './children.js';
import type { ClientTls } from './load.js';
import { mean } from './stats.js';

export interface InterleavedSide {
  /** Latency per request, in µs. */
  p50Us: number;
  meanUs: number;
  /** The server process's CPU time per request, in µs. */
  cpuUs: number;
  /**
   * Inside the server, from the app's first middleware to its route (the middleware under test,
   * or nothing for a baseline), in µs: median and mean.
   */
  insituP50Us: number;
  insituMeanUs: number;
}

export interface InterleavedRow {
  id: string;
  baseline: string;
  requests: number;
  side: InterleavedSide;
  baselineSide: InterleavedSide;
  /** `baselineSide.cpuUs / side.cpuUs`: the throughput ratio a CPU-bound server would see. */
  cpuRatio: number;
  /** Median over requests of (scenario − baseline) latency of adjacent pairs, in µs. */
  addedP50Us: number;
}

interface Target {
  child: ServerChild;
  url: URL;
  headers: Record<string, string>;
  tls?: ClientTls;
  agent: HttpAgent;
}

function target(
  child: ServerChild,
  path: string,
  headers: Record<string, string>,
  tls?: ClientTls,
): Target {
  const url = new URL(child.url + path);
  const agent =
    url.protocol === 'https:'
      ? new HttpsAgent({ keepAlive: true, maxSockets: 1, ...tls })
      : new HttpAgent({ keepAlive: true, maxSockets: 1 });
  return { child, url, headers, ...(tls ? { tls } : {}), agent };
}

/** One request; resolves with its latency in µs once the body has been read. */
function timed(t: Target): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const onResponse = (res: IncomingMessage): void => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`${t.url.href} answered ${res.statusCode}`));
        else resolve(Number(process.hrtime.bigint() - started) / 1000);
      });
    };
    const options = { headers: t.headers, agent: t.agent };
    const req =
      t.url.protocol === 'https:'
        ? httpsRequest(t.url, options, onResponse)
        : httpRequest(t.url, options, onResponse);
    req.setTimeout(30_000, () => req.destroy(new Error(`${t.url.href} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/**
 * Alternates `requests` requests between `baseline` and `subject` (which comes first alternates
 * too), after a warm-up of 500 each.
 */
export async function interleaved(
  ids: { id: string; baseline: string },
  baseline: { child: ServerChild; headers: Record<string, string>; tls?: ClientTls },
  subject: { child: ServerChild; headers: Record<string, string>; tls?: ClientTls },
  path: string,
  requests: number,
): Promise<InterleavedRow> {
  const a = target(baseline.child, path, baseline.headers, baseline.tls);
  const b = target(subject.child, path, subject.headers, subject.tls);
  try {
    for (let i = 0; i < 500; i++) {
      await timed(a);
      await timed(b);
    }
    await a.child.insitu();
    await b.child.insitu();
    const cpuA0 = await a.child.cpuMicros();
    const cpuB0 = await b.child.cpuMicros();
    const la: number[] = [];
    const lb: number[] = [];
    for (let i = 0; i < requests; i++) {
      if (i % 2 === 0) {
        la.push(await timed(a));
        lb.push(await timed(b));
      } else {
        lb.push(await timed(b));
        la.push(await timed(a));
      }
    }
    const cpuA = ((await a.child.cpuMicros()) - cpuA0) / requests;
    const cpuB = ((await b.child.cpuMicros()) - cpuB0) / requests;
    const inA = await a.child.insitu();
    const inB = await b.child.insitu();
    return {
      ...ids,
      requests,
      side: {
        p50Us: median(lb),
        meanUs: mean(lb),
        cpuUs: cpuB,
        insituP50Us: median(inB),
        insituMeanUs: mean(inB),
      },
      baselineSide: {
        p50Us: median(la),
        meanUs: mean(la),
        cpuUs: cpuA,
        insituP50Us: median(inA),
        insituMeanUs: mean(inA),
      },
      cpuRatio: cpuA / cpuB,
      addedP50Us: median(lb.map((x, i) => x - (la[i] as number))),
    };
  } finally {
    a.agent.destroy();
    b.agent.destroy();
  }
}
