import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { ReviewFailedError } from '../../lib/errors.js';
import type { ReviewClient } from '../../lib/apiserver/reviews.js';
import { startApiServer, type StandInApiServer } from '../../lib/testing/index.js';

/**
 * The stand-in API server's own review client (`api.reviewClient()`): real HTTPS without
 * @kubernetes/client-node, for test projects that cannot load client-node. Its answers and its
 * failures must be what the client-node review client gives, or caches and stale-if-error
 * would behave differently under test.
 */
let api: StandInApiServer;
let client: ReviewClient;

beforeAll(async () => {
  api = await startApiServer({
    tokens: {
      'alice-token': { username: 'alice', uid: 'uid-a', groups: ['devs'], extra: { s: ['x'] } },
      'broken-token': { error: 'token issuer unreachable' },
    },
    policy: { rules: [{ users: ['alice'], verbs: ['get'], resources: ['nodes/stats'] }] },
  });
  client = api.reviewClient();
});
afterAll(() => api.close());
beforeEach(async () => {
  await api.setFault();
  api.resetReviews();
});

const ALICE_STATS = {
  user: 'alice',
  groups: ['devs'],
  resourceAttributes: { verb: 'get', resource: 'nodes', subresource: 'stats', name: 'node-a' },
};

describe('api.reviewClient()', () => {
  it('sends a TokenReview and answers with its status', async () => {
    await expect(client.tokenReview({ token: 'alice-token', audiences: ['a'] })).resolves.toEqual({
      authenticated: true,
      user: { username: 'alice', uid: 'uid-a', groups: ['devs'], extra: { s: ['x'] } },
      audiences: ['a'],
    });
    await expect(client.tokenReview({ token: 'nobody' })).resolves.toEqual({
      authenticated: false,
    });
    await expect(client.tokenReview({ token: 'broken-token' })).resolves.toEqual({
      authenticated: false,
      error: 'token issuer unreachable',
    });
    expect(api.reviews.tokenReviews).toEqual([
      {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token: 'alice-token', audiences: ['a'] },
      },
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'nobody' } },
      {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token: 'broken-token' },
      },
    ]);
  });

  it('sends a SubjectAccessReview and answers with its decision', async () => {
    await expect(client.subjectAccessReview(ALICE_STATS)).resolves.toMatchObject({
      allowed: true,
    });
    await expect(
      client.subjectAccessReview({ ...ALICE_STATS, user: 'bob' }),
    ).resolves.toMatchObject({ allowed: false });
    expect(api.reviews.subjectAccessReviews.map((r) => r.spec)).toEqual([
      ALICE_STATS,
      { ...ALICE_STATS, user: 'bob' },
    ]);
  });

  it.each([
    [{ type: 'status', status: 503 } as const, { status: 503, unavailable: true }],
    [{ type: 'status', status: 429 } as const, { status: 429, unavailable: true }],
    [{ type: 'status', status: 403 } as const, { status: 403, unavailable: false }],
    [{ type: 'status', status: 422 } as const, { status: 422, unavailable: false }],
    [{ type: 'reset', framing: 'none' } as const, { status: undefined, unavailable: true }],
    [{ type: 'reset' } as const, { status: undefined, unavailable: true }],
    [{ type: 'malformed' } as const, { status: undefined, unavailable: false }],
  ])(
    'fault %j: a ReviewFailedError classified as the client-node client does',
    async (fault, expected) => {
      await api.setFault(fault);
      const failure = await client.tokenReview({ token: 'alice-token' }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(ReviewFailedError);
      expect(failure).toMatchObject({ code: 'ERR_TOKEN_REVIEW_FAILED', ...expected });
      expect(String((failure as Error).message)).not.toContain('alice-token');
    },
  );

  it('a connection refused is unavailable', async () => {
    await api.setFault({ type: 'refuse' });
    await expect(client.subjectAccessReview(ALICE_STATS)).rejects.toMatchObject({
      code: 'ERR_SUBJECT_ACCESS_REVIEW_FAILED',
      unavailable: true,
    });
  });

  it('gives up on a hung review at its timeout, as unavailable', async () => {
    await api.setFault({ type: 'hang', times: 1 });
    const impatient = api.reviewClient({ timeoutMs: 50 });
    await expect(impatient.tokenReview({ token: 'alice-token' })).rejects.toMatchObject({
      code: 'ERR_REVIEW_TIMEOUT',
      unavailable: true,
    });
    impatient.close?.();
  });

  it('rejects a timeout that is not a positive number', () => {
    expect(() => api.reviewClient({ timeoutMs: 0 })).toThrow(TypeError);
  });
});
