import { describe, expect, it } from '@jest/globals';
import { cachedAuthorizer, decisionKey } from '../../lib/cache/decision-cache.js';
import { cachedTokenAuthenticator, tokenKeyFunction } from '../../lib/cache/token-cache.js';
import type {
  Attributes,
  AuthorizationResult,
  Authorizer,
  TokenAuthenticator,
  TokenResult,
} from '../../lib/contracts.js';
import { createHmac, randomBytes } from 'node:crypto';
import { silentLogger } from '../../lib/logger.js';
import { KubeletAuthError, ReviewFailedError } from '../../lib/errors.js';
import { statsSummary } from '../support/attributes.js';

/** What the review client throws when no answer came (here: a refused connection). */
const DOWN = new ReviewFailedError('ERR_TOKEN_REVIEW_FAILED', 'API server down', {
  retryable: false,
  unavailable: true,
});

/** A token authenticator over a fixed table that counts its calls; `fail` makes it throw. */
function tableAuthenticator(
  table: Record<string, string>,
): TokenAuthenticator & { calls: string[]; fail: boolean } {
  const self = {
    calls: [] as string[],
    fail: false,
    async authenticateToken(token: string): Promise<TokenResult> {
      self.calls.push(token);
      await new Promise((r) => setTimeout(r, 5));
      if (self.fail) throw DOWN;
      const username = table[token];
      return username
        ? { authenticated: true, user: { username, groups: [] } }
        : { authenticated: false };
    },
  };
  return self;
}

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('cachedTokenAuthenticator', () => {
  it('keeps positive and negative results for the TTL, then asks again', async () => {
    const inner = tableAuthenticator({ good: 'alice' });
    const time = clock();
    const cached = cachedTokenAuthenticator(inner, { ttlMs: 120_000, now: time.now });
    await cached.authenticateToken('good');
    await cached.authenticateToken('good');
    await cached.authenticateToken('bad');
    await cached.authenticateToken('bad');
    expect(inner.calls).toEqual(['good', 'bad']);
    time.advance(120_001);
    await cached.authenticateToken('good');
    await cached.authenticateToken('bad');
    expect(inner.calls).toEqual(['good', 'bad', 'good', 'bad']);
  });

  it('never caches errors, and delivers a shared failure to every waiter', async () => {
    const inner = tableAuthenticator({ good: 'alice' });
    inner.fail = true;
    const cached = cachedTokenAuthenticator(inner, { ttlMs: 120_000 });
    const results = await Promise.allSettled([1, 2, 3].map(() => cached.authenticateToken('good')));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(inner.calls).toHaveLength(1);
    inner.fail = false;
    await expect(cached.authenticateToken('good')).resolves.toMatchObject({ authenticated: true });
    expect(inner.calls).toHaveLength(2);
  });

  it('coalesces concurrent lookups of one token into one call', async () => {
    const inner = tableAuthenticator({ good: 'alice' });
    const cached = cachedTokenAuthenticator(inner, { ttlMs: 0 });
    const results = await Promise.all(
      Array.from({ length: 50 }, () => cached.authenticateToken('good')),
    );
    expect(inner.calls).toHaveLength(1);
    expect(results.every((r) => r.authenticated)).toBe(true);
    // TTL 0: nothing kept once the call is over.
    await cached.authenticateToken('good');
    expect(inner.calls).toHaveLength(2);
  });

  it('is bounded by entry count', async () => {
    const inner = tableAuthenticator({});
    const cached = cachedTokenAuthenticator(inner, { ttlMs: 60_000, maxEntries: 2 });
    for (const t of ['a', 'b', 'c']) await cached.authenticateToken(t);
    await cached.authenticateToken('a'); // evicted by 'c'
    await cached.authenticateToken('c'); // still there
    expect(inner.calls).toEqual(['a', 'b', 'c', 'a']);
  });
});

const base: Attributes = statsSummary();

function countingAuthorizer(
  decide: (a: Attributes) => AuthorizationResult,
): Authorizer & { calls: Attributes[] } {
  const self = {
    calls: [] as Attributes[],
    async authorize(a: Attributes): Promise<AuthorizationResult> {
      self.calls.push(a);
      await new Promise((r) => setTimeout(r, 5));
      return decide(a);
    },
  };
  return self;
}

