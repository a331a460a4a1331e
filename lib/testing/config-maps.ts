/**
 * The stand-in API server's ConfigMaps: get, list and watch (`/api/v1/namespaces/<ns>/configmaps`)
 * in kube-apiserver's wire format — watch events as JSON lines in a chunked answer, each with the
 * object's `resourceVersion`; a watch from a resourceVersion replays what came after it, one from
 * a compacted resourceVersion gets a 410 `Expired` event — and the calls tests make to change
 * them, end watches and see what was asked.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, sendJson } from './http-replies.js';

/** A ConfigMap read by the API server's clients: how it was asked for. */
export interface ConfigMapRequest {
  verb: 'get' | 'list' | 'watch';
  namespace: string;
  /** The name in the path (get) or in the `metadata.name` field selector; absent for all. */
  name?: string;
  /** The `resourceVersion` parameter, as sent. */
  resourceVersion?: string;
}

/** Decides whether the caller may make `request`; throws an `HttpError` 403 when not. */
export type ConfigMapAuthorizer = (req: IncomingMessage, request: ConfigMapRequest) => void;

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';
interface StoredEvent {
  revision: number;
  type: EventType;
  object: ConfigMapObject;
}
interface ConfigMapObject {
  kind: 'ConfigMap';
  apiVersion: 'v1';
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion: string;
    creationTimestamp: string;
  };
  data: Record<string, string>;
}
interface Watcher {
  namespace: string;
  name: string | undefined;
  res: ServerResponse;
  timer: NodeJS.Timeout | undefined;
}

const PATH = /^\/api\/v1\/namespaces\/([^/]+)\/configmaps(?:\/([^/]+))?$/;
/** The first resourceVersion handed out: well above 0, which means "any" to a watch. */
const FIRST_REVISION = 1000;

/** ConfigMaps, their history since the last compaction, and the watches open on them. */
export class ConfigMapStore {
  /** Every request for ConfigMaps, in arrival order (after authentication). */
  readonly requests: ConfigMapRequest[] = [];
  private readonly objects = new Map<string, ConfigMapObject>();
  private readonly history: StoredEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly waiting: ((request: ConfigMapRequest) => void)[] = [];
  private revision = FIRST_REVISION;
  /** A watch from a resourceVersion below this one is told it expired (410). */
  private compacted = 0;

  /** Whether `path` is a ConfigMap path this store serves. */
  static serves(path: string): boolean {
    return PATH.test(path);
  }

  /** Creates or replaces a ConfigMap's data; open watches get ADDED or MODIFIED. */
  set(namespace: string, name: string, data: Record<string, string>): void {
    checkData(data);
    const key = `${namespace}/${name}`;
    const known = this.objects.get(key);
    const object: ConfigMapObject = {
      kind: 'ConfigMap',
      apiVersion: 'v1',
      metadata: {
        name,
        namespace,
        uid: known?.metadata.uid ?? randomUUID(),
        resourceVersion: String(++this.revision),
        creationTimestamp:
          known?.metadata.creationTimestamp ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      },
      data: { ...data },
    };
    this.objects.set(key, object);
    this.publish(known ? 'MODIFIED' : 'ADDED', object);
  }

  /** Deletes a ConfigMap; open watches get DELETED. Returns whether it existed. */
  delete(namespace: string, name: string): boolean {
    const key = `${namespace}/${name}`;
    const known = this.objects.get(key);
    if (!known) return false;
    this.objects.delete(key);
    const object = {
      ...known,
      metadata: { ...known.metadata, resourceVersion: String(++this.revision) },
    };
    this.publish('DELETED', object);
    return true;
  }

  /**
   * Ends every open watch, as an API server restarting or a load balancer dropping connections
   * does. With `expired`, each first gets a 410 `Expired` event and the history is compacted,
   * so a watch from any resourceVersion but the current one is refused and its client must list
   * again. Returns how many watches were ended.
   */
  dropWatches({ expired = false }: { expired?: boolean } = {}): number {
    if (expired) {
      this.compacted = this.revision;
      this.history.length = 0;
    }
    const dropped = this.watchers.size;
    for (const watcher of [...this.watchers]) {
      if (expired) write(watcher.res, 'ERROR', expiredStatus(this.revision, this.revision));
      this.end(watcher);
    }
    return dropped;
  }

  /** The watches open now. */
  get openWatches(): number {
    return this.watchers.size;
  }

