import type { Attributes, AllOf, AttributesFunction, PathRefused } from '../contracts.js';
import { checkKnownKeys, invalidOption } from '../option-errors.js';
import { isSubpath } from './attributes.js';
import { nonResourceAttributes } from './non-resource.js';
import { pathMatch, type PathMatch } from './path-rules/path-match.js';
import { compileRuleTable, type PathRuleTable, type RuleEntry } from './path-rules/rule-table.js';
import { PATH_REFUSALS, routedPathOf } from './request-path.js';
import { foldCase, mayRouteLoosely, routerMatches } from './router-match.js';
import { verbFor, type VerbMapping } from './verbs.js';

export type { ResourceRule } from './path-rules/resource-rule.js';
export type { PathMatch } from './path-rules/path-match.js';
export type { ComputedRule, PathCheck, PathRule, PathRuleTable } from './path-rules/rule-table.js';

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

const OPTION_NAMES = ['rules', 'default', 'verbs'];

/**
 * Authorizes an app's routes as Kubernetes resources: each path prefix maps to the resource
 * attributes asked for it (the kubelet's table, made yours). A rule is fixed, computed from the
 * request, or `{ allOf: [...] }` (every check must be allowed; the 403 names the first refused).
 * The longest matching prefix wins; unmatched paths follow `default`. The table is checked once,
 * at construction: bad configuration throws `ERR_INVALID_OPTION`.
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
  checkKnownKeys('pathRules', options, OPTION_NAMES);
  const verbOf = verbFor(options.verbs ?? 'kubelet', 'pathRules: verbs');
  const entries = compileRuleTable(options.rules);
  const fallback = unmatched(options.default);
  // A prefix written with capitals matches lower-case paths loosely, so every path is compared.
  const capitals = entries.some((entry) => entry.folded !== entry.prefix);

  return function pathRulesAttributes(req, user, path): Attributes[] | AllOf | PathRefused {
    let entry: RuleEntry | undefined;
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
        ? pathMatch(entry.written, path.slice(entry.prefix.length), req)
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
function looseEntry(entries: readonly RuleEntry[], folded: string): RuleEntry | undefined {
  for (const entry of entries) if (routerMatches(folded, entry.folded)) return entry;
  return undefined;
}

const ROUTED_ELSEWHERE: PathRefused = Object.freeze({ refused: PATH_REFUSALS.routedElsewhere });

/** Given to fixed checks, which never read it. */
const NO_MATCH: PathMatch = Object.freeze({
  prefix: '',
  segments: Object.freeze([]),
  query: new URLSearchParams(),
});

function unmatched(fallback: PathRulesOptions['default']): AttributesFunction {
  if (fallback === undefined || fallback === 'deny') return () => [];
  if (fallback === 'nonResource') return nonResourceAttributes();
  if (typeof fallback === 'function') return fallback;
  throw invalidOption(
    `pathRules: default: expected 'deny', 'nonResource' or an attributes function, got ${JSON.stringify(fallback)}`,
  );
}
