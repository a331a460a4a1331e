import type { CoreV1Api, KubeConfig, V1ConfigMapList } from '@kubernetes/client-node' with {
  'resolution-mode': 'import',
};
import type { WatchBackoff } from '../contracts.js';
import { perCallOptions } from './per-call.js';
import { DEFAULT_REVIEW_TIMEOUT_MS, DEFAULT_WATCH_BACKOFF } from '../defaults.js';
import type { Logger } from '../logger.js';
import { importClientNode, type ClientNode } from './client-node.js';
import { KeepAliveAgents } from './keep-alive.js';
import { backoffDelay } from './watch-backoff.js';
import { dataOf, metadataOf, statusCodeOf, statusOf } from './watch-events.js';
import { startWatch, WatchStartTimeout, type WatchRequest } from './watch-request.js';

/** What a watch of one ConfigMap reports, in the order it learns it. */
export interface ConfigMapEvents {
  /** The ConfigMap as read or as changed: its `data` (every key) and `resourceVersion`. */
  onConfigMap(data: Readonly<Record<string, string>>, resourceVersion: string): void;
  /** The ConfigMap does not exist (`'not-found'`, a read's 404) or was just deleted. */
  onMissing(how: 'not-found' | 'deleted'): void;
  /**
   * A read or a watch failed; it is tried again after a backoff. Told once for failures alike
   * in a row (the same step, status and reason), and always for the first.
   */
  onFailure(failure: ConfigMapFailure): void;
  /** What failed works again: a read after a failed read, or a watch that ran or brought news. */
  onRecovered(): void;
}

/** A failed read or watch, told without the API server's body. */
export interface ConfigMapFailure {
  during: 'read' | 'watch';
  /** The HTTP status of the API server's answer, when one came. */
  status?: number;
  /** What went wrong: `HTTP 403`, a network error's code, … */
  reason: string;
}

/** Options of {@link watchConfigMap}. */
export interface ConfigMapWatchOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
  events: ConfigMapEvents;
  /** Where routine ends of a watch are told, at debug. */
  logger: Required<Logger>;
  /**
   * Longest time one read may take; also how long a watch waits for its answer to begin. In ms.
   * Default: 10000.
   */
  timeoutMs?: number;
  /** How reads and watches are started again after failures. Default: client-go's. */
  backoff?: WatchBackoff;
}

/** A running {@link watchConfigMap}. */
export interface ConfigMapWatch {
  /** Stops reading and watching, and closes the connections it holds. */
  close(): void;
}

/** A watch that ended within this time without an event failed, as client-go counts it. */
const SHORT_WATCH_MS = 1000;
/** The API server ends a watch after this long, picked at random per watch, as client-go asks. */
const WATCH_TIMEOUT_SECONDS = { min: 300, max: 600 };

/**
 * Follows one ConfigMap through `@kubernetes/client-node`, as a client-go reflector does: the
 * namespace's ConfigMaps are listed with a `metadata.name` field selector
 * (`listNamespacedConfigMap`), then watched (`Watch`) from the list's resourceVersion, and every
 * change is reported. A watch that ends is started again from the last resourceVersion seen;
 * one that the API server refuses with 410 Gone (the resourceVersion is too old), fails, or ends
 * at once is followed by a new read after a backoff. Bookmarks keep the resourceVersion fresh.
 */
