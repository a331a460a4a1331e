import { routedQuery } from '../request-path.js';

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
 * The {@link PathMatch} of a request under `prefix` (as written), `rest` being the decoded path
 * after the prefix: `''` or starting with `/`.
 */
export function pathMatch(
  prefix: string,
  rest: string,
  req: { url?: string; originalUrl?: string },
): PathMatch {
  // Under `/`, the path `/` is the prefix itself.
  const atPrefix = rest === '' || (rest === '/' && prefix === '/');
  return {
    prefix,
    segments: Object.freeze(atPrefix ? [] : rest.slice(1).split('/')),
    // The query the app's own parser sees (req.query), not one read past a fragment.
    query: new URLSearchParams(routedQuery(req.originalUrl ?? req.url ?? '')),
  };
}
