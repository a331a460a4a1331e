/**
 * Static authorization rules, as kube-rbac-proxy's `authorization.static`, written like RBAC
 * PolicyRules with their subjects: decided in process, without a SubjectAccessReview.
 */
import type { Attributes, Authorizer } from '../contracts.js';
import { answer, fromDecision, NO_OPINION, type Answer } from './authorizer.js';
import { PathPatterns } from './always-allow.js';
import type { KubeletAuthError } from '../errors.js';
import { checkKnownKeys, invalidOption } from '../option-errors.js';

/**
 * One rule of {@link staticAuthorizer}: who (`users`, `groups`), what verbs, and either resources
 * (`resources`, narrowed by `apiGroups`, `namespaces`, `resourceNames`) or `nonResourceURLs`.
 * A rule allows what an RBAC binding of the same rule to the same subjects would allow.
 */
export interface StaticRule {
  /** User names the rule applies to (exact, e.g. `system:serviceaccount:monitoring:prometheus`). Default: none. */
  users?: string[];
  /** Groups the rule applies to: a request matches when any of its user's groups is listed. Default: none. At least one user or group is required. */
  groups?: string[];
  /** Verbs (`get`, `create`, …); `'*'` matches every verb. Required. */
  verbs: string[];
  /**
   * Resources, as RBAC writes them: `'nodes'` (the main resource only), `'nodes/metrics'`
   * (one subresource), `'*'` (everything), `'*\/metrics'` (that subresource of any resource); and
   * `'nodes/*'` (every subresource of `nodes`, not `nodes` itself), which RBAC does not have.
   * Default: none (then `nonResourceURLs` is required).
   */
  resources?: string[];
  /** API groups of `resources`: `''` is the core group, `'*'` every group. Default: `['']`. */
  apiGroups?: string[];
  /** Namespaces of `resources`: `''` is cluster-scoped (the kubelet's requests), `'*'` every one. Default: every namespace. */
  namespaces?: string[];
  /** Object names of `resources` (the kubelet asks about its node name). Default: every name. */
  resourceNames?: string[];
  /**
   * Paths of non-resource requests: exact, a prefix ending in `*`, or `'*'` (RBAC's
   * `nonResourceURLs`). They never match resource requests, and every request the kubelet's
   * attributes describe is one: use `resources` (`nodes/metrics`) or `alwaysAllowPaths` there.
   * Default: none (then `resources` is required).
   */
  nonResourceURLs?: string[];
}

const FIELDS: readonly (keyof StaticRule)[] = [
  'users',
  'groups',
  'verbs',
  'resources',
  'apiGroups',
  'namespaces',
  'resourceNames',
  'nonResourceURLs',
];

/** Every one (`'*'`) or the listed ones. */
type Matcher = ReadonlySet<string> | 'all';

/** RBAC resource matching: the entries of `resources`, by form. */
interface ResourceMatcher {
  /** `'*'`. */
  all: boolean;
  /** `'nodes'`: the main resource only. */
  main: Set<string>;
  /** `'nodes/metrics'`: subresources by resource. */
  sub: Map<string, Set<string>>;
  /** `'nodes/*'`: every subresource of these resources. */
  allSubsOf: Set<string>;
  /** `'*\/metrics'`: these subresources of any resource (`'*\/*'`: `anySub`). */
  subOfAny: Set<string>;
  anySub: boolean;
}

interface CompiledRule {
  users: ReadonlySet<string>;
  groups: ReadonlySet<string>;
  verbs: Matcher;
  resources?: ResourceMatcher;
  apiGroups: Matcher;
  namespaces: Matcher;
  resourceNames: Matcher;
  nonResourceURLs?: PathPatterns;
  answer: Answer;
}

