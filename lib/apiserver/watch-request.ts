import type { KubeConfig } from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import type { ClientNode } from './client-node.js';

/** A watch started by {@link startWatch}. */
export interface WatchRequest {
  /** Ends the watch, at any point, and closes its connection; `done` is not called after. */
  stop(): void;
}

/** What {@link startWatch} reports to `done` when the answer did not begin in time. */
export class WatchStartTimeout extends Error {
  constructor(readonly ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = 'WatchStartTimeout';
  }
}

/** A connection pool client-node made for one request: 1.x an `https.Agent`, 2.x an undici one. */
interface Pool {
  destroy(): unknown;
}

/**
 * Starts a client-node `Watch` that can always be stopped. client-node hands out a watch's
 * AbortController only once the answer's headers arrived, and 1.x never times the request out,
 * so an API server that takes the request and never answers would hold it, and its connection,
 * until the process ends. This gives the answer `startTimeoutMs` to begin (then `done` gets a
 * {@link WatchStartTimeout}), and keeps the pool client-node made for the watch, so that stopping
 * it closes the connection whether or not the answer began. (client-node 2.x makes no pool of
 * its own for a cluster without TLS settings; such a request ends at its own 30 s timer.)
 *
 * `done` is called at most once, with whether it came before the answer began: an error then
 * means the watch never ran.
 */
export function startWatch(
  k8s: ClientNode,
  kubeConfig: KubeConfig,
  watch: {
    path: string;
    query: Record<string, string | number | boolean | undefined>;
    onEvent: (type: string, object: unknown) => void;
    done: (error: unknown, beforeAnswer: boolean) => void;
    startTimeoutMs: number;
  },
): WatchRequest {
  let ended = false;
  let answered = false;
  let pool: Pool | undefined;
  let controller: AbortController | undefined;
  const deadline = setTimeout(
    () => done(new WatchStartTimeout(watch.startTimeoutMs)),
    watch.startTimeoutMs,
  );
  deadline.unref();
  function stop(): void {
    if (ended) return;
    ended = true;
    clearTimeout(deadline);
    controller?.abort();
    closePool();
  }
  function closePool(): void {
    // An undici pool's destroy returns a promise that rejects with the requests it cut short.
    void Promise.resolve(pool?.destroy()).catch(() => undefined);
  }
  function done(error: unknown): void {
    if (ended) return;
    stop();
    watch.done(error, !answered);
  }

  // The watch reads its credentials and pool through these two methods (1.x the first, 2.x the
  // second), and sends right after; a view of the KubeConfig notes the pool it was given.
  const keep = (candidate: unknown): void => {
    if (isPool(candidate)) pool = candidate;
    if (!ended) return;
    // Stopped while the credentials were read: nothing is sent.
    closePool();
    throw new Error('the watch was stopped');
  };
  const config: KubeConfig = Object.create(kubeConfig);
  config.applyToFetchOptions = async (options) => {
    const init = await kubeConfig.applyToFetchOptions(options);
    keep(init.agent);
    return init;
  };
  config.applySecurityAuthentication = async (context) => {
    await kubeConfig.applySecurityAuthentication(context);
    const withDispatcher = context as { getDispatcher?: () => unknown };
    keep(withDispatcher.getDispatcher?.());
  };

  new k8s.Watch(config).watch(watch.path, watch.query, watch.onEvent, done).then(
    (started) => {
      answered = true;
      clearTimeout(deadline);
      controller = started;
      // Stopped while the answer was on its way.
      if (ended) started.abort();
    },
    (error: unknown) => done(error ?? new Error('watch failed')),
  );
  return { stop };
}

function isPool(value: unknown): value is Pool {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { destroy?: unknown }).destroy === 'function'
  );
}
