import type { IncomingMessage } from 'node:http';
import type { KubeUser } from '../user.js';
import type { AllOf, Attributes, AttributesFunction, PathRefused } from '../contracts.js';
import { isSubpath } from './attributes.js';
import { nonResourceAttributes } from './non-resource.js';
import { PATH_REFUSALS, routedPathOf, routedQuery } from './request-path.js';
import { foldCase, mayRouteLoosely, routerMatches } from './router-match.js';
import { verbFor, type VerbMapping } from './verbs.js';
import { checkKnownKeys, invalidOption } from '../option-errors.js';

/**
 * The resource a request is checked against: a SubjectAccessReview's `resourceAttributes`, as
 * RBAC matches them (`resources: ['reports']`, `apiGroups: ['example.com']`, …).
 */
export interface ResourceRule {
  /** The resource (`'reports'`, `'services'`): required, without a `/`. */
  resource: string;
  /** The subresource (`'proxy'`, `'log'`). Default: `''` (none). */
  subresource?: string;
  /** The API group (`'example.com'`). Default: `''` (the core group). */
  group?: string;
  /** The API version. Default: `''` (not sent; RBAC does not look at versions). */
  version?: string;
  /** The namespace. Default: `''` (cluster-scoped: only ClusterRoleBindings can allow it). */
  namespace?: string;
  /** The object's name (RBAC `resourceNames`). Default: `''` (any name). */
  name?: string;
  /** The verb, instead of the one mapped from the method (e.g. `'list'`). Default: mapped. */
  verb?: string;
}

/** Where a request matched, for {@link ComputedRule}s. */
export interface PathMatch {
  /** The prefix of the rule, as written in the table. */
  readonly prefix: string;
  /**
   * The decoded path's segments after the prefix: `/namespaces/team-a/reports` under
   * `/namespaces` gives `['team-a', 'reports']`; the prefix itself gives `[]`; a trailing `/`
   * gives a trailing `''`. As sent, case kept: a case-insensitive route may serve `REPORTS`
   * where you wrote `reports`, so compare exactly and return `null` for anything else.
   */
  readonly segments: readonly string[];
  /**
   * The request's query (`?name=weekly`). `get` returns the first of repeated names: if your
   * handler could read another one, refuse repeats (`getAll(name).length !== 1`) by throwing.
   */
  readonly query: URLSearchParams;
}

/**
 * A rule computed from the request (a namespace from a path segment, a name from the query).
 * Return `null` when the request names nothing you authorize (a malformed path, a repeated
 * query parameter): it is denied, 403 without asking (in `allOf` too). Synchronous; throwing
 * makes the request fail closed with 500, and so does returning something that is not a
 * {@link ResourceRule}.
 */
export type ComputedRule = (
  req: IncomingMessage & { originalUrl?: string },
  user: KubeUser,
  path: string,
  match: PathMatch,
) => ResourceRule | null;

/** One check: fixed, or computed per request. */
export type PathCheck = ResourceRule | ComputedRule;

/** A rule of the table: one check, or `{ allOf }`, checks that must all be allowed. */
export type PathRule = PathCheck | { readonly allOf: readonly PathCheck[] };

/** Path prefix → rule, as an object, a list of `[prefix, rule]` pairs, or a `Map`. */
export type PathRuleTable =
  | Readonly<Record<string, PathRule>>
  | readonly (readonly [prefix: string, rule: PathRule])[]
  | ReadonlyMap<string, PathRule>;

/** Options of {@link pathRules}. */
export interface PathRulesOptions {
  /**
   * Path prefix → rule. A prefix matches whole segments: `/api/v1` matches `/api/v1` and
   * `/api/v1/x`, not `/api/v1x`; a trailing `/` changes nothing; `/` matches every path. The
   * longest matching prefix wins, whatever the order. Prefixes match the decoded path exactly
   * (case included). A path a router would serve under another prefix than that is refused with
   * 400: routers match the path as sent, so an escape inside a prefix misses it (`/%61dmin`),
   * Express by default and Connect ignore case (`/ADMIN/users` when `/admin` and `/` are rules),
   * and Connect ends a mount path at `.` (`/admin.json`). Prefixes that differ only in case
   * throw. Required, at least one.
   */
  rules: PathRuleTable;
  /**
   * Paths no prefix matches: `'deny'` (403 without asking), `'nonResource'` (checked as
   * {@link nonResourceAttributes} with its `'http'` verbs), or your own function.
   * Default: `'deny'`.
   */
  default?: 'deny' | 'nonResource' | AttributesFunction;
  /** How the method becomes the verb of a rule without `verb`. Default: `'kubelet'`. */
  verbs?: VerbMapping;
}

