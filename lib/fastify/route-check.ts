import { routedPath } from '../authz/request-path.js';
import { foldCase } from '../authz/router-match.js';

/**
 * How Fastify's router (find-my-way) reads a request target, where that differs from how the
 * guard reads it (parseurl, as Express and Connect route), so that a request Fastify would
 * dispatch to another path than the one authorized is refused (400) rather than served.
 *
 * What find-my-way does with a target, and why the rest needs no refusal:
 * - it decodes percent escapes (but those of reserved characters) before matching: so does the
 *   guard, which refuses an encoded `/` or `\`;
 * - it drops the query at `?` and also at `#`, keeping a fragment in the query, which parseurl
 *   drops (refused: a fragment is never sent by a client);
 * - it reads absolute-form (`http://h/stats`) as its path, as parseurl does, and answers targets
 *   it cannot decode or parse (`/%zz`, `foo://h/x`) with its own 400 before any hook runs;
 * - it dispatches `*` to the route of `/` (refused);
 * - with `ignoreTrailingSlash` it drops one trailing `/`, as Express's default non-strict routing
 *   does: the kubelet's tables and `pathRules` read a path alike with and without it;
 * - with `ignoreDuplicateSlashes` it turns `//` into `/` (refused: `//stats` is `proxy` to the
 *   kubelet, `/stats` is `stats`);
 * - with `useSemicolonDelimiter` it ends the path at `;` (refused);
 * - with `caseSensitive: false` it matches the decoded path in lower case with JavaScript's
 *   `toLowerCase`, which folds some non-ASCII letters to ASCII ones (the Kelvin sign `K` to `k`).
 *   The kubelet's tables and `pathRules` already refuse a path a case-insensitive router would
 *   give to another rule, reading ASCII letters as sent; so a letter sent percent-encoded
 *   (`/%53tats`) and a non-ASCII character that lower-cases to something else are refused;
 * - `rewriteUrl` makes it dispatch another URL than the one sent (refused when it changed it).
 */
export interface FastifyRouting {
  caseSensitive: boolean;
  ignoreDuplicateSlashes: boolean;
  useSemicolonDelimiter: boolean;
}

/** The parts of a Fastify instance's `initialConfig` that {@link fastifyRouting} reads. */
export interface FastifyRouterConfig {
  caseSensitive?: boolean;
  ignoreDuplicateSlashes?: boolean;
  useSemicolonDelimiter?: boolean;
  routerOptions?: {
    caseSensitive?: boolean;
    ignoreDuplicateSlashes?: boolean;
    useSemicolonDelimiter?: boolean;
  };
}

/**
 * The router options in force, from a Fastify instance's `initialConfig`. Fastify 5 takes them
 * at the top level (deprecated) and in `routerOptions`, and `initialConfig` fills in defaults
 * in both, so it cannot tell which one the router uses: an option counts as on when either
 * place turns it on, which can only refuse more.
 */
export function fastifyRouting(config: FastifyRouterConfig): FastifyRouting {
  const router = config.routerOptions ?? {};
  return {
    caseSensitive: config.caseSensitive !== false && router.caseSensitive !== false,
    ignoreDuplicateSlashes:
      config.ignoreDuplicateSlashes === true || router.ignoreDuplicateSlashes === true,
    useSemicolonDelimiter:
      config.useSemicolonDelimiter === true || router.useSemicolonDelimiter === true,
  };
}

/** Why {@link fastifyRouteRefusal} refuses a request (each one a 400). */
export const FASTIFY_REFUSALS = {
  rewritten: 'rewriteUrl changed it: Fastify dispatches the rewritten URL, not the one authorized',
  fragment: 'it has a "#": Fastify reads a fragment as part of the query, parseurl drops it',
  asterisk: 'it is "*", which Fastify dispatches to the route of "/"',
  duplicateSlashes: 'it has "//", which ignoreDuplicateSlashes makes "/"',
  semicolon: 'it has a ";", where useSemicolonDelimiter ends the path',
  encodedLetter:
    'it has a letter sent percent-encoded, which caseSensitive: false routes in lower case once decoded',
  unicodeCase:
    'it has a non-ASCII character that lower-cases to another one, as caseSensitive: false routes it',
} as const;

/**
 * Why Fastify, routing as `routing` says, could dispatch `req` to another path than `path` (the
 * decoded path the guard authorizes), or `undefined` when it dispatches that path.
 */
export function fastifyRouteRefusal(
  req: { url?: string; originalUrl?: string },
  path: string,
  routing: FastifyRouting,
): string | undefined {
  const target = req.url ?? '/';
  if (req.originalUrl !== undefined && req.originalUrl !== target) {
    return FASTIFY_REFUSALS.rewritten;
  }
  if (target.includes('#')) return FASTIFY_REFUSALS.fragment;
  if (path === '*') return FASTIFY_REFUSALS.asterisk;
  if (routing.ignoreDuplicateSlashes && path.includes('//')) {
    return FASTIFY_REFUSALS.duplicateSlashes;
  }
  if (routing.useSemicolonDelimiter && routedPath(target)?.includes(';')) {
    return FASTIFY_REFUSALS.semicolon;
  }
  if (!routing.caseSensitive) {
    if (ENCODED_LETTER.test(routedPath(target) ?? '')) return FASTIFY_REFUSALS.encodedLetter;
    if (path.toLowerCase() !== foldCase(path)) return FASTIFY_REFUSALS.unicodeCase;
  }
  return undefined;
}

/** A percent escape of an ASCII letter: `%41`–`%5A`, `%61`–`%7A`. */
const ENCODED_LETTER = /%(?:[46][1-9a-f]|[57][0-9a])/i;