describe('cachedAuthorizer', () => {
  it('keeps Allow for the authorized TTL and Deny for the unauthorized TTL', async () => {
    const inner = countingAuthorizer((a) => ({
      decision: a.subresource === 'stats' ? 'Allow' : 'NoOpinion',
    }));
    const time = clock();
    const cached = cachedAuthorizer(inner, {
      authorizedTtlMs: 300_000,
      unauthorizedTtlMs: 30_000,
      now: time.now,
    });
    const denied = { ...base, subresource: 'proxy' };
    await cached.authorize(base);
    await cached.authorize(denied);
    time.advance(29_000);
    await cached.authorize(base);
    await cached.authorize(denied);
    expect(inner.calls).toHaveLength(2);
    time.advance(2_000); // 31 s: the denial expired, the allow did not
    await cached.authorize(base);
    await cached.authorize(denied);
    expect(inner.calls.map((a) => a.subresource)).toEqual(['stats', 'proxy', 'proxy']);
    time.advance(300_000);
    await cached.authorize(base);
    expect(inner.calls).toHaveLength(4);
  });

  it('does not cache errors or evaluation errors', async () => {
    let result: AuthorizationResult = { decision: 'NoOpinion', error: new Error('down') };
    const inner = countingAuthorizer(() => result);
    const cached = cachedAuthorizer(inner, { authorizedTtlMs: 300_000, unauthorizedTtlMs: 30_000 });
    await cached.authorize(base);
    await cached.authorize(base);
    result = { decision: 'NoOpinion', cacheable: false, reason: 'evaluation error' };
    await cached.authorize(base);
    await cached.authorize(base);
    expect(inner.calls).toHaveLength(4);
  });

  it('coalesces concurrent identical questions', async () => {
    const inner = countingAuthorizer(() => ({ decision: 'Allow' }));
    const cached = cachedAuthorizer(inner, { authorizedTtlMs: 0, unauthorizedTtlMs: 0 });
    await Promise.all(Array.from({ length: 20 }, () => cached.authorize(base)));
    expect(inner.calls).toHaveLength(1);
  });

  it.each([
    ['user name', { user: { ...base.user, username: 'mallory' } }],
    ['uid', { user: { ...base.user, uid: 'u-1' } }],
    ['groups', { user: { ...base.user, groups: ['admins', 'system:authenticated'] } }],
    ['extra', { user: { ...base.user, extra: { scopes: ['all'] } } }],
    ['verb', { verb: 'create' }],
    ['subresource', { subresource: 'log' }],
    ['node name', { name: 'node-b' }],
    ['namespace', { namespace: 'kube-system' }],
    ['resource', { resource: 'pods' }],
    ['group', { apiGroup: 'apps' }],
    ['non-resource request', { resourceRequest: false }],
  ])('never serves a cached decision to a different %s', async (_what, change) => {
    const inner = countingAuthorizer(() => ({ decision: 'Allow' }));
    const cached = cachedAuthorizer(inner, { authorizedTtlMs: 300_000, unauthorizedTtlMs: 30_000 });
    await cached.authorize(base);
    await cached.authorize({ ...base, ...change });
    expect(inner.calls).toHaveLength(2);
    expect(decisionKey({ ...base, ...change })).not.toBe(decisionKey(base));
  });

  it('treats group order and extra key order as the same question', () => {
    const a = {
      ...base,
      user: { username: 'u', groups: ['a', 'b'], extra: { x: ['1'], y: ['2'] } },
    };
    const b = {
      ...base,
      user: { username: 'u', groups: ['b', 'a'], extra: { y: ['2'], x: ['1'] } },
    };
    expect(decisionKey(a)).toBe(decisionKey(b));
  });

  it('skips the cache for huge requester-controlled input, as upstream', async () => {
    const inner = countingAuthorizer(() => ({ decision: 'Allow' }));
    const cached = cachedAuthorizer(inner, { authorizedTtlMs: 300_000, unauthorizedTtlMs: 30_000 });
    const huge = { ...base, path: `/stats/${'x'.repeat(10_000)}` };
    await cached.authorize(huge);
    await cached.authorize(huge);
    expect(inner.calls).toHaveLength(2);
  });
});

