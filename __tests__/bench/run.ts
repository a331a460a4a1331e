/**
 * `npm run bench` (tsx __tests__/bench/run.ts): every scenario of the benchmark
 * (docs/benchmarks.md) in one run, on this machine, so the ratios compare like with like. Each server runs in its own child
 * process; this process generates the load (autocannon). Loopback only; every wait is bounded.
 *
 * On 2 shared cores a single run of a scenario moves by ±15 %, so every throughput scenario is
 * measured in BENCH_ROUNDS interleaved rounds (baseline and scenario close together in time),
 * each ratio is taken within its round, and the medians are reported. The sliced A/B
 * (sliced.ts) measures the same ratios with both servers up at once, taking turns in short
 * slices; when it ran, the targets are judged on it.
 *
 * Scenarios 3f and 4f are floors: each does scenario 3's or 4b's required work alone,
 * inline (floor.ts), so that their figures can be read against the least that work costs here.
 * Scenarios 3 and 3f are compared with bare Express answering the same requests, token included
 * (1t), as 4b is with bare HTTPS receiving the same certificate (4a): both sides then parse the
 * same bytes, and the ratio is the middleware's. 1t against 1b shows what sending the token costs
 * by itself.
 *
 * Environment: BENCH_ROUNDS (default 3), BENCH_DURATION (s, default 10), BENCH_WARMUP (s,
 * default 2), BENCH_CONNECTIONS (default 50), BENCH_LATENCY_RATE (req/s, default 1000),
 * BENCH_ONLY (comma-separated scenario ids, e.g. `1b,3`; `i` is the interleaved A/B, `s` the
 * sliced A/B, `m` the middleware alone; `2:3` names one pair of the A/Bs), BENCH_BASELINE_BUILD
 * (a copy of an earlier `dist/` inside the project, e.g. `bench-results/base-dist`: scenarios 2b
 * and 3b serve with it, for the pairs 3b:3 and 2b:2, a change's before and after, and 2b:3b,
 * the bar as that build reads it), BENCH_INTERLEAVED (requests per side, default 5000),
 * BENCH_SLICES (slices per side, default 6), BENCH_SLICE (s, default 2), BENCH_SLICED_REPEATS
 * (times the sliced A/B is repeated with fresh processes, default 3), BENCH_CPU_PROF (a
 * directory: server children write a CPU profile there).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, platform, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCA, mintClientCert, mintServingCert } from '../../lib/testing/index.js';
import { measureTokenCacheHeap, ServerChild } from './children.js';
import { cannon, probe, storm } from './load.js';
import { interleaved } from './interleaved.js';
import { middlewareAlone } from './middleware-alone.js';
import type { ClientTls } from './load.js';
import { BENCH, clientHeaders } from './protocol.js';
import type { BenchPki, ReviewCounts, ServerScenario } from './protocol.js';
import { mib, render } from './report.js';
import { combineRepeats, sliced, type SlicedRow } from './sliced.js';
import type {
  BenchResults,
  HeapRow,
  LatencyRow,
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
  rounds: Math.round(envNumber('BENCH_ROUNDS', 3)),
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
/** Pairs named in BENCH_ONLY as `baseline:subject` (e.g. `2:3`); with any, only those run. */
const onlyPairs = [...only].filter((id) => id.includes(':'));
const pairSelected = (baseline: string, id: string): boolean =>
  onlyPairs.length > 0 ? only.has(`${baseline}:${id}`) : selected(id);

const TARGET_RATIO = 0.9;
/** A copy of an earlier `dist/`, for scenarios 2b and 3b (a change's before/after A/B). */
const BASELINE_BUILD = process.env['BENCH_BASELINE_BUILD'] || undefined;
const TARGET_ADDED_P99_MS = 1;
const TARGET_HEAP_MIB = 64;
const LATENCY_RATE = envNumber('BENCH_LATENCY_RATE', 1000);
const LATENCY_CONNECTIONS = 10;
const INTERLEAVED_REQUESTS = envNumber('BENCH_INTERLEAVED', 5000);
const SLICES = Math.round(envNumber('BENCH_SLICES', 6));
const SLICED_REPEATS = Math.round(envNumber('BENCH_SLICED_REPEATS', 3));
const SLICE_S = envNumber('BENCH_SLICE', 2);

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
  /** Served by the build in BENCH_BASELINE_BUILD rather than `dist/` (a before/after A/B). */
  baselineBuild?: boolean;
  verdict?: (row: ThroughputRow) => Verdict;
}

