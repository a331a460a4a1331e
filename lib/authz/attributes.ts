import type { Attributes, KubeUser } from '../contracts.js';
import { foldCase, mayRouteLoosely, routerMatches } from './router-match.js';
import { DEFAULT_FINE_GRAINED } from '../defaults.js';

/** What {@link kubeletRequestAttributes} needs to know about the kubelet it stands in for. */
export interface KubeletAttributesOptions {
  /** The node name: the SubjectAccessReview's `resourceAttributes.name`. */
  nodeName: string;
  /** Fine-grained kubelet authorization (`KubeletFineGrainedAuthz`). Default: `true`. */
  fineGrained?: boolean;
}

/**
 * The verb the kubelet derives from an HTTP method: exact and case-sensitive, as the kubelet
 * compares Go's `r.Method`. HEAD is `get`, as the kubelet's documented table and the API server
 * say (the kubelet's code gives ''), so a route readable with GET is readable with HEAD; every
 * other method gets the empty verb. (A switch, so that a method named like an object property,
 * `constructor` or `__proto__`, finds nothing inherited.)
 */
export function kubeletVerb(method: string): string {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return '';
  }
}

/**
 * The kubelet's `isSubpath`: `path` with one trailing slash removed equals `subpath`, or is a
 * prefix of it followed by `/`. So `/stats` and `/stats/x` are under `/stats/`; `/statsfoo` is not.
 */
export function isSubpath(subpath: string, path: string): boolean {
  const prefix = path.endsWith('/') ? path.slice(0, -1) : path;
  return subpath === prefix || (subpath.startsWith(prefix) && subpath[prefix.length] === '/');
}

/** A table row: a path prefix and its subresource. */
type Rule = readonly [prefix: string, subresource: string];

/**
 * The rows as the kubelet spells them, one trailing `/` taken off each prefix (as `isSubpath`
 * does), the form {@link routerMatches} compares.
 */
function rules(rows: readonly Rule[]): readonly Rule[] {
  return rows.map(([prefix, subresource]) => [
    prefix.endsWith('/') ? prefix.slice(0, -1) : prefix,
    subresource,
  ]);
}

/** Asked first, and only with fine-grained authorization; falls back to the table below. */
const FINE_GRAINED = rules([
  ['/pods', 'pods'],
  ['/healthz', 'healthz'],
  ['/configz', 'configz'],
  ['/runningpods/', 'pods'],
]);

/** The one attribute every request gets (first match wins; `proxy` otherwise). */
const ALWAYS = rules([
  ['/stats/', 'stats'],
  ['/metrics', 'metrics'],
  ['/logs/', 'log'],
  ['/checkpoint/', 'checkpoint'],
  ['/statusz', 'statusz'],
  ['/flagz', 'configz'],
  // Documented by the kubelet's original table; harmless where no /spec route exists.
  ['/spec/', 'spec'],
]);

/** The subresource of the first row whose prefix `path` is under (the kubelet's `isSubpath`). */
function firstMatch(table: readonly Rule[], path: string): string | undefined {
  for (const [prefix, subresource] of table) if (isSubpath(path, prefix)) return subresource;
  return undefined;
}

/** {@link firstMatch} as a router may match (any case; a prefix may end at `.`); `path` folded. */
function firstRouterMatch(table: readonly Rule[], folded: string): string | undefined {
  for (const [prefix, subresource] of table) {
    if (routerMatches(folded, prefix)) return subresource;
  }
  return undefined;
}

/** What {@link kubeletRouteConflict} needs besides the decoded path. */
export interface RouteConflictOptions {
  /**
   * The path as the router reads it: still percent-encoded (see `routedPath`). Default: the
   * decoded path, which is the same when the target has no `%`.
   */
  routed?: string;
  /** Fine-grained kubelet authorization. Default: `true`. */
  fineGrained?: boolean;
}

/**
 * Whether a router could serve `path` with the handler of another row of the kubelet's tables
 * than the row the kubelet's own, case-sensitive match of the decoded path gives it. Routers
 * match the path as sent, still encoded, and may match it loosely (see `router-match.ts`):
 * `/Stats/summary` is `proxy` for the kubelet, but a case-insensitive Express route for
 * `/stats/summary` answers it; Connect's `app.use('/metrics', …)` answers `/metrics.json`; and
 * `/%73tats/summary` is `stats` once decoded, but no `/stats` route matches it, so a catch-all
 * would answer it. Such a path is refused (400) rather than authorized as one row and served as
 * another. (On the kubelet, whose router is case-sensitive and routes the decoded path,
 * `/Stats/summary` is authorized as `proxy` and then not found; refusing it instead never lets a
 * handler run under attributes that were not authorized, whatever the app's routing options.)
 * Paths in the tables' own spelling are never refused.
 *
 * @example kubeletRouteConflict('/Checkpoint/ns/p/c') // true: `proxy` here, `checkpoint` when routed
 */
export function kubeletRouteConflict(path: string, options: RouteConflictOptions = {}): boolean {
  const routed = options.routed ?? path;
  if (routed === path && !mayRouteLoosely(path)) return false;
  const folded = foldCase(routed);
  if (
    (options.fineGrained ?? DEFAULT_FINE_GRAINED) &&
    firstRouterMatch(FINE_GRAINED, folded) !== firstMatch(FINE_GRAINED, path)
  ) {
    return true;
  }
  return firstRouterMatch(ALWAYS, folded) !== firstMatch(ALWAYS, path);
}

/**
 * The kubelet's subresources for a decoded path, in the order they are asked
 * (e.g. `['pods', 'proxy']` for `/pods` with fine-grained authorization, `['stats']` for `/stats/summary`).
 */
export function kubeletSubresources(path: string, fineGrained = DEFAULT_FINE_GRAINED): string[] {
  const subresources: string[] = [];
  if (fineGrained) {
    const first = firstMatch(FINE_GRAINED, path);
    if (first) subresources.push(first);
  }
  subresources.push(firstMatch(ALWAYS, path) ?? 'proxy');
  return subresources;
}

/**
 * The kubelet's `GetRequestAttributes`: one attribute record per subresource to ask about, in
 * order; each is `nodes/<subresource>` of the node, verb from the method, empty namespace and
 * group, version `v1`. A pure function.
 *
 * @example kubeletRequestAttributes(user, 'GET', '/pods', { nodeName: 'node-a' }).map((a) => a.subresource) // ['pods', 'proxy']
 */
export function kubeletRequestAttributes(
  user: KubeUser,
  method: string,
  path: string,
  options: KubeletAttributesOptions,
): Attributes[] {
  const verb = kubeletVerb(method);
  const name = options.nodeName;
  const fallback = firstMatch(ALWAYS, path) ?? 'proxy';
  const first =
    (options.fineGrained ?? DEFAULT_FINE_GRAINED) ? firstMatch(FINE_GRAINED, path) : undefined;
  const last = nodeRecord(user, verb, fallback, name, path);
  return first === undefined ? [last] : [nodeRecord(user, verb, first, name, path), last];
}

/** One `nodes/<subresource>` record of the node. */
function nodeRecord(
  user: KubeUser,
  verb: string,
  subresource: string,
  name: string,
  path: string,
): Attributes {
  return {
    user,
    verb,
    namespace: '',
    apiGroup: '',
    apiVersion: 'v1',
    resource: 'nodes',
    subresource,
    name,
    resourceRequest: true,
    path,
  };
}
