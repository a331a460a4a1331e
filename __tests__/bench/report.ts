/**
 * The bench's results: the document written to bench-results/bench.json and the table printed.
 */
import type { LoadResult, StormResult } from './load.js';
import type { InterleavedRow } from './interleaved.js';
import type { SlicedRow } from './sliced.js';
import type { MiddlewareAloneRow } from './middleware-alone.js';
import type { HeapReport, ReviewCounts } from './protocol.js';

export interface Machine {
  cpuModel: string;
  cores: number;
  node: string;
  platform: string;
  date: string;
  /**
   * 1-minute load average when the run started and ended: other work on the machine competes
   * with the two processes measured (a load well above 2 on 2 cores makes numbers noisy).
   */
  loadAvg1m: { start: number; end: number };
}

export interface Settings {
  /** Every throughput scenario is measured this many times, interleaved; medians are reported. */
  rounds: number;
  durationS: number;
  warmupS: number;
  connections: number;
  pipelining: number;
  stormRequests: number;
}

/** A target and whether it was met (`null`: not measured, e.g. its baseline was not run). */
export interface Verdict {
  target: string;
  met: boolean | null;
}

export interface ThroughputRow extends LoadResult {
  id: string;
  name: string;
  /** The id of the row this one is compared with (`null` for the baseline itself). */
  baseline: string | null;
  /** req/s over the baseline's req/s. */
  ratio: number | null;
  /** p99 minus the baseline's p99, in ms. */
  addedP99Ms: number | null;
  /** Reviews that reached the stand-in API server during the measured run. */
  reviewsWhileMeasured?: ReviewCounts;
  /** req/s of each round, and the ratio to the baseline measured in the same round. */
  rounds: { reqPerSec: number; ratio: number | null }[];
  /** The server process's CPU time per request in the measured run (median over rounds), µs. */
  cpuMicrosPerRequest: number;
  /** Baseline CPU per request over this one's (median over rounds): capacity ratio by CPU. */
  cpuRatio: number | null;
  verdict?: Verdict;
}

/** Latency below saturation: the same fixed request rate against the baseline and a scenario. */
export interface LatencyRow {
  id: string;
  baseline: string;
  rateRps: number;
  connections: number;
  p50Ms: number;
  p99Ms: number;
  baselineP50Ms: number;
  baselineP99Ms: number;
  /** Median over the rounds of (scenario p99 − baseline p99) in the same round. */
  addedP99Ms: number;
}

export interface StormRow extends StormResult {
  reviews: ReviewCounts;
  verdict: Verdict;
}

export interface HeapRow extends HeapReport {
  growthMiB: number;
  verdict: Verdict;
}

export interface BenchResults {
  machine: Machine;
  settings: Settings;
  throughput: ThroughputRow[];
  latency?: LatencyRow;
  interleaved?: InterleavedRow[];
  sliced?: SlicedRow[];
  middlewareAlone?: MiddlewareAloneRow[];
  storm?: StormRow;
  tokenCacheHeap?: HeapRow;
}

const MiB = 1024 * 1024;

export function mib(bytes: number): number {
  return bytes / MiB;
}

function num(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined || Number.isNaN(value) ? '—' : value.toFixed(digits);
}