/** The build that serves `scenario`: BENCH_BASELINE_BUILD's for 2b and 3b, else `dist/`. */
const buildOf = (scenario: ThroughputScenario): string | undefined =>
  scenario.baselineBuild ? BASELINE_BUILD : undefined;
/** 2b and 3b are served only when BENCH_BASELINE_BUILD names a build. */
const servable = (scenario: ThroughputScenario): boolean =>
  !scenario.baselineBuild || BASELINE_BUILD !== undefined;

let latencyAddedP99: number | null = null;
/**
 * Each scenario's sliced A/B (sliced.ts), once measured: its ratio is the one the verdict reads,
 * the rounds' median being the noisier measure of the same thing.
 */
const slicedRows = new Map<string, SlicedRow>();

const pairKey = (baseline: string, id: string): string => `${baseline}→${id}`;

/**
 * The sliced row a scenario's target is read on: the warm token's is its A/B against anonymous
 * (both through the middleware) when that was run, every other its A/B against its baseline.
 */
function targetRow(row: ThroughputRow): SlicedRow | undefined {
  return (
    (row.id === '3' ? slicedRows.get(pairKey('2', '3')) : undefined) ??
    (row.baseline === null ? undefined : slicedRows.get(pairKey(row.baseline, row.id)))
  );
}

/** The ratio target: on the sliced A/B when it was run (and answered only 2xx), else the rounds. */
function ratioAtLeast(row: ThroughputRow): boolean | null {
  const slicedRow = targetRow(row);
  if (slicedRow) return slicedRow.failures === 0 && slicedRow.ratio >= TARGET_RATIO;
  return row.ratio === null ? null : row.ratio >= TARGET_RATIO;
}

/** `≥0.90×`, and which measure it is read on. */
const ratioTarget = (row: ThroughputRow): string =>
  `≥${TARGET_RATIO.toFixed(2)}×${targetRow(row) ? ` (sliced A/B vs ${targetRow(row)?.baseline})` : ''}`;