describe('stale-if-error', () => {
  const quiet = silentLogger;

  it('serves a decision expired less than staleIfErrorMs ago only while the inner one fails', async () => {
    let down = false;
    const inner = countingAuthorizer(() =>
      down ? { decision: 'NoOpinion', error: DOWN } : { decision: 'Allow' },
    );
    const time = clock();
    const statuses: string[] = [];
    const cached = cachedAuthorizer(inner, {
      authorizedTtlMs: 1_000,
      unauthorizedTtlMs: 1_000,
      staleIfErrorMs: 60_000,
      now: time.now,
      logger: quiet,
      metrics: { cacheLookup: (_cache, status) => statuses.push(status) },
    });
    await cached.authorize(base);
    time.advance(30_000);
    expect(cached.peek?.(base)).toBeUndefined(); // expired entries are not fresh answers
    down = true;
    await expect(cached.authorize(base)).resolves.toEqual({ decision: 'Allow' });
    time.advance(31_001); // now expired 61 s ago: past the window
    const late = await cached.authorize(base);
    expect(late.error).toBe(DOWN);
    expect(statuses).toEqual(['miss', 'miss', 'stale', 'miss']);
    down = false;
    await expect(cached.authorize(base)).resolves.toEqual({ decision: 'Allow' });
    expect(inner.calls).toHaveLength(4);
  });

  it('serves a token result expired less than staleIfErrorMs ago while the review fails', async () => {
    const inner = tableAuthenticator({ good: 'alice' });
    const time = clock();
    const cached = cachedTokenAuthenticator(inner, {
      ttlMs: 1_000,
      staleIfErrorMs: 10_000,
      now: time.now,
      logger: quiet,
    });
    await cached.authenticateToken('good');
    time.advance(5_000);
    inner.fail = true;
    await expect(cached.authenticateToken('good')).resolves.toMatchObject({ authenticated: true });
    await expect(cached.authenticateToken('other')).rejects.toThrow('API server down');
    time.advance(6_001);
    await expect(cached.authenticateToken('good')).rejects.toThrow('API server down');
  });

  it.each([
    ['an error not marked unavailable', new Error('something else')],
    ['an error answer', new KubeletAuthError('ERR_TOKEN_REVIEW_ERROR', 'status.error')],
    [
      'a review failure with an answer (HTTP 403)',
      new ReviewFailedError('ERR_TOKEN_REVIEW_FAILED', 'HTTP 403', {
        status: 403,
        retryable: false,
      }),
    ],
  ])('does not cover %s, which drops the expired entry', async (_what, error) => {
    let failure: Error | undefined;
    const inner: TokenAuthenticator = {
      authenticateToken: async () => {
        if (failure) throw failure;
        return { authenticated: true, user: { username: 'alice', groups: [] } };
      },
    };
    const time = clock();
    const cached = cachedTokenAuthenticator(inner, {
      ttlMs: 1_000,
      staleIfErrorMs: 10_000,
      now: time.now,
      logger: quiet,
    });
    await cached.authenticateToken('good');
    time.advance(2_000);
    failure = error;
    await expect(cached.authenticateToken('good')).rejects.toBe(error);
    failure = DOWN;
    await expect(cached.authenticateToken('good')).rejects.toBe(DOWN);
  });

  it.each([
    ['an error not marked unavailable', new Error('something else')],
    [
      'allowed and denied at once',
      new KubeletAuthError('ERR_SUBJECT_ACCESS_REVIEW_ERROR', 'both allow and deny'),
    ],
    ['an aggregate with one answer in it', new AggregateError([DOWN, new Error('answer')])],
  ])(
    'does not cover a decision failing with %s, which drops the expired entry',
    async (_what, error) => {
      let failure: Error | undefined;
      const inner = countingAuthorizer(() =>
        failure ? { decision: 'NoOpinion', error: failure } : { decision: 'Allow' },
      );
      const time = clock();
      const cached = cachedAuthorizer(inner, {
        authorizedTtlMs: 1_000,
        unauthorizedTtlMs: 1_000,
        staleIfErrorMs: 10_000,
        now: time.now,
        logger: quiet,
      });
      await cached.authorize(base);
      time.advance(2_000);
      failure = error;
      expect((await cached.authorize(base)).error).toBe(error);
      failure = DOWN;
      expect(await cached.authorize(base)).toEqual({ decision: 'NoOpinion', error: DOWN });
    },
  );

  it('covers an aggregate made only of unavailable errors (a union of webhooks)', async () => {
    let down = false;
    const both = new AggregateError([DOWN, DOWN]);
    const inner = countingAuthorizer(() =>
      down ? { decision: 'NoOpinion', error: both } : { decision: 'Allow' },
    );
    const time = clock();
    const cached = cachedAuthorizer(inner, {
      authorizedTtlMs: 1_000,
      unauthorizedTtlMs: 1_000,
      staleIfErrorMs: 10_000,
      now: time.now,
      logger: quiet,
    });
    await cached.authorize(base);
    time.advance(2_000);
    down = true;
    await expect(cached.authorize(base)).resolves.toEqual({ decision: 'Allow' });
  });
});

