import type { Attributes, AttributesFunction, KubeUser } from '../contracts.js';

/** Attribute records from what they depend on alone: the user, the method and the decoded path. */
export type RecordsOf = (user: KubeUser, method: string, path: string) => Attributes[];

/**
 * Derives attribute records with `recordsOf`, and hands out the same records again while the
 * same user asks with the same method about the same path, as a busy client does request after
 * request: no table is read and no record made, and the decision cache, shown the fields it saw
 * last, reuses its key. One slot: another question takes it over. The records are frozen, since
 * requests share them. Only for a `recordsOf` that reads nothing but its arguments.
 */
export function rememberLastQuestion(recordsOf: RecordsOf): AttributesFunction {
  let user: KubeUser | undefined;
  let method = '';
  let path = '';
  let records: Attributes[] = [];
  return (req, asker, asked) => {
    const verb = req.method ?? '';
    if (asker === user && asked === path && verb === method) return records;
    const made = recordsOf(asker, verb, asked);
    for (const record of made) Object.freeze(record);
    records = Object.freeze(made) as Attributes[];
    user = asker;
    method = verb;
    path = asked;
    return records;
  };
}
