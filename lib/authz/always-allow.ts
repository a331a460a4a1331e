/**
 * Authorizers that allow without asking the API server: k8s.io/apiserver's always-allow paths
 * (`pkg/authorization/path`) and privileged groups (`authorizerfactory`, e.g. `system:masters`).
 * Each answers `Allow` or `NoOpinion`, never `Deny`, so a union goes on to the next authorizer
 * (the webhook); each knows its answer synchronously (`peek`). They authorize: they do not skip
 * authentication, so a request without valid credentials still gets 401 first.
 */
import type { Authorizer } from '../contracts.js';
import { answer, fromDecision, NO_OPINION, type Answer } from './authorizer.js';
import { invalidOption } from '../option-errors.js';

const DOT_SEGMENT = /(^|\/)\.{1,2}(\/|$)/;
const DOT_SEGMENT_IN_STEM = /(^|\/)\.{1,2}\//;

/**
 * Exact paths and prefixes (a pattern ending in `*` matches every path that starts with what
 * comes before the `*`), validated once. Matching is case-sensitive, on the decoded path.
 * (Shared by `alwaysAllowPaths` and `staticAuthorizer`.)
 *
 * @example new PathPatterns(['/healthz', '/debug/*'], 'paths').match('/debug/pprof') // '/debug/*'
 */
export class PathPatterns {
  readonly #exact = new Set<string>();
  readonly #prefixes: (readonly [prefix: string, pattern: string])[] = [];

  /**
   * @param patterns the patterns, each starting with `/` (or `*` alone, when `allowStar`)
   * @param where names the list in error messages, e.g. `alwaysAllowPaths: paths`
   * @param allowStar accept `'*'` alone (RBAC's every-URL wildcard)
   */
  constructor(patterns: unknown, where: string, allowStar = false) {
    if (!Array.isArray(patterns)) throw invalidOption(`${where} must be a list of paths`);
    patterns.forEach((pattern: unknown, i) => {
      const at = `${where}[${i}]`;
      const text = checkPathPattern(pattern, at, allowStar);
      if (text.endsWith('*')) this.#prefixes.push([text.slice(0, -1), text]);
      else this.#exact.add(text);
    });
  }