function signed(value: number | null | undefined, digits: number): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`;
}

function met(verdict: Verdict | undefined): string {
  if (!verdict) return '';
  const word = verdict.met === null ? 'not measured' : verdict.met ? 'met' : 'NOT MET';
  return `${verdict.target}: ${word}`;
}

function table(header: string[], rows: string[][], rightAligned: Set<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** The human-readable report. */
export function render(results: BenchResults): string {
  const { machine, settings } = results;
  const out: string[] = [];
  out.push(
    `machine: ${machine.cpuModel}, ${machine.cores} cores, node ${machine.node}, ` +
      `${machine.platform}, ${machine.date}; load average (1 min) ` +
      `${machine.loadAvg1m.start.toFixed(2)} at start, ${machine.loadAvg1m.end.toFixed(2)} at end`,
  );
  out.push(
    `settings: ${settings.rounds} interleaved round(s) of ${settings.durationS} s measured after ${settings.warmupS} s warm-up (medians shown; ratios within a round), ` +
      `${settings.connections} connections, pipelining ${settings.pipelining}; ` +
      `server and load generator in separate processes; 127.0.0.1`,
  );
  out.push('');
  const header = [
    'scenario',
    'req/s',
    'p50 ms',
    'p99 ms',
    'ratio',
    'added p99 ms',
    'CPU µs/req',
    'CPU ratio',
    'errors/non-2xx',
    'target',
  ];
  const rows = results.throughput.map((r) => [
    `${r.id} ${r.name}`,
    r.reqPerSec.toFixed(0),
    num(r.p50Ms, 2),
    num(r.p99Ms, 2),
    r.baseline === null ? 'baseline' : `${num(r.ratio, 2)}× vs ${r.baseline}`,
    r.baseline === null ? '' : signed(r.addedP99Ms, 2),
    num(r.cpuMicrosPerRequest, 1),
    r.baseline === null ? '' : `${num(r.cpuRatio, 2)}×`,
    `${r.errors + r.timeouts}/${r.non2xx}`,
    met(r.verdict),
  ]);
  out.push(table(header, rows, new Set([1, 2, 3, 5, 6, 7])));
  for (const m of results.middlewareAlone ?? []) {
    out.push(
      `m ${m.scenario}: the middleware alone (no HTTP) ${(m.nsPerRequest / 1000).toFixed(2)} µs per request; ` +
        `${m.synchronous}/${m.calls} reached next() synchronously`,
    );
  }
  for (const r of results.interleaved ?? []) {
    out.push(
      `i ${r.id} vs ${r.baseline}, ${r.requests} requests each, interleaved one at a time: ` +
        `latency p50 ${r.side.p50Us.toFixed(0)} vs ${r.baselineSide.p50Us.toFixed(0)} µs ` +
        `(added ${signed(r.addedP50Us, 0)} µs); server CPU ${r.side.cpuUs.toFixed(0)} vs ` +
        `${r.baselineSide.cpuUs.toFixed(0)} µs/request → CPU ratio ${r.cpuRatio.toFixed(2)}×; ` +
        `inside the server, first middleware to route: p50 ${r.side.insituP50Us.toFixed(1)} vs ` +
        `${r.baselineSide.insituP50Us.toFixed(1)} µs, mean ${r.side.insituMeanUs.toFixed(1)} vs ` +
        `${r.baselineSide.insituMeanUs.toFixed(1)} µs`,
    );
  }
  for (const r of results.sliced ?? []) {
    const pairs = r.pairRatios;
    const repeats = r.repeatRatios;
    out.push(
      `s ${r.id} vs ${r.baseline}, ${repeats.length} × ${r.slices} slices of ${r.sliceS} s each at saturation, taking turns: ` +
        `${r.side.reqPerSec.toFixed(0)} vs ${r.baselineSide.reqPerSec.toFixed(0)} req/s → ${r.ratio.toFixed(2)}× ` +
        (r.standardError === null ? '' : `± ${r.standardError.toFixed(2)} `) +
        `(repeats ${repeats.map((x) => x.toFixed(2)).join(', ')}; ` +
        `pairs ${Math.min(...pairs).toFixed(2)}–${Math.max(...pairs).toFixed(2)}); server CPU ` +
        `${r.side.cpuUs.toFixed(0)} vs ${r.baselineSide.cpuUs.toFixed(0)} µs/request → ${r.cpuRatio.toFixed(2)}×` +
        (r.failures > 0 ? `; ${r.failures} failed or non-2xx responses` : ''),
    );
  }
  if (results.latency) {
    const l = results.latency;
    out.push(
      `${l.id} vs ${l.baseline} at a fixed ${l.rateRps} req/s (${l.connections} connections, below saturation): ` +
        `p50 ${l.p50Ms.toFixed(2)} vs ${l.baselineP50Ms.toFixed(2)} ms, p99 ${l.p99Ms.toFixed(2)} vs ` +
        `${l.baselineP99Ms.toFixed(2)} ms → added p99 ${signed(l.addedP99Ms, 2)} ms`,
    );
  }
  for (const r of results.throughput) {
    if (r.rounds.length > 1) {
      out.push(
        `${r.id} per round: ${r.rounds
          .map(
            (x) =>
              `${x.reqPerSec.toFixed(0)} req/s${x.ratio === null ? '' : ` (${x.ratio.toFixed(2)}×)`}`,
          )
          .join(', ')}`,
      );
    }
  }
  for (const r of results.throughput) {
    if (r.reviewsWhileMeasured) {
      const { tokenReviews, subjectAccessReviews } = r.reviewsWhileMeasured;
      out.push(
        `${r.id}: reviews reaching the stand-in during the measured run: ` +
          `${tokenReviews} TokenReviews, ${subjectAccessReviews} SubjectAccessReviews (expected 0)`,
      );
    }
  }
  if (results.storm) {
    const s = results.storm;
    const statuses = Object.entries(s.statuses)
      .map(([code, n]) => `${n}× ${code === '0' ? 'failed' : code}`)
      .join(', ');
    out.push('');
    out.push(
      `5 cold storm: ${s.requests} concurrent requests, one never-seen token → ` +
        `${s.reviews.tokenReviews} TokenReview(s), ${s.reviews.subjectAccessReviews} ` +
        `SubjectAccessReview(s) reached the stand-in; responses: ${statuses}; ` +
        `all done in ${s.totalMs.toFixed(0)} ms (per request p50 ${s.p50Ms.toFixed(0)} ms, ` +
        `p99 ${s.p99Ms.toFixed(0)} ms) — ${met(s.verdict)}`,
    );
  }
  if (results.tokenCacheHeap) {
    const h = results.tokenCacheHeap;
    out.push('');
    out.push(
      `6 token cache: ${h.tokens.toLocaleString('en-US')} distinct tokens (maxEntries ` +
        `${h.maxEntries}) in ${(h.elapsedMs / 1000).toFixed(1)} s → heap growth after GC ` +
        `${h.growthMiB.toFixed(1)} MiB (heapUsed ${mib(h.heapBeforeBytes).toFixed(1)} → ` +
        `${mib(h.heapAfterBytes).toFixed(1)} MiB, sampled peak ${mib(h.heapPeakBytes).toFixed(1)} ` +
        `MiB, rss ${mib(h.rssBeforeBytes).toFixed(0)} → ${mib(h.rssAfterBytes).toFixed(0)} MiB; ` +
        `${h.recentHits}/${h.recentChecked} latest tokens still cached) — ${met(h.verdict)}`,
    );
  }
  return out.join('\n');
}