  /** Resolves with the next watch request once it is answered (its past events sent). */
  nextWatch(): Promise<ConfigMapRequest> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Answers a request for `path` (a ConfigMap path); `authorize` throws 403 for a refusal. */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    authorize: ConfigMapAuthorizer,
  ): Promise<void> {
    const [, namespace = '', name] = (PATH.exec(path) ?? []).map((p) =>
      p === undefined ? undefined : decodeURIComponent(p),
    );
    if (req.method !== 'GET') {
      throw new HttpError(405, 'the server does not allow this method on the requested resource');
    }
    const query = new URL(req.url ?? '/', 'https://stand-in').searchParams;
    const watch = ['1', 'true'].includes(query.get('watch') ?? '');
    const selected = name === undefined ? selectedName(query.get('fieldSelector') ?? '') : name;
    const resourceVersion = query.get('resourceVersion') ?? undefined;
    const request: ConfigMapRequest = {
      verb: name !== undefined ? 'get' : watch ? 'watch' : 'list',
      namespace,
      ...(selected !== undefined ? { name: selected } : {}),
      ...(resourceVersion !== undefined ? { resourceVersion } : {}),
    };
    if (name !== undefined && watch) {
      throw new HttpError(400, 'watch a ConfigMap with a metadata.name field selector');
    }
    this.requests.push(request);
    authorize(req, request);
    if (request.verb === 'get') {
      const object = this.objects.get(`${namespace}/${selected ?? ''}`);
      if (!object) {
        throw new HttpError(404, `configmaps "${selected ?? ''}" not found`, {
          name: selected,
          kind: 'configmaps',
        });
      }
      return sendJson(res, 200, object);
    }
    if (request.verb === 'list') {
      sendJson(res, 200, {
        kind: 'ConfigMapList',
        apiVersion: 'v1',
        metadata: { resourceVersion: String(this.revision) },
        items: this.matching(namespace, selected),
      });
      return;
    }
    this.watch(res, request, Number(query.get('timeoutSeconds') ?? '0'));
  }

  /** Ends every watch (the server is closing). */
  close(): void {
    for (const watcher of [...this.watchers]) this.end(watcher);
  }

  private watch(res: ServerResponse, request: ConfigMapRequest, timeoutSeconds: number): void {
    const from = request.resourceVersion;
    if (from !== undefined && from !== '' && !/^\d+$/.test(from)) {
      throw new HttpError(400, `invalid resource version: ${JSON.stringify(from)}`);
    }
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Transfer-Encoding': 'chunked',
      'Cache-Control': 'no-cache, private',
      'Audit-Id': randomUUID(),
    });
    // As kube-apiserver: the client knows the watch started before any event comes.
    res.flushHeaders();
    const watcher: Watcher = {
      namespace: request.namespace,
      name: request.name,
      res,
      timer: undefined,
    };
    const since = from === undefined || from === '' || from === '0' ? undefined : Number(from);
    if (since !== undefined && since < this.compacted) {
      write(res, 'ERROR', expiredStatus(since, this.compacted));
      res.end();
    } else {
      // No resourceVersion: what exists now, as ADDED; else every change after the one given.
      const past =
        since === undefined
          ? this.matching(request.namespace, request.name).map((object) => ({
              type: 'ADDED' as const,
              object,
            }))
          : this.history.filter((e) => e.revision > since && matches(watcher, e.object.metadata));
      for (const event of past) write(res, event.type, event.object);
      this.watchers.add(watcher);
      res.once('close', () => this.end(watcher));
      if (timeoutSeconds > 0) {
        watcher.timer = setTimeout(() => this.end(watcher), timeoutSeconds * 1000);
        watcher.timer.unref();
      }
    }
    for (const resolve of this.waiting.splice(0)) resolve(request);
  }

  private end(watcher: Watcher): void {
    if (!this.watchers.delete(watcher) && watcher.res.writableEnded) return;
    if (watcher.timer) clearTimeout(watcher.timer);
    if (!watcher.res.writableEnded) watcher.res.end();
  }

  private publish(type: EventType, object: ConfigMapObject): void {
    this.history.push({ revision: this.revision, type, object });
    for (const watcher of this.watchers) {
      if (matches(watcher, object.metadata)) write(watcher.res, type, object);
    }
  }

  private matching(namespace: string, name: string | undefined): ConfigMapObject[] {
    return [...this.objects.values()].filter((o) => matches({ namespace, name }, o.metadata));
  }
}

function matches(
  filter: { namespace: string; name: string | undefined },
  meta: { namespace: string; name: string },
): boolean {
  return (
    meta.namespace === filter.namespace && (filter.name === undefined || meta.name === filter.name)
  );
}

/** One watch event, one chunk, as kube-apiserver writes them. */
function write(res: ServerResponse, type: string, object: unknown): void {
  if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify({ type, object })}\n`);
}

function expiredStatus(asked: number, oldest: number): object {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `too old resource version: ${asked} (${oldest})`,
    reason: 'Expired',
    code: 410,
  };
}

/** The name a `metadata.name=<name>` field selector asks for (the one selector served). */
function selectedName(selector: string): string | undefined {
  if (selector === '') return undefined;
  let name: string | undefined;
  for (const term of selector.split(',')) {
    const match = /^(metadata\.name|metadata\.namespace)(==?|!=)(.*)$/.exec(term);
    if (!match || match[2] === '!=') {
      throw new HttpError(400, `field label not supported: ${term.split(/[=!]/)[0] ?? term}`);
    }
    if (match[1] === 'metadata.name') name = match[3];
  }
  return name;
}

function checkData(data: Record<string, string>): void {
  if (
    typeof data !== 'object' ||
    data === null ||
    !Object.values(data).every((value) => typeof value === 'string')
  ) {
    throw new TypeError('setConfigMap: data must map keys to strings');
  }
}
