/**
 * Scenario 6, run in a child process started with --expose-gc: 1,000,000 distinct tokens through
 * `cachedTokenAuthenticator` (default bounds) wrapping an authenticator that says yes at once;
 * reports the heap growth after a full GC to the runner.
 */
import { setImmediate as tick } from 'node:timers/promises';
import { DEFAULT_CACHE_SIZE } from '../../lib/defaults.js';
import { cachedTokenAuthenticator } from '../../lib/index.js';
import type { TokenAuthenticator } from '../../lib/index.js';
import type { TokenResult } from '../../lib/parts.js';
import type { HeapReport } from './protocol.js';

const TOKENS = 1_000_000;
/** Lookups in flight at once (each a cache miss that runs the inner authenticator). */
const BATCH = 1_000;
const RECENT = 100;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  process.stderr.write('token-cache-heap: run with --expose-gc\n');
  process.exit(2);
}

/** A full, settled collection: several passes, with turns of the event loop in between. */
async function collect(collectGarbage: () => void): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 4; i++) {
    collectGarbage();
    await tick();
  }
  return process.memoryUsage();
}

/** A token shaped like a service-account JWT's length (~0.9 kB), distinct per index. */
const PADDING = 'x'.repeat(880);
function tokenFor(i: number): string {
  return `eyJhbGciOiJSUzI1NiJ9.${i.toString(36)}.${PADDING}`;
}

async function main(collectGarbage: () => void): Promise<HeapReport> {
  let innerCalls = 0;
  const inner: TokenAuthenticator = {
    authenticateToken(token: string): Promise<TokenResult> {
      innerCalls += 1;
      return Promise.resolve({
        authenticated: true,
        user: {
          username: `system:serviceaccount:bench:sa-${token.length}-${innerCalls}`,
          uid: `uid-${innerCalls}`,
          groups: ['system:serviceaccounts', 'system:serviceaccounts:bench'],
        },
      });
    },
  };

  const before = await collect(collectGarbage);
  const cache = cachedTokenAuthenticator(inner, { ttlMs: 120_000 });

  let peak = before.heapUsed;
  const started = performance.now();
  for (let i = 0; i < TOKENS; i += BATCH) {
    const lookups: Promise<TokenResult>[] = [];
    for (let j = i; j < Math.min(i + BATCH, TOKENS); j++) {
      lookups.push(cache.authenticateToken(tokenFor(j)));
    }
    const results = await Promise.all(lookups);
    if (results.some((r) => !r.authenticated)) throw new Error('a lookup was not authenticated');
    if (i % (BATCH * 50) === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
  }
  const elapsedMs = performance.now() - started;
  if (innerCalls !== TOKENS) throw new Error(`expected ${TOKENS} misses, got ${innerCalls}`);

  const after = await collect(collectGarbage);

  // Used after the measurement, so the cache is alive (and reachable) while it is taken.
  const callsBefore = innerCalls;
  for (let j = TOKENS - RECENT; j < TOKENS; j++) await cache.authenticateToken(tokenFor(j));
  const recentHits = RECENT - (innerCalls - callsBefore);

  return {
    type: 'heap',
    tokens: TOKENS,
    maxEntries: DEFAULT_CACHE_SIZE,
    heapBeforeBytes: before.heapUsed,
    heapAfterBytes: after.heapUsed,
    heapPeakBytes: Math.max(peak, after.heapUsed),
    rssBeforeBytes: before.rss,
    rssAfterBytes: after.rss,
    elapsedMs,
    recentHits,
    recentChecked: RECENT,
  };
}

main(gc).then(
  (report) => {
    if (process.send) process.send(report, () => process.exit(0));
    else {
      process.stdout.write(`${JSON.stringify(report)}\n`);
      process.exit(0);
    }
  },
  (error: unknown) => {
    process.stderr.write(`token-cache-heap: ${error instanceof Error ? error.stack : error}\n`);
    process.exit(1);
  },
);