/**
 * Allows the requests one of `rules` matches, in process, with the reason
 * `allowed by staticAuthorizer rules[<i>]` (the first matching rule); anything else:
 * `NoOpinion`, so a union goes on (to the webhook). A rule matches when the user's name is in
 * `users` or one of its groups is in `groups`, the verb is in `verbs`, and the request is a
 * resource request matched by `resources`, `apiGroups`, `namespaces`, `resourceNames`, or a
 * non-resource request whose path `nonResourceURLs` matches — RBAC's matching.
 *
 * Rules are compiled once; a malformed rule (no users or groups, no verbs, both or neither of
 * `resources` and `nonResourceURLs`, an empty list, a misspelt field) throws `ERR_INVALID_OPTION` naming
 * `staticAuthorizer`, the rule's index and the field.
 *
 * @example
 * unionAuthorizer(
 *   staticAuthorizer([
 *     { users: ['system:serviceaccount:monitoring:prometheus'], verbs: ['get'], resources: ['nodes/metrics'] },
 *   ]),
 *   webhookAuthorizer({ kubeConfig }),
 * )
 */
export function staticAuthorizer(rules: StaticRule[]): Authorizer {
  if (!Array.isArray(rules)) throw invalidOption('staticAuthorizer: rules must be a list');
  const compiled = rules.map(compileRule);
  return fromDecision(function staticRules(attributes) {
    for (const rule of compiled) if (matches(rule, attributes)) return rule.answer;
    return NO_OPINION;
  });
}

function matches(rule: CompiledRule, a: Attributes): boolean {
  if (!appliesTo(rule, a.user)) return false;
  if (!has(rule.verbs, a.verb)) return false;
  if (!a.resourceRequest) {
    return rule.nonResourceURLs !== undefined && rule.nonResourceURLs.match(a.path) !== undefined;
  }
  return (
    rule.resources !== undefined &&
    has(rule.apiGroups, a.apiGroup) &&
    resourceMatches(rule.resources, a.resource, a.subresource) &&
    has(rule.namespaces, a.namespace) &&
    has(rule.resourceNames, a.name)
  );
}

function appliesTo(rule: CompiledRule, user: Attributes['user']): boolean {
  if (rule.users.has(user.username)) return true;
  for (const group of user.groups) if (rule.groups.has(group)) return true;
  return false;
}

function has(matcher: Matcher, value: string): boolean {
  return matcher === 'all' || matcher.has(value);
}

function resourceMatches(m: ResourceMatcher, resource: string, subresource: string): boolean {
  if (m.all) return true;
  if (subresource === '') return m.main.has(resource);
  return (
    m.anySub ||
    m.subOfAny.has(subresource) ||
    m.allSubsOf.has(resource) ||
    m.sub.get(resource)?.has(subresource) === true
  );
}

function compileRule(raw: StaticRule, index: number): CompiledRule {
  const where = `staticAuthorizer: rules[${index}]`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalidOption(`${where} must be an object`);
  }
  checkKnownKeys(where, raw, FIELDS, { noun: 'field' });
  const users = names(raw.users, `${where}.users`);
  const groups = names(raw.groups, `${where}.groups`);
  if (users.size === 0 && groups.size === 0) {
    throw invalidOption(`${where} names no users or groups, so it could never apply`);
  }
  const rule: CompiledRule = {
    users,
    groups,
    verbs: matcher(strings(raw.verbs, `${where}.verbs`, 'required')),
    apiGroups: 'all',
    namespaces: 'all',
    resourceNames: 'all',
    answer: answer({ decision: 'Allow', reason: `allowed by staticAuthorizer rules[${index}]` }),
  };
  const hasResources = raw.resources !== undefined;
  const hasURLs = raw.nonResourceURLs !== undefined;
  if (hasResources === hasURLs) {
    throw invalidOption(
      `${where} needs either resources or nonResourceURLs${hasResources ? ', not both' : ''}`,
    );
  }
  if (hasURLs) {
    for (const field of ['apiGroups', 'namespaces', 'resourceNames'] as const) {
      if (raw[field] !== undefined) {
        throw invalidOption(`${where}.${field} only goes with resources, not nonResourceURLs`);
      }
    }
    strings(raw.nonResourceURLs, `${where}.nonResourceURLs`, 'required');
    rule.nonResourceURLs = new PathPatterns(raw.nonResourceURLs, `${where}.nonResourceURLs`, true);
    return rule;
  }
  rule.resources = resourceMatcher(strings(raw.resources, `${where}.resources`, 'required'), where);
  rule.apiGroups =
    raw.apiGroups === undefined
      ? new Set([''])
      : matcher(strings(raw.apiGroups, `${where}.apiGroups`, 'empty allowed'));
  if (raw.namespaces !== undefined) {
    rule.namespaces = matcher(strings(raw.namespaces, `${where}.namespaces`, 'empty allowed'));
  }
  if (raw.resourceNames !== undefined) {
    rule.resourceNames = matcher(strings(raw.resourceNames, `${where}.resourceNames`, 'required'));
  }
  return rule;
}