/** A {@link ResourceRule} with its defaults filled in; `verb` `''` means "from the method". */
type Template = Omit<Attributes, 'user' | 'resourceRequest' | 'path'>;

type Derive = (
  req: IncomingMessage & { originalUrl?: string },
  user: KubeUser,
  path: string,
  verb: string,
  match: RequestMatch,
) => Attributes | null;

interface Entry {
  /** Without the trailing `/`; `''` for `/`. */
  prefix: string;
  /** {@link prefix} as a case-insensitive router compares it. */
  folded: string;
  written: string;
  checks: Derive[];
  all: boolean;
  /** Whether a check is computed (and so needs a {@link PathMatch}). */
  computed: boolean;
}

const OPTION_NAMES = new Set(['rules', 'default', 'verbs']);
const RULE_FIELDS = new Set([
  'resource',
  'subresource',
  'group',
  'version',
  'namespace',
  'name',
  'verb',
]);
/** Names people write for a field, and the field they mean. */
const HINTS: Readonly<Record<string, string>> = {
  apiGroup: 'group',
  apiGroups: 'group',
  apiVersion: 'version',
  resources: 'resource',
  subresources: 'subresource',
  verbs: 'verb',
  namespaces: 'namespace',
  resourceName: 'name',
  resourceNames: 'name',
};

/**
 * Authorizes an app's routes as Kubernetes resources: each path prefix maps to the resource
 * attributes asked for it (the kubelet's table, made yours). A rule is fixed, computed from the
 * request, or `{ allOf: [...] }` (every check must be allowed; the 403 names the first refused).
 * The longest matching prefix wins; unmatched paths follow `default`. The table is checked and
 * sorted once; per request it is one loop over it. Bad configuration throws a `TypeError`.
 *
 * @example
 * kubeletAuthz({
 *   authorizer: webhookAuthorizer({ kubeConfig }),
 *   attributes: pathRules({
 *     rules: {
 *       '/metrics': { resource: 'services', subresource: 'proxy', namespace: 'monitoring', name: 'app' },
 *       // /namespaces/<namespace>/reports; anything else under /namespaces: 403
 *       '/namespaces': (req, user, path, { segments: [namespace, resource] }) =>
 *         namespace && resource === 'reports' ? { resource: 'reports', group: 'example.com', namespace } : null,
 *       '/export': { allOf: [{ resource: 'reports', group: 'example.com', verb: 'list' }, { resource: 'exports', group: 'example.com', verb: 'create' }] },
 *     },
 *   }),
 * });
 */
export function pathRules(options: PathRulesOptions): AttributesFunction {
  if (typeof options !== 'object' || options === null) {
    throw invalidOption('pathRules: options must be an object { rules, default?, verbs? }');
  }
  checkKnownKeys('pathRules', options, [...OPTION_NAMES]);
  const verbOf = verbFor(options.verbs ?? 'kubelet', 'pathRules: verbs');
  const entries = tableEntries(options.rules).map(([written, rule]) => compileEntry(written, rule));
  if (entries.length === 0) {
    throw invalidOption('pathRules: rules needs at least one path prefix');
  }
  const seen = new Map<string, Entry>();
  for (const entry of entries) {
    const other = seen.get(entry.folded);
    if (other !== undefined) {
      const pair = `${JSON.stringify(other.written)} and ${JSON.stringify(entry.written)}`;
      throw invalidOption(
        other.prefix === entry.prefix
          ? `pathRules: rules ${pair} are the same prefix`
          : `pathRules: rules ${pair} differ only in case, which Express (by default) and Connect do not tell apart`,
      );
    }
    seen.set(entry.folded, entry);
  }
  // Longest first: the first match is the longest (two different prefixes of one length never
  // both match a path).
  entries.sort((a, b) => b.prefix.length - a.prefix.length);
  const fallback = unmatched(options.default);
  // A prefix written with capitals matches lower-case paths loosely, so every path is compared.
  const capitals = entries.some((entry) => entry.folded !== entry.prefix);

  return function pathRulesAttributes(req, user, path): Attributes[] | AllOf | PathRefused {
    let entry: Entry | undefined;
    for (const e of entries) {
      if (isSubpath(path, e.prefix)) {
        entry = e;
        break;
      }
    }
    // The rule a router could serve the path under must be the rule it is authorized under:
    // routers match the path as sent (still encoded), and may match it loosely (any case;
    // Connect ends a mount path at ".").
    const routed = routedPathOf(req, path) ?? '';
    if (
      (capitals || routed !== path || mayRouteLoosely(path)) &&
      looseEntry(entries, foldCase(routed)) !== entry
    ) {
      return ROUTED_ELSEWHERE;
    }
    if (entry !== undefined) {
      const verb = verbOf(req.method ?? '');
      const match = entry.computed
        ? new RequestMatch(entry.written, path.slice(entry.prefix.length), req)
        : NO_MATCH;
      const records: Attributes[] = [];
      for (const check of entry.checks) {
        const record = check(req, user, path, verb, match);
        // A computed rule found nothing to ask about: deny the whole request.
        if (record === null) return [];
        records.push(record);
      }
      return entry.all ? { allOf: records } : records;
    }
    return fallback(req, user, path);
  };
}

