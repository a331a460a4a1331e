/**
 * Sliced A/B at saturation: a baseline server and a scenario server, both started and warmed
 * once, take turns under the full load (autocannon, the rounds' connections) in short slices,
 * A B B A A B …, so that slow swings of a shared VM fall on both alike. The ratio is the
 * scenario's requests over the baseline's, summed over the slices: the throughput ratio the
 * targets are judged on, with the machine's drift cancelled instead of sampled three times.
 *
 * One such A/B still moves by ±5 % on this VM (an A/A of two identical servers read 0.98–1.08):
 * besides the machine, each pair of processes has its own luck (memory layout, which core). So
 * the A/B is repeated with fresh processes ({@link combineRepeats}) and the repeats averaged.
 */
import type { ServerChild } from './children.js';
import { cannon, type ClientTls } from './load.js';
import { mean } from './stats.js';

export interface SlicedSide {
  /** Mean over the slices of requests per second. */
  reqPerSec: number;
  /** The server process's CPU time per request, over all slices, in µs. */
  cpuUs: number;
}

export interface SlicedRow {
  id: string;
  baseline: string;
  /** Slices per side in each repeat, and the length of each, in s. */
  slices: number;
  sliceS: number;
  side: SlicedSide;
  baselineSide: SlicedSide;
  /** Scenario requests per second over the baseline's: all slices together, then repeats averaged. */
  ratio: number;
  /** Each repeat's ratio (fresh processes each time), in order. */
  repeatRatios: number[];
  /** Standard error of `ratio` over the repeats (`null` with one repeat). */
  standardError: number | null;
  /** The same ratio for each adjacent pair of slices, in order: how much it moves. */
  pairRatios: number[];
  /** `baselineSide.cpuUs / side.cpuUs` in each repeat, averaged over the repeats. */
  cpuRatio: number;
  /** Errors, timeouts and non-2xx responses on both sides (a run with any measures nothing). */
  failures: number;
}

interface Side {
  child: ServerChild;
  headers: Record<string, string>;
  tls?: ClientTls;
}

interface Slice {
  rate: number;
  requests: number;
  cpuUs: number;
  failures: number;
}

async function slice(side: Side, path: string, durationS: number, connections: number) {
  const cpu = await side.child.cpuMicros();
  const result = await cannon({
    url: side.child.url + path,
    durationS,
    connections,
    headers: side.headers,
    ...(side.tls ? { tls: side.tls } : {}),
  });
  return {
    rate: result.requests / Math.max(result.durationS, 1e-9),
    requests: result.requests,
    cpuUs: (await side.child.cpuMicros()) - cpu,
    failures: result.errors + result.timeouts + result.non2xx,
  } satisfies Slice;
}

function summary(slices: Slice[]): SlicedSide {
  const requests = slices.reduce((n, s) => n + s.requests, 0);
  return {
    reqPerSec: mean(slices.map((s) => s.rate)),
    cpuUs: slices.reduce((n, s) => n + s.cpuUs, 0) / Math.max(1, requests),
  };
}

/** `slices` slices of `sliceS` seconds per side, after one unmeasured slice each. */
export async function sliced(
  ids: { id: string; baseline: string },
  baseline: Side,
  subject: Side,
  path: string,
  options: { slices: number; sliceS: number; connections: number },
): Promise<SlicedRow> {
  const { slices, sliceS, connections } = options;
  await slice(baseline, path, sliceS, connections);
  await slice(subject, path, sliceS, connections);
  const a: Slice[] = [];
  const b: Slice[] = [];
  for (let i = 0; i < slices; i++) {
    // A B, then B A: a drift within a pair favours neither side over the run.
    if (i % 2 === 0) {
      a.push(await slice(baseline, path, sliceS, connections));
      b.push(await slice(subject, path, sliceS, connections));
    } else {
      b.push(await slice(subject, path, sliceS, connections));
      a.push(await slice(baseline, path, sliceS, connections));
    }
  }
  const side = summary(b);
  const baselineSide = summary(a);
  // Both sides have `slices` slices: the ratio of the means is that of the sums.
  const ratio = side.reqPerSec / baselineSide.reqPerSec;
  return {
    ...ids,
    slices,
    sliceS,
    side,
    baselineSide,
    ratio,
    repeatRatios: [ratio],
    standardError: null,
    pairRatios: b.map((s, i) => s.rate / (a[i] as Slice).rate),
    cpuRatio: baselineSide.cpuUs / side.cpuUs,
    failures: [...a, ...b].reduce((n, s) => n + s.failures, 0),
  };
}

/** Two sides' averages over repeats. */
function meanSide(sides: SlicedSide[]): SlicedSide {
  return { reqPerSec: mean(sides.map((s) => s.reqPerSec)), cpuUs: mean(sides.map((s) => s.cpuUs)) };
}

/**
 * One row from the repeats of one A/B (each with fresh processes): ratios averaged, with their
 * standard error; every pair of slices kept; failures added up.
 */
export function combineRepeats(rows: SlicedRow[]): SlicedRow {
  const [first] = rows;
  if (!first) throw new Error('combineRepeats: no repeats');
  const ratios = rows.flatMap((r) => r.repeatRatios);
  const ratio = mean(ratios);
  const n = ratios.length;
  const variance = n > 1 ? ratios.reduce((a, r) => a + (r - ratio) ** 2, 0) / (n - 1) : 0;
  return {
    ...first,
    side: meanSide(rows.map((r) => r.side)),
    baselineSide: meanSide(rows.map((r) => r.baselineSide)),
    ratio,
    repeatRatios: ratios,
    standardError: n > 1 ? Math.sqrt(variance / n) : null,
    pairRatios: rows.flatMap((r) => r.pairRatios),
    cpuRatio: mean(rows.map((r) => r.cpuRatio)),
    failures: rows.reduce((a, r) => a + r.failures, 0),
  };
}