export function watchConfigMap(options: ConfigMapWatchOptions): ConfigMapWatch {
  const { kubeConfig, namespace, name, events, logger } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_REVIEW_TIMEOUT_MS;
  const backoff = options.backoff ?? DEFAULT_WATCH_BACKOFF;
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps`;
  const agents = new KeepAliveAgents(kubeConfig);
  let closed = false;
  /** Failures in a row, for the backoff. */
  let failures = 0;
  let resourceVersion: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let reading: AbortController | undefined;
  let watching: WatchRequest | undefined;
  let clients: Promise<{ k8s: ClientNode; core: CoreV1Api }> | undefined;

  const later = (step: () => void, ms: number): void => {
    if (closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      step();
    }, ms);
    timer.unref();
  };
  /** The failure told last, while it lasts. */
  let failing: ConfigMapFailure | undefined;
  const fail = (failure: ConfigMapFailure): void => {
    const known =
      failing?.during === failure.during &&
      failing.status === failure.status &&
      failing.reason === failure.reason;
    failing = failure;
    if (!known) events.onFailure(failure);
    later(() => void read(), backoffDelay(backoff, ++failures));
  };
  const recovered = (during: 'read' | 'watch'): void => {
    if (failing === undefined || (during === 'read' && failing.during === 'watch')) return;
    failing = undefined;
    events.onRecovered();
  };

  function load(): Promise<{ k8s: ClientNode; core: CoreV1Api }> {
    clients ??= importClientNode().then(
      (k8s) => ({ k8s, core: kubeConfig.makeApiClient(k8s.CoreV1Api) }),
      (error: unknown) => {
        clients = undefined;
        throw error;
      },
    );
    return clients;
  }

  /** Hands a change on; what the receiver throws is logged, never left to end the process. */
  function deliver(handOn: () => void): void {
    try {
      handOn();
    } catch (error) {
      logger.error(
        `${namespace}/${name}: applying the ConfigMap failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  async function read(): Promise<void> {
    if (closed) return;
    const controller = new AbortController();
    reading = controller;
    const timeout = setTimeout(() => controller.abort(), timeoutMs);
    let k8s: ClientNode | undefined;
    let list: V1ConfigMapList;
    try {
      const loaded = await load();
      k8s = loaded.k8s;
      // A list, not a get, as client-go's reflector: its resourceVersion is the current one, which
      // a watch can start from; an object's own may be older than the API server keeps events.
      list = await loaded.core.listNamespacedConfigMap(
        { namespace, fieldSelector: `metadata.name=${name}` },
        perCallOptions(k8s, controller.signal, agents),
      );
    } catch (error) {
      if (closed) return;
      const status = k8s && error instanceof k8s.ApiException ? Number(error.code) : undefined;
      const reason = controller.signal.aborted
        ? `timed out after ${timeoutMs} ms`
        : failureReason(error, status);
      fail({ during: 'read', reason, ...(status ? { status } : {}) });
      return;
    } finally {
      clearTimeout(timeout);
      if (reading === controller) reading = undefined;
    }
    if (closed) return;
    resourceVersion = list.metadata?.resourceVersion;
    recovered('read');
    const configMap = (list.items ?? []).find((item) => item.metadata?.name === name);
    if (configMap)
      deliver(() =>
        events.onConfigMap(configMap.data ?? {}, configMap.metadata?.resourceVersion ?? ''),
      );
    else deliver(() => events.onMissing('not-found'));
    watch();
  }

  function watch(): void {
    if (closed) return;
    const startedAt = Date.now();
    let seen = 0;
    /** Set by an ERROR event: the watch ends, and what follows depends on its status. */
    let refused: { status?: number; reason: string } | undefined;
    let ended = false;
    const onEvent = (type: string, object: unknown): void => {
      if (closed || ended) return;
      const meta = metadataOf(object);
      if (type === 'ERROR') {
        const status = statusOf(object);
        refused = { ...(status ? { status } : {}), reason: `HTTP ${status ?? 'error'} event` };
        // `stop()` silences `done`, so the end is handled here.
        watching?.stop();
        onDone(undefined, false);
        return;
      }
      if (meta.resourceVersion !== undefined) resourceVersion = meta.resourceVersion;
      if (type === 'BOOKMARK' || meta.name !== name) return;
      seen++;
      recovered('watch');
      if (type === 'DELETED') deliver(() => events.onMissing('deleted'));
      else if (type === 'ADDED' || type === 'MODIFIED') {
        deliver(() => events.onConfigMap(dataOf(object), meta.resourceVersion ?? ''));
      }
    };
    const onDone = (error: unknown, beforeAnswer: boolean): void => {
      if (closed || ended) return;
      ended = true;
      watching = undefined;
      const status = refused?.status ?? statusCodeOf(error);
      if (status === 410) {
        logger.debug(
          `${namespace}/${name}: resourceVersion ${resourceVersion ?? ''} expired (410 Gone); reading the ConfigMap again`,
        );
        later(() => void read(), backoffDelay(backoff, 1));
        return;
      }
      if (refused !== undefined || status !== undefined) {
        fail({
          during: 'watch',
          reason: refused?.reason ?? `HTTP ${status}`,
          ...(status ? { status } : {}),
        });
        return;
      }
      // A watch that never ran (no answer in time, a connection that failed) failed, however long.
      if (error && beforeAnswer) {
        fail({ during: 'watch', reason: failureReason(error, undefined) });
        return;
      }
      if (seen === 0 && Date.now() - startedAt < SHORT_WATCH_MS) {
        const reason = error ? failureReason(error, undefined) : 'the watch ended at once';
        fail({ during: 'watch', reason });
        return;
      }
      // A watch the API server (or client-node's idle timeout) ended: carry on from where it was.
      failures = 0;
      recovered('watch');
      logger.debug(
        `${namespace}/${name}: watch ended; watching again from resourceVersion ${resourceVersion ?? '(latest)'}`,
      );
      watch();
    };
    load().then(
      ({ k8s }) => {
        if (closed || ended) return;
        watching = startWatch(k8s, kubeConfig, {
          path,
          query: {
            fieldSelector: `metadata.name=${name}`,
            resourceVersion,
            allowWatchBookmarks: true,
            timeoutSeconds: watchTimeoutSeconds(),
          },
          onEvent,
          done: onDone,
          startTimeoutMs: timeoutMs,
        });
      },
      (error: unknown) => onDone(error ?? new Error('watch failed'), true),
    );
  }

  void read();
  return {
    close(): void {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      reading?.abort();
      watching?.stop();
      agents.destroy();
    },
  };
}

function watchTimeoutSeconds(): number {
  const { min, max } = WATCH_TIMEOUT_SECONDS;
  return Math.floor(min + Math.random() * (max - min));
}

/** A failure told in a few words: the HTTP status, a network error's code, or the error's name. */
function failureReason(error: unknown, status: number | undefined): string {
  if (status !== undefined) return `HTTP ${status}`;
  if (error instanceof WatchStartTimeout) return error.message;
  if (error instanceof SyntaxError) return 'the answer is not JSON';
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const { code, cause } = current as { code?: unknown; cause?: unknown };
    if (typeof code === 'string') return code;
    current = cause;
  }
  return error instanceof Error ? error.name : 'error';
}
