/** What `explain` prints for one request: the text explanation, or the same as JSON-ready data. */
import { stringify } from 'yaml';
import { escapeControlCharacters as printable } from '../control-characters.js';
import type { Attributes } from '../contracts.js';
import type { ExplainResult, PolicyRule, SubjectAccessReview } from './explain.js';

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