const SCENARIOS: ThroughputScenario[] = [
  { id: '1a', name: 'bare node:http (the limit)', server: 'bare-node-http', baseline: '1b' },
  { id: '1b', name: 'bare Express', server: 'bare-express', baseline: null },
  {
    // Scenario 3's requests to scenario 1's server: what the token costs before any middleware
    // reads it (parsing, the client's sending), as 4a sends the certificate to bare HTTPS.
    id: '1t',
    name: 'bare Express (token sent)',
    server: 'bare-express',
    baseline: '1b',
    token: BENCH.warmToken,
  },
  {
    id: '1c',
    name: 'Express + a no-op middleware (reference)',
    server: 'noop-middleware',
    baseline: '1b',
  },
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
    baseline: '1t',
    token: BENCH.warmToken,
    countReviews: true,
    verdict: (row) => {
      const ratioMet = ratioAtLeast(row);
      // Added latency is measured below saturation (at saturation p99 is queueing, and follows
      // the throughput ratio); see the fixed-rate line.
      const added = latencyAddedP99 ?? row.addedP99Ms;
      const p99Met = added === null ? null : added <= TARGET_ADDED_P99_MS;
      return {
        target: `${ratioTarget(row)} and added p99 ≤ ${TARGET_ADDED_P99_MS} ms`,
        met: ratioMet === null || p99Met === null ? null : ratioMet && p99Met,
      };
    },
  },
  {
    // Only with BENCH_BASELINE_BUILD: scenario 2 as an earlier build serves it, for that build's
    // own bar (2b:3b).
    id: '2b',
    name: 'anonymous + AlwaysAllow (baseline build)',
    server: 'anonymous-always-allow',
    baseline: null,
    baselineBuild: true,
  },
  {
    // Only with BENCH_BASELINE_BUILD: scenario 3 as an earlier build serves it, so that a
    // change's speed is read as 3 after against 3 before, both up at once.
    id: '3b',
    name: 'bearer token + Webhook, warm caches (baseline build)',
    server: 'token-webhook',
    baseline: null,
    token: BENCH.warmToken,
    baselineBuild: true,
  },
  {
    // 2 and 3 over HTTPS, as the kubelet serves them: the bar where TLS shares the cost.
    id: '2s',
    name: 'anonymous + AlwaysAllow, HTTPS',
    server: 'anonymous-always-allow-https',
    baseline: null,
  },
  {
    id: '3s',
    name: 'bearer token + Webhook, warm caches, HTTPS',
    server: 'token-webhook-https',
    baseline: '2s',
    token: BENCH.warmToken,
    countReviews: true,
    verdict: (row) => ({ target: ratioTarget(row), met: ratioAtLeast(row) }),
  },
  {
    id: '3f',
    name: "floor: 3's required work alone, inline",
    server: 'token-floor',
    baseline: '1t',
    token: BENCH.warmToken,
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
    verdict: (row) => ({ target: ratioTarget(row), met: ratioAtLeast(row) }),
  },
  {
    id: '4f',
    name: "floor: 4b's required work alone, inline",
    server: 'cert-floor',
    baseline: '4a',
    clientCert: true,
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
  apiServer: ServerChild,
  overallRate?: number,
): Promise<ThroughputRow> {
  const server = await ServerChild.start(
    scenario.server,
    pki,
    apiServer.kubeconfig,
    buildOf(scenario),
  );
  try {
    const url = server.url + BENCH.path;
    const headers = clientHeaders(scenario.token);
    const tls: ClientTls | undefined = scenario.clientCert
      ? client
      : url.startsWith('https:')
        ? { ca: client.ca }
        : undefined;
    const first = await probe(url, headers, tls);
    if (first.status !== 200) {
      throw new Error(`${scenario.id}: probe answered ${first.status}: ${first.body}`);
    }
    const load = {
      url,
      connections: overallRate ? LATENCY_CONNECTIONS : settings.connections,
      headers,
      ...(tls ? { tls } : {}),
      ...(overallRate ? { overallRate } : {}),
    };
    await cannon({ ...load, durationS: settings.warmupS });
    const before = scenario.countReviews ? await apiServer.reviews() : undefined;
    const cpuBefore = await server.cpuMicros();
    const result = await cannon({ ...load, durationS: settings.durationS });
    const cpuAfter = await server.cpuMicros();
    const after = scenario.countReviews ? await apiServer.reviews() : undefined;
    return {
      id: scenario.id,
      name: scenario.name,
      baseline: scenario.baseline,
      ratio: null,
      addedP99Ms: null,
      rounds: [],
      cpuMicrosPerRequest: (cpuAfter - cpuBefore) / Math.max(1, result.requests),
      cpuRatio: null,
      ...result,
      ...(before && after ? { reviewsWhileMeasured: minus(after, before) } : {}),
    };
  } finally {
    await server.close();
  }
}

