/**
 * What the bench runner (run.ts) and its child processes (server.ts, token-cache-heap.ts) say to
 * each other over the fork IPC channel.
 */

/** The servers server.ts can start, one per child process. */
export type ServerScenario =
  | 'bare-node-http'
  | 'bare-express'
  | 'noop-middleware'
  | 'anonymous-always-allow'
  | 'token-webhook'
  /** 2 and 3 over HTTPS, as the kubelet serves (3s against 2s). */
  | 'anonymous-always-allow-https'
  | 'token-webhook-https'
  /** Scenario 3's required work alone, inline: its lower bound (floor.ts). */
  | 'token-floor'
  | 'bare-https'
  | 'cert-webhook'
  /** Scenario 4b's required work alone, inline: its lower bound (floor.ts). */
  | 'cert-floor'
  | 'storm'
  /** The stand-in API server alone, in a process of its own (as a real one is elsewhere). */
  | 'apiserver';

/** Certificates made once by the runner and shared with every server child. */
export interface BenchPki {
  /** Serving certificate and key (PEM) of every HTTPS server. */
  servingCert: string;
  servingKey: string;
  /** File holding the CA that signs client certificates (`authentication.x509.clientCAFile`). */
  clientCAFile: string;
}

/** The token, user, route and node every scenario uses. */
export const BENCH = {
  nodeName: 'node-a',
  /** `GET /stats/summary` is authorized as `get nodes/stats` on node-a. */
  path: '/stats/summary',
  user: 'bench-user',
  /** The token of scenario 3, warmed up before measuring. */
  warmToken: tokenSized('bench-warm-token'),
  /** The token of the cold storm, never seen before the storm. */
  stormToken: tokenSized('bench-storm-token'),
  /**
   * What every bench client sends besides its credential, in the order and spelling of Go's
   * net/http: the headers of Prometheus scraping a kubelet (its token goes after `Accept`).
   */
  clientHeaders: {
    'User-Agent': 'Prometheus/2.53.0',
    Accept:
      'application/openmetrics-text;version=1.0.0;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
    'X-Prometheus-Scrape-Timeout-Seconds': '10',
    'Accept-Encoding': 'gzip',
  },
  /** Every route answers this JSON body. */
  body: { kind: 'Summary', node: 'node-a', ok: true },
} as const;

/**
 * A token as long as a service account token (a JWT signed with RS256, about 950 characters),
 * `name` first so that each is distinct.
 */
function tokenSized(name: string): string {
  return `${name}.${'p'.repeat(600)}.${'s'.repeat(342)}`;
}

/**
 * The headers a bench client sends: the client's own and, where Go writes it (its other headers
 * sorted by name, `Accept-Encoding` last), the token as a bearer credential.
 */
export function clientHeaders(token?: string): Record<string, string> {
  const { 'User-Agent': userAgent, Accept: accept, ...rest } = BENCH.clientHeaders;
  return {
    'User-Agent': userAgent,
    Accept: accept,
    ...(token ? { Authorization: `Bearer ${token}` } : {}),
    ...rest,
  };
}

/** Runner → server child. */
export type ToServer =
  /** `kubeconfig`: the stand-in API server's, for the scenarios that review. */
  | { type: 'start'; scenario: ServerScenario; pki: BenchPki; kubeconfig?: string }
  | { type: 'reviews'; id: number }
  | { type: 'cpu'; id: number }
  /**
   * The time from the app's first middleware to its route, recorded since the last `insitu`
   * (each one starts a new recording): what the middleware under test takes inside the server.
   */
  | { type: 'insitu'; id: number }
  | { type: 'close' };

/** Reviews that reached the stand-in API server so far. */
export interface ReviewCounts {
  tokenReviews: number;
  subjectAccessReviews: number;
}

/** Server child → runner. */
export type FromServer =
  | { type: 'ready'; port: number; protocol: 'http' | 'https'; kubeconfig?: string }
  | { type: 'reviews'; id: number; counts: ReviewCounts }
  /** The server process's CPU time so far (user + system), in µs. */
  | { type: 'cpu'; id: number; micros: number }
  /** Since the previous `insitu`: the time of each request recorded, in µs. */
  | { type: 'insitu'; id: number; samplesUs: number[] }
  | { type: 'error'; message: string };

/** Token-cache heap child → runner: the outcome of scenario 6. */
export interface HeapReport {
  type: 'heap';
  tokens: number;
  maxEntries: number;
  /** `heapUsed` after a full GC, before the cache was made and after 1,000,000 tokens. */
  heapBeforeBytes: number;
  heapAfterBytes: number;
  /** The largest `heapUsed` seen while pushing tokens (sampled, not after GC). */
  heapPeakBytes: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  /** How long pushing the tokens took. */
  elapsedMs: number;
  /** Lookups of the last tokens pushed that were answered from the cache (proves it is alive). */
  recentHits: number;
  recentChecked: number;
}