  /** The pattern matching `path` (an exact one first, then prefixes in order), or `undefined`. */
  match(path: string): string | undefined {
    if (this.#exact.has(path)) return path;
    for (const [prefix, pattern] of this.#prefixes) if (path.startsWith(prefix)) return pattern;
    return undefined;
  }
}

/**
 * Checks one path pattern and returns it. Patterns are compared with the decoded request path,
 * which never holds a dot segment or (being decoded) a percent escape, and never a query: a
 * pattern with one of those could never match as written, so it is a mistake worth stopping at.
 */
function checkPathPattern(pattern: unknown, at: string, allowStar: boolean): string {
  if (typeof pattern !== 'string') throw invalidOption(`${at} must be a string`);
  const quoted = JSON.stringify(pattern);
  if (allowStar && pattern === '*') return pattern;
  if (!pattern.startsWith('/')) {
    throw invalidOption(`${at} (${quoted}) must start with "/"`);
  }
  const star = pattern.indexOf('*');
  if (star !== -1 && star !== pattern.length - 1) {
    throw invalidOption(`${at} (${quoted}) may have one "*", only at the end`);
  }
  if (pattern.includes('%')) {
    throw invalidOption(
      `${at} (${quoted}) has a "%": paths are matched decoded, so write the character itself`,
    );
  }
  if (pattern.includes('?') || pattern.includes('#')) {
    throw invalidOption(`${at} (${quoted}) has a "?" or "#": paths are matched without the query`);
  }
  const dotted = star === -1 ? DOT_SEGMENT.test(pattern) : DOT_SEGMENT_IN_STEM.test(pattern);
  if (dotted) {
    throw invalidOption(
      `${at} (${quoted}) has a "." or ".." segment, which no accepted request path has`,
    );
  }
  return pattern;
}

/**
 * Allows every request whose decoded path is one of `paths`, or starts with the part before a
 * trailing `*` (k8s.io/apiserver's `--authorization-always-allow-paths`): `/healthz` is that
 * path only (not `/healthz/`, not `/healthzx`), `/healthz*` is every path starting `/healthz`,
 * `/debug/*` is every path under `/debug/` (not `/debug` itself). Anything else: `NoOpinion`.
 *
 * Unlike upstream, which only looks at non-resource requests, this matches the `path` of
 * resource requests too: behind the kubelet's attributes every request is a resource request
 * (`nodes/healthz`, …) whose `path` is the real request path, so `/healthz` passes as written.
 *
 * It authorizes any *authenticated* user, `system:anonymous` included when anonymous
 * authentication is on; a request with bad or no credentials (anonymous off) still gets 401.
 * Paths are checked as the middleware decoded and validated them: `/healthz/../pods` and
 * `/%2Fhealthz` are refused with 400 before any authorizer runs. Matching is case-sensitive.
 *
 * Throws `ERR_INVALID_OPTION` naming `alwaysAllowPaths` for a pattern that does not start with `/`,
 * has `*` anywhere but at the end, a `%`, a `?` or `#`, or a `.`/`..` segment.
 *
 * @example unionAuthorizer(alwaysAllowPaths(['/healthz', '/readyz', '/livez']), webhookAuthorizer({ kubeConfig }))
 */
export function alwaysAllowPaths(paths: string[]): Authorizer {
  const patterns = new PathPatterns(paths, 'alwaysAllowPaths: paths');
  const answers = new Map<string, Answer>();
  for (const pattern of paths) {
    answers.set(
      pattern,
      answer({ decision: 'Allow', reason: `allowed by always-allow path ${pattern}` }),
    );
  }
  return fromDecision(function alwaysAllowPath(attributes) {
    const pattern = patterns.match(attributes.path);
    return pattern === undefined ? NO_OPINION : (answers.get(pattern) ?? NO_OPINION);
  });
}

/** Groups every authenticated (or every anonymous) user has: allowing them is `alwaysAllow()`. */
const EVERYONE_GROUPS = new Set(['system:authenticated', 'system:unauthenticated']);

/**
 * Allows every request of a user in one of `groups` (k8s.io/apiserver's privileged-groups
 * authorizer, which the API server uses for `system:masters`), with the reason
 * `allowed by group <group>` for audit; anyone else: `NoOpinion`. Group names are exact.
 *
 * Throws `ERR_INVALID_OPTION` naming `alwaysAllowGroups` for a name that is not a non-empty string,
 * for `'*'`, and for `system:authenticated`/`system:unauthenticated` (everyone: use
 * `alwaysAllow()` if that is really meant).
 *
 * @example unionAuthorizer(alwaysAllowGroups(['system:masters']), webhookAuthorizer({ kubeConfig }))
 */
export function alwaysAllowGroups(groups: string[]): Authorizer {
  if (!Array.isArray(groups)) throw invalidOption('alwaysAllowGroups: groups must be a list');
  const answers = new Map<string, Answer>();
  groups.forEach((group: unknown, i) => {
    const at = `alwaysAllowGroups: groups[${i}]`;
    if (typeof group !== 'string' || group === '') {
      throw invalidOption(`${at} must be a non-empty string`);
    }
    if (group === '*') throw invalidOption(`${at} is "*", which is no wildcard here`);
    if (EVERYONE_GROUPS.has(group)) {
      throw invalidOption(
        `${at} is ${group}, which would allow everyone everything; use alwaysAllow() if that is meant`,
      );
    }
    answers.set(group, answer({ decision: 'Allow', reason: `allowed by group ${group}` }));
  });
  return fromDecision(function alwaysAllowGroup(attributes) {
    for (const group of attributes.user.groups) {
      const found = answers.get(group);
      if (found) return found;
    }
    return NO_OPINION;
  });
}