async function coldStorm(pki: BenchPki, apiServer: ServerChild): Promise<StormRow> {
  const server = await ServerChild.start('storm', pki, apiServer.kubeconfig);
  try {
    const before = await apiServer.reviews();
    const result = await storm(
      server.url + BENCH.path,
      settings.stormRequests,
      clientHeaders(BENCH.stormToken),
    );
    const reviews = minus(await apiServer.reviews(), before);
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

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/**
 * One row per scenario from its rounds: the round with the median req/s stands for it; its
 * ratio and added p99 are the medians of the per-round values (each against the baseline
 * measured in the same round). Then the verdicts.
 */
function combine(rounds: ThroughputRow[][]): ThroughputRow[] {
  const ids = (rounds[0] ?? []).map((r) => r.id);
  const rows = ids.map((id) => {
    const runs = rounds.map((round) => round.find((r) => r.id === id) as ThroughputRow);
    const perRound = rounds.map((round, i) => {
      const run = runs[i] as ThroughputRow;
      const base = round.find((r) => r.id === run.baseline);
      return {
        reqPerSec: run.reqPerSec,
        ratio: base ? run.reqPerSec / base.reqPerSec : null,
        addedP99: base ? run.p99Ms - base.p99Ms : null,
        cpuRatio: base ? base.cpuMicrosPerRequest / run.cpuMicrosPerRequest : null,
      };
    });
    const middle = median(runs.map((r) => r.reqPerSec));
    const representative = runs.find((r) => r.reqPerSec === middle) ?? (runs[0] as ThroughputRow);
    const ratios = perRound.map((p) => p.ratio).filter((x): x is number => x !== null);
    const added = perRound.map((p) => p.addedP99).filter((x): x is number => x !== null);
    const cpuRatios = perRound.map((p) => p.cpuRatio).filter((x): x is number => x !== null);
    return {
      ...representative,
      reqPerSec: middle,
      ratio: ratios.length ? median(ratios) : null,
      addedP99Ms: added.length ? median(added) : null,
      cpuMicrosPerRequest: median(runs.map((r) => r.cpuMicrosPerRequest)),
      cpuRatio: cpuRatios.length ? median(cpuRatios) : null,
      rounds: perRound.map(({ reqPerSec, ratio }) => ({ reqPerSec, ratio })),
      errors: runs.reduce((n, r) => n + r.errors, 0),
      timeouts: runs.reduce((n, r) => n + r.timeouts, 0),
      non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
    };
  });
  for (const row of rows) {
    const verdict = SCENARIOS.find((s) => s.id === row.id)?.verdict;
    if (verdict) {
      const v = verdict(row);
      // A run with failed or non-2xx responses does not measure what it claims to.
      row.verdict = row.errors + row.timeouts + row.non2xx > 0 ? { ...v, met: false } : v;
    }
  }
  return rows;
}

/** Scenario 3 against bare Express (token sent) at a fixed rate below saturation, over the rounds. */
async function latency(
  pki: BenchPki,
  client: ClientTls,
  apiServer: ServerChild,
): Promise<LatencyRow | undefined> {
  const base = SCENARIOS.find((s) => s.id === '1t');
  const warm = SCENARIOS.find((s) => s.id === '3');
  if (!base || !warm || !selected('1t') || !selected('3')) return undefined;
  const pairs: [ThroughputRow, ThroughputRow][] = [];
  for (let round = 0; round < settings.rounds; round++) {
    log(`latency at ${LATENCY_RATE} req/s, round ${round + 1}/${settings.rounds}…`);
    const b = await measure(base, pki, client, apiServer, LATENCY_RATE);
    const w = await measure(warm, pki, client, apiServer, LATENCY_RATE);
    pairs.push([b, w]);
  }
  return {
    id: '3',
    baseline: '1t',
    rateRps: LATENCY_RATE,
    connections: LATENCY_CONNECTIONS,
    p50Ms: median(pairs.map(([, w]) => w.p50Ms)),
    p99Ms: median(pairs.map(([, w]) => w.p99Ms)),
    baselineP50Ms: median(pairs.map(([b]) => b.p50Ms)),
    baselineP99Ms: median(pairs.map(([b]) => b.p99Ms)),
    addedP99Ms: median(pairs.map(([b, w]) => w.p99Ms - b.p99Ms)),
  };
}

/** Each scenario that has a baseline, against it: the pairs both A/B methods measure. */
const PAIRS = [
  // The reference: what any one extra middleware measures at (≈ 1.00× when the method works).
  ['1b', '1c'],
  ['1b', '2'],
  ['1b', '1t'],
  ['1t', '3'],
  // The bar the package is held to: a warm token against anonymous, both through kubeletAuth.
  ['2', '3'],
  // A change's own A/B: the same scenario, before (BENCH_BASELINE_BUILD) and after.
  ['3b', '3'],
  // The bar as the earlier build reads it, and anonymous requests before and after.
  ['2b', '3b'],
  ['2b', '2'],
  ['2s', '3s'],
  ['1t', '3f'],
  // The bar as the floor would read it: the least the required work costs against anonymous.
  ['2', '3f'],
  // The package against its floor: what it does beyond the required work.
  ['3f', '3'],
  ['4a', '4b'],
  ['4a', '4f'],
] as const;

/** What a client sends to a scenario's server: its token, its TLS material. */
function sideOf(s: ThroughputScenario, client: ClientTls) {
  return {
    headers: clientHeaders(s.token),
    ...(s.clientCert
      ? { tls: client }
      : s.server.includes('https')
        ? { tls: { ca: client.ca } }
        : {}),
  };
}

/**
 * Runs `measurePair` on each selected pair, with both servers started (and stopped) around it.
 * `method` names the A/B for the progress log.
 */
async function eachPair<Row>(
  method: string,
  pki: BenchPki,
  client: ClientTls,
  apiServer: ServerChild,
  measurePair: (
    ids: { id: string; baseline: string },
    base: { child: ServerChild } & ReturnType<typeof sideOf>,
    subject: { child: ServerChild } & ReturnType<typeof sideOf>,
  ) => Promise<Row>,
): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [baseId, id] of PAIRS) {
    const base = SCENARIOS.find((s) => s.id === baseId);
    const subject = SCENARIOS.find((s) => s.id === id);
    if (!base || !subject || !pairSelected(baseId, id)) continue;
    if (!servable(base) || !servable(subject)) continue;
    log(`${method} ${id} vs ${baseId}…`);
    const a = await ServerChild.start(base.server, pki, apiServer.kubeconfig, buildOf(base));
    const b = await ServerChild.start(subject.server, pki, apiServer.kubeconfig, buildOf(subject));
    try {
      rows.push(
        await measurePair(
          { id, baseline: baseId },
          { child: a, ...sideOf(base, client) },
          { child: b, ...sideOf(subject, client) },
        ),
      );
    } finally {
      await a.close();
      await b.close();
    }
  }
  return rows;
}

