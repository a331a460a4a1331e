import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { kubeletRequestAttributes } from '../../lib/authz/attributes.js';
import { cachedAuthorizer, decisionKey } from '../../lib/cache/decision-cache.js';
import type { Attributes, AuthorizationResult, Authorizer } from '../../lib/contracts.js';
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
/** Values a custom attributes function could produce, NULs and other control characters included. */
const odd = fc.constantFrom(
  '\u0000',
  'a\u0000',
  '\u0000a',
  'a\u0000b',
  '\u0001',
  'a\u0001',
  '"',
  '\\',
);
const attributes: fc.Arbitrary<Attributes> = fc.record({
  user,
  verb: fc.oneof(fc.constantFrom('', 'get', 'create', 'delete'), odd),
  namespace: fc.oneof(fc.constantFrom('', 'default'), odd),
  apiGroup: fc.constantFrom('', 'apps'),
  apiVersion: fc.constant('v1'),
  resource: fc.oneof(fc.constantFrom('nodes', 'pods'), odd),
  subresource: fc.oneof(fc.constantFrom('', 'stats', 'proxy', 'pods'), odd),
  name: fc.oneof(fc.constantFrom('node-a', 'node-b'), odd),
  resourceRequest: fc.boolean(),
  path: fc.oneof(fc.constantFrom('/stats/summary', '/pods'), odd),
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
      { numRuns: 5000 },
    );
  });

  it('moving characters between neighbouring attributes changes the key', () => {
    // Tiny values, so that two questions which differ only in where a boundary falls (`a` + `` vs
    // `` + `a`, a NUL on either side) come up often; same user, all else equal.
    const tiny = fc.constantFrom('', 'a', 'ab', '\u0000', 'a\u0000', '\u0000a', '\u0001');
    const fields = [
      'verb',
      'namespace',
      'apiGroup',
      'apiVersion',
      'resource',
      'subresource',
      'name',
      'path',
    ] as const;
    const question = fc.record({
      verb: tiny,
      namespace: tiny,
      apiGroup: tiny,
      apiVersion: tiny,
      resource: tiny,
      subresource: tiny,
      name: tiny,
      resourceRequest: fc.boolean(),
      path: tiny,
    });
    fc.assert(
      fc.property(
        user,
        question,
        fc.integer({ min: 0, max: fields.length - 2 }),
        tiny,
        tiny,
        (u, q, i, left, right) => {
          const a: Attributes = { user: u, ...q };
          const b: Attributes = {
            ...a,
            [fields[i] as string]: left,
            [fields[i + 1] as string]: right,
          };
          expect(decisionKey(a) === decisionKey(b)).toBe(canonical(a) === canonical(b));
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it("one user's questions in any order get the keys a newcomer would (the last key is reused safely)", () => {
    const question = fc.record({
      verb: fc.constantFrom('get', 'create', '\u0000'),
      namespace: fc.constantFrom('', 'default'),
      apiGroup: fc.constant(''),
      apiVersion: fc.constant('v1'),
      resource: fc.constantFrom('nodes', 'pods'),
      subresource: fc.constantFrom('stats', 'proxy', ''),
      name: fc.constantFrom('node-a', 'node-b'),
      resourceRequest: fc.boolean(),
      path: fc.constantFrom('/stats/summary', '/pods', ''),
    });
    fc.assert(
      fc.property(user, fc.array(question, { minLength: 1, maxLength: 12 }), (u, questions) => {
        // Repeats on purpose: the same question twice in a row is the reuse case.
        for (const q of questions.flatMap((q) => [q, q])) {
          const asked = decisionKey({ user: u, ...q });
          // A structurally equal user object the cache has never seen: no reuse possible.
          expect(asked).toBe(decisionKey({ user: { ...u }, ...q }));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('a record changed in place after being asked gets its new key', () => {
    const [a] = kubeletRequestAttributes(
      { username: 'alice', groups: ['g'] },
      'GET',
      '/stats/summary',
      { nodeName: 'node-a' },
    ) as [Attributes];
    const stats = decisionKey(a);
    a.subresource = 'proxy';
    const proxy = decisionKey(a);
    expect(proxy).not.toBe(stats);
    expect(proxy).toBe(decisionKey({ ...a, user: { username: 'alice', groups: ['g'] } }));
    // A resource request's path is not part of the question; a non-resource request's is.
    a.path = '/other';
    expect(decisionKey(a)).toBe(proxy);
    a.resourceRequest = false;
    const other = decisionKey(a);
    a.path = '/stats/summary';
    expect(decisionKey(a)).not.toBe(other);
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
