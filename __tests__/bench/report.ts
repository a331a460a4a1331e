/**
 * The bench's results: the document written to bench-results/bench.json and the table printed.
 */
import type { LoadResult, StormResult } from './load.js';
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
  verdict?: Verdict;
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
    `settings: ${settings.durationS} s measured after ${settings.warmupS} s warm-up, ` +
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
    `${r.errors + r.timeouts}/${r.non2xx}`,
    met(r.verdict),
  ]);
  out.push(table(header, rows, new Set([1, 2, 3, 5])));
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