/** The longest entry a router matching loosely could serve `folded` under. */
function looseEntry(entries: readonly Entry[], folded: string): Entry | undefined {
  for (const entry of entries) if (routerMatches(folded, entry.folded)) return entry;
  return undefined;
}

const ROUTED_ELSEWHERE: PathRefused = Object.freeze({ refused: PATH_REFUSALS.routedElsewhere });

function tableEntries(rules: unknown): [string, unknown][] {
  if (rules instanceof Map) return [...(rules as Map<unknown, unknown>)].map(pair);
  if (Array.isArray(rules)) return rules.map((entry: unknown) => pair(entry));
  if (typeof rules === 'object' && rules !== null) return Object.entries(rules);
  throw invalidOption(
    "pathRules: rules is required: path prefix → rule, e.g. { '/metrics': { resource: 'services', subresource: 'proxy' } }",
  );
}

function pair(entry: unknown): [string, unknown] {
  if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') {
    throw invalidOption('pathRules: rules as a list holds [prefix, rule] pairs');
  }
  return [entry[0], entry[1] as unknown];
}

function compileEntry(written: string, rule: unknown): Entry {
  const where = `pathRules: rules[${JSON.stringify(written)}]`;
  const prefix = normalizePrefix(written, where);
  if (typeof rule === 'object' && rule !== null && 'allOf' in rule) {
    const { allOf, ...rest } = rule as { allOf: unknown };
    if (Object.keys(rest).length > 0) {
      throw invalidOption(
        `${where}: allOf goes alone; put ${Object.keys(rest).join(', ')} in its checks`,
      );
    }
    if (!Array.isArray(allOf) || allOf.length === 0) {
      throw invalidOption(`${where}.allOf: expected a non-empty list of checks`);
    }
    const checks = allOf.map((check: unknown, i) => compileCheck(check, `${where}.allOf[${i}]`));
    return {
      prefix,
      folded: foldCase(prefix),
      written,
      checks,
      all: true,
      computed: allOf.some(isFunction),
    };
  }
  return {
    prefix,
    folded: foldCase(prefix),
    written,
    checks: [compileCheck(rule, where)],
    all: false,
    computed: isFunction(rule),
  };
}

function isFunction(value: unknown): value is ComputedRule {
  return typeof value === 'function';
}

