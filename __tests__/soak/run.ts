/**
 * `npm run soak` (not part of `npm test`): the mock kubelet under steady load while its API
 * server misbehaves. 60 s (SOAK_DURATION) at 100 connections (SOAK_CONNECTIONS) against the
 * mock kubelet, run as a child process in real mode with short cache TTLs, while the stand-in API
 * server flaps every SOAK_FLAP seconds (default 3) between healthy and failing (HTTP 500, then a
 * reply that never comes, in turn). Reports requests served, answers by status, p99, and the
 * mock kubelet's RSS at start and end; writes bench-results/soak.json. Loopback only; every loop
 * is bounded in time and stops by itself.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { startApiServer, type Fault } from '../../lib/testing/index.js';
import { freePort } from '../demo-app/support/free-port.js';

const seconds = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};
const DURATION_S = seconds('SOAK_DURATION', 60);
const CONNECTIONS = Math.round(seconds('SOAK_CONNECTIONS', 100));
const FLAP_S = seconds('SOAK_FLAP', 3);
const TOKENS = 50;

/** Resident set size of a process, from /proc (Linux), in MiB. */
function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

async function main(): Promise<void> {
  const tokens = Object.fromEntries(
    Array.from({ length: TOKENS }, (_, i) => [`soak-token-${i}`, { username: `user-${i % 5}` }]),
  );
  const api = await startApiServer({
    tokens,
    policy: {
      rules: [{ groups: ['system:authenticated'], verbs: ['get'], resources: ['nodes/stats'] }],
    },
  });
  const dir = mkdtempSync(join(tmpdir(), 'eka-soak-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, api.kubeconfigYaml('cert'), { mode: 0o600 });
  const port = await freePort();
  const root = fileURLToPath(new URL('../../', import.meta.url));
  // Short TTLs so that reviews keep happening, and so meet the flapping API server.
  const kubelet = spawn(
    process.execPath,
    [
      '--import',
      import.meta.resolve('tsx'),
      join(root, 'demo-app/main.ts'),
      '--address=127.0.0.1',
      `--port=${port}`,
      '--anonymous-auth=false',
      '--authentication-token-webhook',
      '--authentication-token-webhook-cache-ttl=2s',
      '--authorization-mode=Webhook',
      '--authorization-webhook-cache-authorized-ttl=2s',
      '--authorization-webhook-cache-unauthorized-ttl=1s',
      `--kubeconfig=${kubeconfig}`,
      '--hostname-override=soak-node',
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const pid = kubelet.pid;
  if (pid === undefined) throw new Error('the mock kubelet did not start');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('the mock kubelet did not listen within 30 s')),
      30_000,
    );
    kubelet.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('serving on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    kubelet.once('exit', (code) => reject(new Error(`the mock kubelet exited (${code})`)));
  });

  const rssStart = rssMiB(pid);
  const faults: (Fault | undefined)[] = [
    undefined,
    { type: 'status', status: 500 },
    undefined,
    { type: 'hang' },
  ];
  let phase = 0;
  const flapper = setInterval(() => {
    phase = (phase + 1) % faults.length;
    api.setFault(faults[phase]);
  }, FLAP_S * 1000);

  let next = 0;
  const result = await autocannon({
    url: `https://127.0.0.1:${port}/stats/summary`,
    connections: CONNECTIONS,
    duration: DURATION_S,
    // Each connection is a different caller, so caches expire and refill while the API server flaps.
    setupClient: (client) => {
      client.setHeaders({ authorization: `Bearer soak-token-${next++ % TOKENS}` });
    },
    timeout: 30,
  });
  clearInterval(flapper);
  api.setFault();
  const rssEnd = rssMiB(pid);

  const statuses = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [
      code,
      (stat as { count: number }).count,
    ]),
  );
  const report = {
    durationS: DURATION_S,
    connections: CONNECTIONS,
    flapEveryS: FLAP_S,
    requests: result.requests.total,
    reqPerSec: result.requests.average,
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
    p99Ms: result.latency.p99,
    rssMiB: { start: Number(rssStart.toFixed(1)), end: Number(rssEnd.toFixed(1)) },
    reviewsReceived: {
      tokenReviews: api.reviews.tokenReviews.length,
      subjectAccessReviews: api.reviews.subjectAccessReviews.length,
    },
  };

  kubelet.kill('SIGTERM');
  const exitCode = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      kubelet.kill('SIGKILL');
      resolve(null);
    }, 15_000);
    kubelet.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  await api.close();
  rmSync(dir, { recursive: true, force: true });

  const out = fileURLToPath(new URL('../../bench-results/', import.meta.url));
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'soak.json'), `${JSON.stringify({ ...report, exitCode }, null, 2)}\n`);
  process.stdout.write(
    [
      `soak: ${DURATION_S} s, ${CONNECTIONS} connections, API server flapping every ${FLAP_S} s (healthy / HTTP 500 / healthy / no reply)`,
      `requests served: ${report.requests} (${report.reqPerSec.toFixed(0)} req/s); by status: ${JSON.stringify(statuses)}; client errors ${report.errors}, timeouts ${report.timeouts}`,
      `p99: ${report.p99Ms} ms; mock kubelet RSS: ${report.rssMiB.start} MiB at start, ${report.rssMiB.end} MiB at end`,
      `reviews that reached the API server: ${report.reviewsReceived.tokenReviews} TokenReviews, ${report.reviewsReceived.subjectAccessReviews} SubjectAccessReviews`,
      `mock kubelet exit code after SIGTERM: ${exitCode}`,
    ].join('\n') + '\n',
  );
  // 5xx other than the kubelet's own 500 for authorization errors, or a crash, fails the soak.
  const unexpected = Object.keys(statuses).filter((code) => !['200', '401', '500'].includes(code));
  if (unexpected.length > 0 || exitCode !== 0) process.exitCode = 1;
}

main().then(
  () => setTimeout(() => process.exit(), 2000).unref(),
  (error: unknown) => {
    process.stderr.write(
      `soak failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  },
);