describe('token cache key (upstream’s cached token authenticator)', () => {
  /** The upstream construction, written out independently. */
  function reference(key: Buffer, token: string, audiences: string[]): string {
    const u32 = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(n);
      return b;
    };
    const field = (s: string) => [u32(Buffer.byteLength(s)), Buffer.from(s, 'utf8')];
    const message = Buffer.concat([
      ...field(token),
      u32(audiences.length),
      ...audiences.flatMap(field),
    ]);
    return createHmac('sha256', key).update(message).digest('base64');
  }

  it.each([
    ['ascii token, no audiences', 'abc.def.ghi', []],
    ['non-ASCII token (byte length, not characters)', 'tökén-ü', []],
    ['audiences', 'abc', ['https://kubernetes.default.svc', 'reports.example.com']],
    ['empty token', '', ['a']],
    ['long token (longer than the buffer first made)', 'x'.repeat(5000), []],
    ['three- and four-byte characters', '€😀'.repeat(700), ['aud']],
  ])('is HMAC-SHA256 of the length-prefixed token and audiences: %s', (_n, token, audiences) => {
    const key = randomBytes(32);
    expect(tokenKeyFunction(key, audiences)(token)).toBe(reference(key, token, audiences));
  });

  it('is the same for a token before and after longer and shorter ones', () => {
    const key = randomBytes(32);
    const tokenKey = tokenKeyFunction(key, []);
    const first = tokenKey('abc');
    expect(tokenKey('y'.repeat(4000))).toBe(reference(key, 'y'.repeat(4000), []));
    expect(tokenKey('ab')).toBe(reference(key, 'ab', []));
    expect(tokenKey('abc')).toBe(first);
  });

  it('is right for many token lengths, each seen again, past the lengths it keeps a view for', () => {
    const key = randomBytes(32);
    const tokenKey = tokenKeyFunction(key, ['aud']);
    const tokens = Array.from({ length: 150 }, (_, i) =>
      String.fromCharCode(97 + (i % 26)).repeat(i + 1),
    );
    for (const token of [...tokens, ...tokens.reverse()]) {
      expect(tokenKey(token)).toBe(reference(key, token, ['aud']));
    }
  });

  it('keeps ("ab", ["c"]) and ("a", ["bc"]) apart, and audiences apart', () => {
    const key = randomBytes(32);
    expect(tokenKeyFunction(key, ['c'])('ab')).not.toBe(tokenKeyFunction(key, ['bc'])('a'));
    expect(tokenKeyFunction(key, ['x'])('t')).not.toBe(tokenKeyFunction(key, [])('t'));
    expect(tokenKeyFunction(randomBytes(32), [])('t')).not.toBe(tokenKeyFunction(key, [])('t'));
  });
});
