import type { IncomingMessage } from 'node:http';
import type { Attributes, KubeUser } from '../../contracts.js';
import { invalidOption } from '../../option-errors.js';
import { foldCase } from '../router-match.js';
import type { PathMatch } from './path-match.js';
import { resourceAttributes, resourceTemplate, type ResourceRule } from './resource-rule.js';

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

/** One check of a rule, compiled: the record it asks for, or `null` to deny the request. */
export type CompiledCheck = (
  req: IncomingMessage & { originalUrl?: string },
  user: KubeUser,
  path: string,
  verb: string,
  match: PathMatch,
) => Attributes | null;

/** A prefix of the table and its rule, checked and compiled. */
export interface RuleEntry {
  /** Without the trailing `/`; `''` for `/`. */
  prefix: string;
  /** {@link prefix} as a case-insensitive router compares it. */
  folded: string;
  /** The prefix as written in the table. */
  written: string;
  checks: CompiledCheck[];
  /** Whether every check must allow (`allOf`), rather than the first. */
  all: boolean;
  /** Whether a check is computed (and so needs a {@link PathMatch}). */
  computed: boolean;
}

/**
 * Checks and compiles a rule table, longest prefix first: so the first entry that matches a
 * path is the longest (two different prefixes of one length never both match a path). Throws
 * `ERR_INVALID_OPTION` naming the prefix for a bad rule, and for prefixes that are the same or
 * differ only in case.
 */
export function compileRuleTable(rules: unknown): RuleEntry[] {
  const entries = tableEntries(rules).map(([written, rule]) => compileEntry(written, rule));
  if (entries.length === 0) {
    throw invalidOption('pathRules: rules needs at least one path prefix');
  }
  const seen = new Map<string, RuleEntry>();
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
  return entries.sort((a, b) => b.prefix.length - a.prefix.length);
}

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

function compileEntry(written: string, rule: unknown): RuleEntry {
  const where = `pathRules: rules[${JSON.stringify(written)}]`;
  const prefix = normalizePrefix(written, where);
  const entry = { prefix, folded: foldCase(prefix), written };
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
    return { ...entry, checks, all: true, computed: allOf.some(isFunction) };
  }
  return { ...entry, checks: [compileCheck(rule, where)], all: false, computed: isFunction(rule) };
}

function isFunction(value: unknown): value is ComputedRule {
  return typeof value === 'function';
}

/** The prefix as matched (without a trailing `/`), or `ERR_INVALID_OPTION` for one that never matches. */
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

function compileCheck(check: unknown, where: string): CompiledCheck {
  if (isFunction(check)) {
    return function computedCheck(req, user, path, verb, match) {
      const result: unknown = check(req, user, path, match);
      if (typeof (result as { then?: unknown } | null)?.then === 'function') {
        throw invalidOption(`${where} returned a Promise: rule functions are synchronous`);
      }
      if (result === null) return null;
      return resourceAttributes(resourceTemplate(result, `${where} returned`), verb, user, path);
    };
  }
  const template = resourceTemplate(check, where);
  return function fixedCheck(_req, user, path, verb) {
    return resourceAttributes(template, verb, user, path);
  };
}