function normalizePrefix(written: string, where: string): string {
  if (!written.startsWith('/')) {
    throw invalidOption(`${where}: a path prefix starts with "/"`);
  }
  if (written.includes('*')) {
    throw invalidOption(
      `${where}: prefixes match whole segments without wildcards: write ${JSON.stringify(written.replace(/\/?\*.*$/, '') || '/')}`,
    );
  }
  if (/(^|\/)\.{1,2}(\/|$)/.test(written) || written.includes('//')) {
    throw invalidOption(
      `${where}: "." and ".." segments and empty segments never match (such paths get 400)`,
    );
  }
  if (written.includes('?') || written.includes('#')) {
    throw invalidOption(`${where}: a prefix is a path, without query or fragment`);
  }
  // Routers match the path as sent: a character clients must percent-encode would never match
  // a router's route as written, while the decoded path would match the prefix.
  const encoded = /[^A-Za-z0-9\-._~!$&'()*+,;=:@/]/.exec(written);
  if (encoded) {
    throw invalidOption(
      `${where}: ${JSON.stringify(encoded[0])} is sent percent-encoded, so no router matches it as written: use letters, digits and -._~!$&'()*+,;=:@`,
    );
  }
  return written.endsWith('/') ? written.slice(0, -1) : written;
}

function compileCheck(check: unknown, where: string): Derive {
  if (isFunction(check)) {
    return function computedCheck(req, user, path, verb, match) {
      const result: unknown = check(req, user, path, match);
      if (typeof (result as { then?: unknown } | null)?.then === 'function') {
        throw invalidOption(`${where} returned a Promise: rule functions are synchronous`);
      }
      if (result === null) return null;
      return record(templateOf(result, `${where} returned`), verb, user, path);
    };
  }
  const template = templateOf(check, where);
  return function fixedCheck(_req, user, path, verb) {
    return record(template, verb, user, path);
  };
}

function record(t: Template, verb: string, user: KubeUser, path: string): Attributes {
  return {
    user,
    verb: t.verb || verb,
    namespace: t.namespace,
    apiGroup: t.apiGroup,
    apiVersion: t.apiVersion,
    resource: t.resource,
    subresource: t.subresource,
    name: t.name,
    resourceRequest: true,
    path,
  };
}

/** Checks a {@link ResourceRule} (at construction, or what a computed rule returned). */
function templateOf(rule: unknown, where: string): Template {
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
    throw invalidOption(
      `${where}: expected { resource, subresource?, group?, version?, namespace?, name?, verb? }, a function, or { allOf }`,
    );
  }
  const fields = rule as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (key === 'allOf') throw invalidOption(`${where}: allOf cannot be nested`);
  }
  checkKnownKeys(where, fields, [...RULE_FIELDS], { aliases: HINTS, noun: 'field' });
  const resource = fields['resource'];
  if (typeof resource !== 'string' || resource === '') {
    throw invalidOption(`${where}.resource: expected a non-empty string`);
  }
  if (resource.includes('/')) {
    const [res, sub] = resource.split('/', 2);
    throw invalidOption(
      `${where}.resource: ${JSON.stringify(resource)} has a "/": write { resource: ${JSON.stringify(res)}, subresource: ${JSON.stringify(sub)} }`,
    );
  }
  const verb = optionalString(fields, 'verb', where);
  if (fields['verb'] !== undefined && verb === '') {
    throw invalidOption(
      `${where}.verb: expected a non-empty verb (leave it out to map the method)`,
    );
  }
  return {
    verb,
    namespace: optionalString(fields, 'namespace', where),
    apiGroup: optionalString(fields, 'group', where),
    apiVersion: optionalString(fields, 'version', where),
    resource,
    subresource: optionalString(fields, 'subresource', where),
    name: optionalString(fields, 'name', where),
  };
}

function optionalString(fields: Record<string, unknown>, key: string, where: string): string {
  const value = fields[key];
  if (value === undefined) return '';
  if (typeof value !== 'string') {
    throw invalidOption(`${where}.${key}: expected a string, got ${typeof value}`);
  }
  return value;
}

function unmatched(fallback: PathRulesOptions['default']): AttributesFunction {
  if (fallback === undefined || fallback === 'deny') return () => [];
  if (fallback === 'nonResource') return nonResourceAttributes();
  if (typeof fallback === 'function') return fallback;
  throw invalidOption(
    `pathRules: default: expected 'deny', 'nonResource' or an attributes function, got ${JSON.stringify(fallback)}`,
  );
}

/** A {@link PathMatch} that works out segments and query only when a rule reads them. */
class RequestMatch implements PathMatch {
  #segments: readonly string[] | undefined;
  #query: URLSearchParams | undefined;

  constructor(
    readonly prefix: string,
    /** The path after the prefix: `''` or starting with `/`. */
    private readonly rest: string,
    private readonly req: { url?: string; originalUrl?: string },
  ) {}

  get segments(): readonly string[] {
    // Under `/`, the path `/` is the prefix itself.
    const atPrefix = this.rest === '' || (this.rest === '/' && this.prefix === '/');
    this.#segments ??= Object.freeze(atPrefix ? [] : this.rest.slice(1).split('/'));
    return this.#segments;
  }

  get query(): URLSearchParams {
    // The query the app's own parser sees (req.query), not one read past a fragment.
    this.#query ??= new URLSearchParams(routedQuery(this.req.originalUrl ?? this.req.url ?? ''));
    return this.#query;
  }
}

/** Given to fixed checks, which never read it. */
const NO_MATCH = new RequestMatch('', '', {});
