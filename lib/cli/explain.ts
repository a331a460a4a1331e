/**
 * `express-kubelet-auth explain`: what the middleware asks the API server for one request, and
 * the RBAC that answers yes. Pure functions; `main.ts` does the argv and I/O.
 */
import { stringify } from 'yaml';
import type { SubjectAccessReviewSpec } from '../apiserver/reviews.js';
import { kubeletRequestAttributes, kubeletRouteConflict } from '../authz/attributes.js';
import { checkRequestPath, PATH_REFUSALS, routedPathOf } from '../authz/request-path.js';
import { subjectAccessReviewSpec } from '../authz/subject-access-review.js';
import { escapeControlCharacters as printable, quoted } from '../control-characters.js';
import type { Attributes, KubeUser } from '../contracts.js';
import { ANONYMOUS_USER, anonymousUser, withAuthenticatedGroup } from '../user.js';

/** The user name used when none is given; the output says it is an example. */
export const EXAMPLE_USER = 'example-user';
/** The ClusterRole name `clusterRoleFor` uses when none is given. */
export const DEFAULT_ROLE_NAME = 'kubelet-api-access';

/** Who asks, and which kubelet behaviour to mirror. */
export interface ExplainOptions {
  /** The node name the middleware is configured with (`resourceAttributes.name`). */
  nodeName: string;
  /** Default {@link EXAMPLE_USER}. `system:anonymous` gets the group `system:unauthenticated` only. */
  user?: string;
  groups?: string[];
  uid?: string;
  /** Fine-grained kubelet authorization, as the middleware's option. Default `true`. */
  fineGrained?: boolean;
}

/** One RBAC `PolicyRule`, reduced to the fields a kubelet rule needs. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** An RBAC ClusterRole, as `clusterRoleFor` prints it. */
export interface ClusterRole {
  apiVersion: 'rbac.authorization.k8s.io/v1';
  kind: 'ClusterRole';
  metadata: { name: string };
  rules: PolicyRule[];
}

/** A SubjectAccessReview request body as the package sends it. */
export interface SubjectAccessReview {
  apiVersion: 'authorization.k8s.io/v1';
  kind: 'SubjectAccessReview';
  spec: SubjectAccessReviewSpec;
}

/** What {@link explainRequest} found: either a 400 before authorization, or the reviews asked. */
export type ExplainResult =
  | { refused: true; method: string; url: string; reason: string }
  | {
      refused: false;
      method: string;
      url: string;
      /** The decoded path the kubelet rules see. */
      path: string;
      user: KubeUser;
      /** `true` when no user was given and {@link EXAMPLE_USER} stands in. */
      exampleUser: boolean;
      /** In the order asked; the first Allow wins. */
      attributes: Attributes[];
      reviews: SubjectAccessReview[];
      /** The narrowest rule that allows the first attribute. */
      rule: PolicyRule;
      /** `true` when a later attribute is `nodes/proxy`, so a proxy grant also lets it in. */
      proxyFallback: boolean;
    };

/**
 * Derives, for one request, what the middleware would do: the 400 it answers for a path it
 * refuses, or the attribute records, the SubjectAccessReviews and the minimal rule.
 *
 * @example explainRequest('GET', '/stats/summary', { nodeName: 'node-a' }).refused // false
 */
export function explainRequest(
  method: string,
  url: string,
  options: ExplainOptions,
): ExplainResult {
  const path = checkRequestPath({ url });
  if (typeof path !== 'string') return { refused: true, method, url, reason: path.refused };
  const routed = routedPathOf({ url }, path);
  if (kubeletRouteConflict(path, { routed, fineGrained: options.fineGrained ?? true })) {
    return { refused: true, method, url, reason: PATH_REFUSALS.routedElsewhere };
  }
  const user = explainedUser(options);
  const attributes = kubeletRequestAttributes(user, method, path, {
    nodeName: options.nodeName,
    fineGrained: options.fineGrained ?? true,
  });
  const first = attributes[0] as Attributes; // the kubelet always derives at least one
  return {
    refused: false,
    method,
    url,
    path,
    user,
    exampleUser: options.user === undefined,
    attributes,
    reviews: attributes.map((a) => ({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: subjectAccessReviewSpec(a),
    })),
    rule: ruleFor(first.subresource, first.verb),
    proxyFallback: attributes.slice(1).some((a) => a.subresource === 'proxy'),
  };
}

// The user as the authenticators hand it to authorization: anonymous, or with `system:authenticated` added.
function explainedUser(options: ExplainOptions): KubeUser {
  const username = options.user ?? EXAMPLE_USER;
  if (username === ANONYMOUS_USER) return anonymousUser();
  const user: KubeUser = { username, groups: [...(options.groups ?? [])] };
  if (options.uid) user.uid = options.uid;
  return withAuthenticatedGroup(user);
}

