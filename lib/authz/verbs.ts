import { kubeletVerb } from './attributes.js';
import { invalidOption } from '../option-errors.js';

/**
 * How an HTTP method becomes the verb of an authorization check:
 * - `'kubelet'` — the kubelet's table: POST `create`, GET `get`, HEAD `get`, PUT `update`,
 *   PATCH `patch`, DELETE `delete`; every other method, OPTIONS included, the empty verb.
 *   For resource attributes (`nodes/proxy`, `reports.example.com`).
 * - `'http'` — the method in lower case (`get`, `head`, `options`, `post`, …), as the API server
 *   derives the verb of a non-resource request and as controller-runtime's metrics filter does.
 *   HEAD asks `head` and OPTIONS asks `options`: an RBAC rule that should allow them lists them.
 * - a record — exact method → verb (`{ GET: 'get', HEAD: 'get', POST: 'create' }`); methods it
 *   does not list get the empty verb.
 *
 * The empty verb is left out of the SubjectAccessReview and matches no RBAC rule that lists
 * verbs, so a method mapped to `''` is denied — except to users granted every verb (`'*'`).
 * Methods are compared case-sensitively, upper case, exactly as Node reports `req.method`.
 */
export type VerbMapping = 'kubelet' | 'http' | Readonly<Record<string, string>>;

/** A method → verb function resolved from a {@link VerbMapping}. */
export type VerbFunction = (method: string) => string;

/** `'get'` for `'GET'`: what the API server does for non-resource requests. */
function httpVerb(method: string): string {
  return method.toLowerCase();
}

/** A header-field token (RFC 9110 `tchar`), upper case: what Node can report as a method. */
const METHOD = /^[A-Z0-9!#$%&'*+.^_`|~-]+$/;

/**
 * Resolves a {@link VerbMapping} once, at construction, into a method → verb function; throws
 * `ERR_INVALID_OPTION` naming `option` for a mapping that is not one. HEAD and OPTIONS are where the
 * mappings differ most: `'kubelet'` gives HEAD `get` (so what GET may read, HEAD may too) and
 * OPTIONS `''` (denied); `'http'` gives `head` and `options`.
 *
 * @example verbFor('kubelet')('HEAD') // 'get'
 * @example verbFor('http')('OPTIONS') // 'options'
 * @example verbFor({ GET: 'list', HEAD: 'list' })('POST') // '' (denied)
 */
export function verbFor(mapping: VerbMapping = 'kubelet', option = 'verbs'): VerbFunction {
  if (mapping === 'kubelet') return kubeletVerb;
  if (mapping === 'http') return httpVerb;
  if (typeof mapping === 'string') {
    throw invalidOption(
      `${option}: expected 'kubelet', 'http' or a record of method → verb, got ${JSON.stringify(mapping)}`,
    );
  }
  if (typeof mapping !== 'object' || mapping === null || Array.isArray(mapping)) {
    throw invalidOption(
      `${option}: expected 'kubelet', 'http' or a record of method → verb such as { GET: 'get' }`,
    );
  }
  // Copied, so later changes to the caller's object change nothing; a Map, so `constructor` or
  // `__proto__` as a method can never find an inherited value.
  const verbs = new Map<string, string>();
  for (const [method, verb] of Object.entries(mapping)) {
    if (!METHOD.test(method)) {
      throw invalidOption(
        `${option}: method ${JSON.stringify(method)} would never match: Node reports methods in upper case (${JSON.stringify(method.toUpperCase())})`,
      );
    }
    if (typeof verb !== 'string') {
      throw invalidOption(`${option}.${method}: expected a verb (a string), got ${typeof verb}`);
    }
    verbs.set(method, verb);
  }
  return function mappedVerb(method: string): string {
    return verbs.get(method) ?? '';
  };
}
