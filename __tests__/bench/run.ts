/**
 * `npm run bench` (tsx __tests__/bench/run.ts): every scenario of issue 4's benchmark in one run,
 * on this machine, so the ratios compare like with like. Each server runs in its own child
 * process; this process generates the load (autocannon). Loopback only; every wait is bounded.
 *
 * Environment: BENCH_DURATION (s, default 10), BENCH_WARMUP (s, default 2), BENCH_CONNECTIONS
 * (default 50), BENCH_ONLY (comma-separated scenario ids, e.g. `1b,3`), BENCH_CPU_PROF (a
 * directory: server children write a CPU profile there).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, platform, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCA, mintClientCert, mintServingCert } from '../../lib/testing/index.js';
import { measureTokenCacheHeap, ServerChild } from './children.js';
import { cannon, probe, storm } from './load.js';
import type { ClientTls } from './load.js';
import { BENCH } from './protocol.js';
import type { BenchPki, ReviewCounts, ServerScenario } from './protocol.js';
import { mib, render } from './report.js';
import type {
  BenchResults,
  HeapRow,
  Settings,
  StormRow,
  ThroughputRow,
  Verdict,
} from './report.js';

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

const settings: Settings = {
  durationS: envNumber('BENCH_DURATION', 10),
  warmupS: envNumber('BENCH_WARMUP', 2),
  connections: Math.round(envNumber('BENCH_CONNECTIONS', 50)),
  pipelining: 1,
  stormRequests: 1000,
};
const only = new Set(
  (process.env['BENCH_ONLY'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== ''),
);
const selected = (id: string): boolean => only.size === 0 || only.has(id);

const TARGET_RATIO = 0.9;
const TARGET_ADDED_P99_MS = 1;
const TARGET_HEAP_MIB = 64;

interface ThroughputScenario {
  id: string;
  name: string;
  server: ServerScenario;
  /** The scenario whose req/s and p99 this one is compared with. */
  baseline: string | null;
  token?: string;
  /** Present the bench client certificate (HTTPS scenarios). */
  clientCert?: boolean;
  /** Ask the stand-in API server how many reviews reached it while measuring. */
  countReviews?: boolean;
  verdict?: (row: ThroughputRow) => Verdict;
}

const ratioAtLeast = (row: ThroughputRow): boolean | null =>
  row.ratio === null ? null : row.ratio >= TARGET_RATIO;

const SCENARIOS: ThroughputScenario[] = [
  { id: '1a', name: 'bare node:http (the limit)', server: 'bare-node-http', baseline: '1b' },
  { id: '1b', name: 'bare Express', server: 'bare-express', baseline: null },
  {
    id: '2',
    name: 'anonymous + AlwaysAllow',
    server: 'anonymous-always-allow',
    baseline: '1b',
  },
  {
    id: '3',
    name: 'bearer token + Webhook, warm caches',
    server: 'token-webhook',
    baseline: '1b',
    token: BENCH.warmToken,
    countReviews: true,
    verdict: (row) => {
      const ratioMet = ratioAtLeast(row);
      const p99Met = row.addedP99Ms === null ? null : row.addedP99Ms <= TARGET_ADDED_P99_MS;
      return {
        target: `≥${TARGET_RATIO.toFixed(2)}× and added p99 ≤ ${TARGET_ADDED_P99_MS} ms`,
        met: ratioMet === null || p99Met === null ? null : ratioMet && p99Met,
      };
    },
  },
  {
    id: '4a',
    name: 'bare HTTPS Express (client cert sent)',
    server: 'bare-https',
    baseline: null,
    clientCert: true,
  },
  {
    id: '4b',
    name: 'client cert + Webhook, HTTPS',
    server: 'cert-webhook',
    baseline: '4a',
    clientCert: true,
    countReviews: true,
    verdict: (row) => ({ target: `≥${TARGET_RATIO.toFixed(2)}×`, met: ratioAtLeast(row) }),
  },
];

function minus(a: ReviewCounts, b: ReviewCounts): ReviewCounts {
  return {
    tokenReviews: a.tokenReviews - b.tokenReviews,
    subjectAccessReviews: a.subjectAccessReviews - b.subjectAccessReviews,
  };
}

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

async function makePki(dir: string): Promise<{ pki: BenchPki; client: ClientTls }> {
  const clientCA = await createCA({ commonName: 'bench kubelet client CA' });
  const [clientCert, serving] = await Promise.all([
    mintClientCert({ ca: clientCA, user: BENCH.user, groups: ['bench'] }),
    mintServingCert({ hosts: ['127.0.0.1', 'localhost'] }),
  ]);
  const clientCAFile = join(dir, 'client-ca.crt');
  writeFileSync(clientCAFile, clientCA.cert);
  return {
    pki: { servingCert: serving.cert, servingKey: serving.key, clientCAFile },
    client: { ca: serving.cert, cert: clientCert.cert, key: clientCert.key },
  };
}

