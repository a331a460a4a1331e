import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { Attributes } from '../../lib/authz/attributes.js';
import type { AuthorizationResult, Authorizer } from '../../lib/authz/authorizer.js';
import { cachedAuthorizer, decisionKey } from '../../lib/cache/decision-cache.js';
import type { KubeUser } from '../../lib/user.js';

const text = fc.string({ maxLength: 6 });
const user: fc.Arbitrary<KubeUser> = fc.record(
  {
    username: text,
    uid: text,
    groups: fc.uniqueArray(text, { maxLength: 4 }),
    extra: fc.dictionary(text, fc.array(text, { maxLength: 3 }), { maxKeys: 3 }),
  },
  { requiredKeys: ['username', 'groups'] },
);
const attributes: fc.Arbitrary<Attributes> = fc.record({
  user,
  verb: fc.constantFrom('', 'get', 'create', 'delete'),
  namespace: fc.constantFrom('', 'default'),
  apiGroup: fc.constantFrom('', 'apps'),
  apiVersion: fc.constant('v1'),
  resource: fc.constantFrom('nodes', 'pods'),
  subresource: fc.constantFrom('', 'stats', 'proxy', 'pods'),
  name: fc.constantFrom('node-a', 'node-b'),
  resourceRequest: fc.boolean(),
  path: fc.constantFrom('/stats/summary', '/pods'),
});

/** The question the API server would be asked, with group order and extra key order normalised. */
function canonical(a: Attributes): string {
  const extra = Object.entries(a.user.extra ?? {}).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  return JSON.stringify({
    u: [a.user.username, a.user.uid ?? '', [...a.user.groups].sort(), extra],
    a: [
      a.verb,
      a.namespace,
      a.apiGroup,
      a.apiVersion,
      a.resource,
      a.subresource,
      a.name,
      a.resourceRequest,
    ],
    p: a.resourceRequest ? '' : a.path,
  });
}

describe('decision cache keys (property)', () => {
  it('two questions share a key exactly when they are the same question', () => {
    fc.assert(
      fc.property(attributes, attributes, (a, b) => {
        expect(decisionKey(a) === decisionKey(b)).toBe(canonical(a) === canonical(b));
      }),
      { numRuns: 2000 },
    );
  });

  it('a cached decision is never served to a different question', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(attributes, { minLength: 2, maxLength: 8 }), async (questions) => {
        // Each distinct question gets its own answer; the cache must hand back that one.
        const answers = new Map<string, AuthorizationResult>();
        const inner: Authorizer = {
          async authorize(a) {
            const answer: AuthorizationResult = {
              decision: answers.size % 2 === 0 ? 'Allow' : 'Deny',
              reason: canonical(a),
            };
            answers.set(canonical(a), answer);
            return answer;
          },
        };
        const cached = cachedAuthorizer(inner, {
          authorizedTtlMs: 60_000,
          unauthorizedTtlMs: 60_000,
        });
        for (const q of [...questions, ...questions]) {
          const result = await cached.authorize(q);
          expect(result.reason).toBe(canonical(q));
        }
      }),
      { numRuns: 300 },
    );
  });
});