// RBAC has no way to name the empty verb; only '*' matches it.
function rbacVerb(verb: string): string {
  return verb === '' ? '*' : verb;
}

function ruleFor(subresource: string, verb: string): PolicyRule {
  return { apiGroups: [''], resources: [`nodes/${subresource}`], verbs: [rbacVerb(verb)] };
}

/** How `explain` prints: text with YAML, or JSON. */
export type OutputFormat = 'yaml' | 'json';

/** Serializes an object for a human: YAML (the `yaml` package) or indented JSON. */
export function serialize(value: unknown, output: OutputFormat = 'yaml'): string {
  return output === 'json' ? `${JSON.stringify(value, null, 2)}\n` : stringify(value);
}

/**
 * The plain-text explanation `explain METHOD PATH` prints. Ends with a newline. What the user
 * typed is shown with its control characters escaped, so it cannot drive the terminal.
 */
export function formatExplanation(result: ExplainResult): string {
  const lines = [`Request: ${printable(result.method)} ${printable(result.url)}`];
  if (result.refused) {
    lines.push(
      'Decoded path: none. The middleware answers 400 Bad Request before authorizing,',
      `because ${result.reason}.`,
    );
    return `${lines.join('\n')}\n`;
  }
  const { user } = result;
  lines.push(
    `Decoded path: ${printable(result.path)} (accepted: no 400)`,
    `User: ${printable(user.username)}${result.exampleUser ? ' (an example: pass --user NAME)' : ''}` +
      `, groups [${printable(user.groups.join(', '))}]${user.uid ? `, uid ${printable(user.uid)}` : ''}`,
    '',
    'Attributes, asked in this order; the first Allow lets the request in:',
    ...result.attributes.map(
      (a, i) =>
        `  ${i + 1}. verb ${a.verb === '' ? '(empty verb: only "*" rules match)' : a.verb}, ` +
        `resource ${a.resource}, subresource ${a.subresource}, name ${printable(a.name)}`,
    ),
    '',
    'SubjectAccessReviews sent (POST /apis/authorization.k8s.io/v1/subjectaccessreviews):',
    ...result.reviews.map((review, i) => `  ${i + 1}. ${printable(JSON.stringify(review))}`),
    '',
    'Minimal ClusterRole rule that allows it:',
    serialize([result.rule]).trimEnd(),
  );
  const note = proxyNote(result);
  if (note) lines.push('', `Note: ${note.join('\n')}`);
  return `${lines.join('\n')}\n`;
}

// The warning about nodes/proxy, as the lines the text prints; the JSON report joins them.
function proxyNote(result: Extract<ExplainResult, { refused: false }>): string[] | undefined {
  const broad =
    'nodes/proxy is broad: it also allows exec, attach and run in every pod of the node.';
  if (result.proxyFallback) {
    const verbs = result.rule.verbs.join(', ');
    return [
      `a "nodes/proxy" grant with verb ${verbs} would also allow it (the fallback),`,
      `but ${broad}`,
    ];
  }
  return result.rule.resources[0] === 'nodes/proxy' ? [broad] : undefined;
}

/**
 * Everything the text explanation says, as data: what `explain --output=json` prints. The same
 * fields are present whether the path is accepted or refused, so a script can read them without
 * first telling the two apart.
 */
export interface ExplainReport {
  request: { method: string; url: string };
  /** The answer the middleware gives before authorizing, or `null` when the path is accepted. */
  refused: { status: 400; reason: string } | null;
  /** The decoded path the kubelet rules see; `null` when refused. */
  decodedPath: string | null;
  /** Who is asked about; `example` is `true` when no user was given. `null` when refused. */
  user: { username: string; groups: string[]; uid?: string; example: boolean } | null;
  /** The attribute records, in the order asked (the first Allow wins); the user is `user`. */
  attributes: Omit<Attributes, 'user'>[];
  /** The SubjectAccessReview bodies sent, one per attribute record. */
  subjectAccessReviews: SubjectAccessReview[];
  /** The narrowest RBAC rule that allows the request; `null` when refused. */
  minimalRule: PolicyRule | null;
  /** `true` when a later attribute is `nodes/proxy`, so a proxy grant also lets it in. */
  proxyFallback: boolean;
  /** Warnings, one sentence each (e.g. how broad `nodes/proxy` is). */
  notes: string[];
}