/** Each pair, request by request (interleaved.ts). */
function interleavedPairs(pki: BenchPki, client: ClientTls, apiServer: ServerChild) {
  return eachPair('i', pki, client, apiServer, (ids, base, subject) =>
    interleaved(ids, base, subject, BENCH.path, INTERLEAVED_REQUESTS),
  );
}

/**
 * Each pair at saturation, in alternating slices (sliced.ts), repeated with fresh processes:
 * every pair once, then every pair again, so that a pair's repeats are spread over the run.
 */
async function slicedPairs(
  pki: BenchPki,
  client: ClientTls,
  apiServer: ServerChild,
): Promise<SlicedRow[]> {
  const byId = new Map<string, SlicedRow[]>();
  for (let repeat = 0; repeat < SLICED_REPEATS; repeat++) {
    const rows = await eachPair(
      `s (${repeat + 1}/${SLICED_REPEATS})`,
      pki,
      client,
      apiServer,
      (ids, base, subject) =>
        sliced(ids, base, subject, BENCH.path, {
          slices: SLICES,
          sliceS: SLICE_S,
          connections: settings.connections,
        }),
    );
    for (const row of rows) {
      const key = pairKey(row.baseline, row.id);
      byId.set(key, [...(byId.get(key) ?? []), row]);
    }
  }
  return [...byId.values()].map(combineRepeats);
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
    // The stand-in API server runs in a process of its own, as a real one runs elsewhere: the
    // measured servers then differ only by the middleware.
    const apiServer = await ServerChild.start('apiserver', pki);
    try {
      if (selected('m') && apiServer.kubeconfig) {
        log('m the middleware alone, in this process…');
        results.middlewareAlone = await middlewareAlone(apiServer.kubeconfig);
      }
      if (selected('i')) results.interleaved = await interleavedPairs(pki, client, apiServer);
      if (selected('s')) {
        results.sliced = await slicedPairs(pki, client, apiServer);
        for (const row of results.sliced) slicedRows.set(pairKey(row.baseline, row.id), row);
      }
      const latencyRow = await latency(pki, client, apiServer);
      if (latencyRow) {
        results.latency = latencyRow;
        latencyAddedP99 = latencyRow.addedP99Ms;
      }
      const rounds: ThroughputRow[][] = [];
      for (let round = 0; round < settings.rounds; round++) {
        const rows: ThroughputRow[] = [];
        for (const scenario of SCENARIOS.filter((s) => selected(s.id) && servable(s))) {
          log(`${scenario.id} ${scenario.name} (round ${round + 1}/${settings.rounds})…`);
          rows.push(await measure(scenario, pki, client, apiServer));
        }
        rounds.push(rows);
      }
      results.throughput = combine(rounds);
      if (selected('5')) {
        log(`5 cold storm (${settings.stormRequests} concurrent requests)…`);
        results.storm = await coldStorm(pki, apiServer);
      }
    } finally {
      await apiServer.close();
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