/**
 * A non-empty list of strings. `'required'`: each string non-empty too; `'empty allowed'`: `''`
 * means something (the core API group, cluster scope). An empty list is refused either way,
 * rather than read as "every" (RBAC's `resourceNames`) or "none": leave the field out instead.
 */
function strings(value: unknown, at: string, entries: 'required' | 'empty allowed'): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw invalidOption(`${at} must be a non-empty list of strings`);
  }
  value.forEach((entry: unknown, i) => {
    if (typeof entry !== 'string' || (entries === 'required' && entry === '')) {
      throw invalidOption(`${at}[${i}] must be a non-empty string`);
    }
  });
  return value as string[];
}

/** Users or groups: optional, exact names (no wildcard: name `system:authenticated` instead). */
function names(value: unknown, at: string): ReadonlySet<string> {
  if (value === undefined) return new Set();
  if (!Array.isArray(value)) throw invalidOption(`${at} must be a list of strings`);
  value.forEach((entry: unknown, i) => {
    if (typeof entry !== 'string' || entry === '') {
      throw invalidOption(`${at}[${i}] must be a non-empty string`);
    }
    if (entry === '*') {
      throw invalidOption(
        `${at}[${i}] is "*", which is no wildcard here: name the users or groups (e.g. system:authenticated)`,
      );
    }
  });
  return new Set(value as string[]);
}

function matcher(list: string[]): Matcher {
  return list.includes('*') ? 'all' : new Set(list);
}

function resourceMatcher(resources: string[], where: string): ResourceMatcher {
  const m: ResourceMatcher = {
    all: false,
    main: new Set(),
    sub: new Map(),
    allSubsOf: new Set(),
    subOfAny: new Set(),
    anySub: false,
  };
  resources.forEach((text, i) => {
    const parts = text.split('/');
    const [resource = '', subresource] = parts;
    const bad = (why: string): KubeletAuthError =>
      invalidOption(`${where}.resources[${i}] (${JSON.stringify(text)}) ${why}`);
    if (parts.length > 2 || resource === '' || subresource === '') {
      throw bad('must be "resource", "resource/subresource", "*" or "*/subresource"');
    }
    if (partialStar(resource) || partialStar(subresource)) {
      throw bad('may use "*" only as a whole resource or subresource');
    }
    if (subresource === undefined) {
      if (resource === '*') m.all = true;
      else m.main.add(resource);
    } else if (resource === '*') {
      if (subresource === '*') m.anySub = true;
      else m.subOfAny.add(subresource);
    } else if (subresource === '*') {
      m.allSubsOf.add(resource);
    } else {
      let subs = m.sub.get(resource);
      if (!subs) m.sub.set(resource, (subs = new Set()));
      subs.add(subresource);
    }
  });
  return m;
}

/** `nodes*`, `*s`: a `*` that is not the whole part, which RBAC never treats as a wildcard. */
function partialStar(part: string | undefined): boolean {
  return part !== undefined && part !== '*' && part.includes('*');
}