/**
 * The JSON-ready report of an explanation. Strings are kept as given; escape the serialized
 * text before it reaches a terminal (JSON leaves C1 and bidirectional characters as they are).
 *
 * @example explanationReport(explainRequest('GET', '/pods', { nodeName: 'n' })).proxyFallback // true
 */
export function explanationReport(result: ExplainResult): ExplainReport {
  const request = { method: result.method, url: result.url };
  if (result.refused) {
    return {
      request,
      refused: { status: 400, reason: result.reason },
      decodedPath: null,
      user: null,
      attributes: [],
      subjectAccessReviews: [],
      minimalRule: null,
      proxyFallback: false,
      notes: [],
    };
  }
  const { username, groups, uid } = result.user;
  const note = proxyNote(result);
  return {
    request,
    refused: null,
    decodedPath: result.path,
    user: { username, groups, ...(uid ? { uid } : {}), example: result.exampleUser },
    attributes: result.attributes.map((a) => ({
      verb: a.verb,
      namespace: a.namespace,
      apiGroup: a.apiGroup,
      apiVersion: a.apiVersion,
      resource: a.resource,
      subresource: a.subresource,
      name: a.name,
      resourceRequest: a.resourceRequest,
      path: a.path,
    })),
    subjectAccessReviews: result.reviews,
    minimalRule: result.rule,
    proxyFallback: result.proxyFallback,
    notes: note ? [note.join(' ')] : [],
  };
}

/** One `METHOD PATH` line of an `--rbac` file that the middleware would answer with 400. */
export interface RefusedLine {
  /** 1-based line number. */
  line: number;
  reason: string;
}

/** A line of an `--rbac` file that is not `METHOD PATH`. */
export class RequestListError extends Error {
  constructor(
    readonly line: number,
    detail: string,
  ) {
    super(`line ${line}: ${detail}`);
    this.name = 'RequestListError';
  }
}

// An HTTP method is an RFC 9110 token.
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * The smallest ClusterRole that lets every `METHOD PATH` line in: one `nodes/<subresource>` per
 * line (its first attribute: the narrowest grant), merged per subresource, then grouped into one
 * rule per verb set. Rules, resources and verbs are sorted so the output is stable. Blank lines
 * and `#` comments are skipped; paths refused with 400 are left out and listed in `refused`.
 *
 * @throws RequestListError for a line that is not `METHOD PATH`.
 */
export function clusterRoleFor(
  lines: readonly string[],
  options: { name?: string; fineGrained?: boolean } = {},
): { role: ClusterRole; yaml: string; refused: RefusedLine[] } {
  const verbsBySubresource = new Map<string, Set<string>>();
  const refused: RefusedLine[] = [];
  lines.forEach((text, index) => {
    const line = index + 1;
    const content = text.replace(/#.*/, '').trim();
    if (content === '') return;
    const fields = content.split(/\s+/);
    const [method, url] = fields;
    if (fields.length !== 2 || method === undefined || url === undefined) {
      throw new RequestListError(line, `expected "METHOD PATH", got ${quoted(text)}`);
    }
    if (!METHOD.test(method)) throw new RequestListError(line, `bad HTTP method ${quoted(method)}`);
    // The node name does not appear in the rule, so any placeholder does.
    const result = explainRequest(method, url, {
      nodeName: 'node',
      fineGrained: options.fineGrained ?? true,
    });
    if (result.refused) {
      refused.push({
        line,
        reason: `${method} ${printable(url)} is refused with 400: ${result.reason}`,
      });
      return;
    }
    const [resource] = result.rule.resources as [string];
    const verbs = verbsBySubresource.get(resource) ?? new Set<string>();
    for (const verb of result.rule.verbs) verbs.add(verb);
    verbsBySubresource.set(resource, verbs);
  });

  const resourcesByVerbs = new Map<string, string[]>();
  for (const [resource, verbSet] of verbsBySubresource) {
    // '*' already covers every other verb.
    const verbs = verbSet.has('*') ? ['*'] : [...verbSet].sort();
    const key = verbs.join(',');
    resourcesByVerbs.set(key, [...(resourcesByVerbs.get(key) ?? []), resource]);
  }
  const rules: PolicyRule[] = [...resourcesByVerbs]
    .map(([key, resources]) => ({
      apiGroups: [''],
      resources: resources.sort(),
      verbs: key.split(','),
    }))
    .sort((a, b) => compare(a.resources[0] ?? '', b.resources[0] ?? ''));
  const role: ClusterRole = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: options.name ?? DEFAULT_ROLE_NAME },
    rules,
  };
  return { role, yaml: stringify(role), refused };
}

// Code-unit order, independent of the locale.
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