/** Starts the scenario's server, checks it answers 200, warms it up, measures it. */
async function measure(
  scenario: ThroughputScenario,
  pki: BenchPki,
  client: ClientTls,
): Promise<ThroughputRow> {
  const server = await ServerChild.start(scenario.server, pki);
  try {
    const url = server.url + BENCH.path;
    const headers: Record<string, string> = scenario.token
      ? { authorization: `Bearer ${scenario.token}` }
      : {};
    const tls: ClientTls | undefined = scenario.clientCert
      ? client
      : url.startsWith('https:')
        ? { ca: client.ca }
        : undefined;
    const first = await probe(url, headers, tls);
    if (first.status !== 200) {
      throw new Error(`${scenario.id}: probe answered ${first.status}: ${first.body}`);
    }
    const load = { url, connections: settings.connections, headers, ...(tls ? { tls } : {}) };
    await cannon({ ...load, durationS: settings.warmupS });
    const before = scenario.countReviews ? await server.reviews() : undefined;
    const result = await cannon({ ...load, durationS: settings.durationS });
    const after = scenario.countReviews ? await server.reviews() : undefined;
    return {
      id: scenario.id,
      name: scenario.name,
      baseline: scenario.baseline,
      ratio: null,
      addedP99Ms: null,
      ...result,
      ...(before && after ? { reviewsWhileMeasured: minus(after, before) } : {}),
    };
  } finally {
    await server.close();
  }
}

async function coldStorm(pki: BenchPki): Promise<StormRow> {
  const server = await ServerChild.start('storm', pki);
  try {
    const before = await server.reviews();
    const result = await storm(server.url + BENCH.path, settings.stormRequests, {
      authorization: `Bearer ${BENCH.stormToken}`,
    });
    const reviews = minus(await server.reviews(), before);
    const all200 = result.statuses['200'] === settings.stormRequests;
    return {
      ...result,
      reviews,
      verdict: {
        target: 'exactly 1 TokenReview and 1 SubjectAccessReview (all answered 200)',
        met: all200 && reviews.tokenReviews === 1 && reviews.subjectAccessReviews === 1,
      },
    };
  } finally {
    await server.close();
  }
}

async function tokenCacheHeap(): Promise<HeapRow> {
  const report = await measureTokenCacheHeap();
  const growthMiB = mib(report.heapAfterBytes - report.heapBeforeBytes);
  return {
    ...report,
    growthMiB,
    verdict: { target: `≤ ${TARGET_HEAP_MIB} MiB`, met: growthMiB <= TARGET_HEAP_MIB },
  };
}

/** Ratios and added p99 against each row's baseline, then the verdicts. */
function compare(rows: ThroughputRow[]): void {
  for (const row of rows) {
    const base = rows.find((r) => r.id === row.baseline);
    if (base) {
      row.ratio = row.reqPerSec / base.reqPerSec;
      row.addedP99Ms = row.p99Ms - base.p99Ms;
    }
    const verdict = SCENARIOS.find((s) => s.id === row.id)?.verdict;
    if (verdict) {
      const v = verdict(row);
      // A run with failed or non-2xx responses does not measure what it claims to.
      row.verdict = row.errors + row.timeouts + row.non2xx > 0 ? { ...v, met: false } : v;
    }
  }
}

async function main(): Promise<void> {
  const cpu = cpus()[0];
  const results: BenchResults = {
    machine: {
      cpuModel: cpu ? cpu.model.trim() : 'unknown',
      cores: availableParallelism(),
      node: process.version,
      platform: `${platform()} ${release()}`,
      date: new Date().toISOString(),
      loadAvg1m: { start: loadavg()[0] ?? 0, end: 0 },
    },
    settings,
    throughput: [],
  };

  const dir = mkdtempSync(join(tmpdir(), 'eka-bench-'));
  try {
    const { pki, client } = await makePki(dir);
    for (const scenario of SCENARIOS.filter((s) => selected(s.id))) {
      log(`${scenario.id} ${scenario.name}…`);
      results.throughput.push(await measure(scenario, pki, client));
    }
    compare(results.throughput);
    if (selected('5')) {
      log(`5 cold storm (${settings.stormRequests} concurrent requests)…`);
      results.storm = await coldStorm(pki);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (selected('6')) {
    log('6 token cache, 1,000,000 distinct tokens (child process with --expose-gc)…');
    results.tokenCacheHeap = await tokenCacheHeap();
  }

  results.machine.loadAvg1m.end = loadavg()[0] ?? 0;
  const outDir = fileURLToPath(new URL('../../bench-results/', import.meta.url));
  mkdirSync(outDir, { recursive: true });
  const outFile = join(outDir, 'bench.json');
  writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${render(results)}\n\nwritten: ${outFile}\n`);
}

main().then(
  () => {
    // Everything has been closed; should a handle linger, the run still ends.
    setTimeout(() => process.exit(), 5_000).unref();
  },
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : error}\n`);
    process.exit(1);
  },
);
