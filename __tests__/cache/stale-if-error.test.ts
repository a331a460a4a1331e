import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import express from 'express';
import { createReviewClient } from '../../lib/apiserver/client.js';
import { webhookTokenAuthenticator } from '../../lib/authn/token-authenticator.js';
import { subjectAccessReviewAuthorizer } from '../../lib/authz/subject-access-review.js';
import { cachedAuthorizer } from '../../lib/cache/decision-cache.js';
import { cachedTokenAuthenticator } from '../../lib/cache/token-cache.js';
import type { Attributes, RetryBackoff } from '../../lib/contracts.js';
import { kubeletAuth } from '../../lib/index.js';
import type { CacheStatus } from '../../lib/metrics/observer.js';
import {
  startApiServer,
  type Fault,
  type StandInApiServer,
  type StandInPolicy,
  type StandInToken,
} from '../../lib/testing/index.js';
import { call, close, listen, makePki, type Pki } from '../integration/harness.js';
import { recordingLogger, registerSecrets } from '../support/secrets.js';
import { statsSummary } from '../support/attributes.js';

// Stale-if-error over the real stack: client-node over HTTPS to the stand-in API server, the
// webhook authenticator/authorizer, and the caches on an injected clock. An expired entry may be
// served only when no answer came; any answer replaces it.

const TOKENS: Record<string, StandInToken> = {
  'alice-token': { username: 'alice', groups: ['devs'] },
};
const POLICY: StandInPolicy = {
  rules: [{ users: ['alice'], verbs: ['get'], resources: ['nodes/stats'] }],
};
const STATS: Attributes = statsSummary();
/** One attempt per review: a retry would not change which class a failure is in. */
const NO_RETRY: RetryBackoff = { initialMs: 1, factor: 1, jitter: 0, attempts: 1 };
const TTL_MS = 120_000;
const STALE_MS = 600_000;

let api: StandInApiServer;
const closers: (() => unknown)[] = [];

beforeAll(async () => {
  registerSecrets(...Object.keys(TOKENS));
  api = await startApiServer({ tokens: TOKENS, policy: POLICY });
  registerSecrets(api.callerToken, api.authority.key);
});
afterEach(async () => {
  await api.setFault();
  api.setTokens(TOKENS);
  api.setPolicy(POLICY);
  await Promise.all(closers.splice(0).map((close) => close()));
});
afterAll(() => api.close());

/**
 * The caches as `kubeletAuth` composes them (TokenReview 2m, allowed decisions 2m, denials 30s,
 * staleIfError 10m), on a clock the test moves, with every cache lookup recorded.
 */
function stack(ttls: { failureTtlMs?: number; unauthorizedTtlMs?: number } = {}) {
  // The review's own deadline is real time: it bounds a hung API server (the 'hang' fault).
  const client = createReviewClient(api.kubeConfig, { timeoutMs: 300, backoff: NO_RETRY });
  closers.push(() => client.close?.());
  let t = 1_000_000;
  const now = (): number => t;
  const lookups: CacheStatus[] = [];
  const metrics = { cacheLookup: (_cache: string, status: CacheStatus) => lookups.push(status) };
  const common = { staleIfErrorMs: STALE_MS, now, logger: recordingLogger, metrics };
  return {
    tokens: cachedTokenAuthenticator(webhookTokenAuthenticator(client), {
      ttlMs: TTL_MS,
      ...(ttls.failureTtlMs !== undefined ? { failureTtlMs: ttls.failureTtlMs } : {}),
      ...common,
    }),
    decisions: cachedAuthorizer(subjectAccessReviewAuthorizer(client), {
      authorizedTtlMs: TTL_MS,
      unauthorizedTtlMs: ttls.unauthorizedTtlMs ?? 30_000,
      ...common,
    }),
    advance: (ms: number) => (t += ms),
    lookups,
  };
}

/** Failures in which no answer came: the only ones an expired entry may stand in for. */
const NO_ANSWER: [string, Fault][] = [
  ['connection refused', { type: 'refuse' }],
  ['connection reset before any answer', { type: 'reset', framing: 'none' }],
  ['connection reset in the middle of the answer', { type: 'reset' }],
  ['timeout (the API server does not answer)', { type: 'hang' }],
  ['HTTP 500', { type: 'status', status: 500 }],
  ['HTTP 502', { type: 'status', status: 502 }],
  ['HTTP 503', { type: 'status', status: 503 }],
  ['HTTP 504', { type: 'status', status: 504 }],
  ['HTTP 429', { type: 'status', status: 429, retryAfterSeconds: 1 }],
];

/** Answers from the API server that are errors: never overridden by an expired yes. */
const ANSWERED_STATUS: [string, Fault][] = [
  ['a body that is not JSON (HTTP 201)', { type: 'malformed' }],
  ['HTTP 400', { type: 'status', status: 400 }],
  ['HTTP 401 (our own credentials refused)', { type: 'status', status: 401 }],
  ['HTTP 403 (our own credentials not allowed)', { type: 'status', status: 403 }],
  ['HTTP 404', { type: 'status', status: 404 }],
  ['HTTP 422', { type: 'status', status: 422 }],
];

const TOKEN_ANSWERS: [string, Fault][] = [
  ['authenticated: false with status.error (HTTP 201)', { type: 'token-error' }],
  ['authenticated: true without a user (HTTP 201)', { type: 'authenticated-without-user' }],
  ...ANSWERED_STATUS,
];

const SAR_ANSWERS: [string, Fault][] = [
  ['allowed and denied at once (HTTP 201)', { type: 'both-allowed-and-denied' }],
  ['an evaluationError (HTTP 201)', { type: 'evaluation-error' }],
  ...ANSWERED_STATUS,
];

describe('token cache: stale only when no answer came', () => {
  it.each(NO_ANSWER)(
    '%s: a result expired less than staleIfError ago is served',
    async (_name, fault) => {
      const { tokens, advance, lookups } = stack();
      await expect(tokens.authenticateToken('alice-token')).resolves.toMatchObject({
        authenticated: true,
      });
      advance(130_000);
      await api.setFault(fault);
      await expect(tokens.authenticateToken('alice-token')).resolves.toMatchObject({
        authenticated: true,
        user: { username: 'alice' },
      });
      advance(TTL_MS + STALE_MS - 130_000); // expired exactly staleIfError ago: still served
      await expect(tokens.authenticateToken('alice-token')).resolves.toMatchObject({
        authenticated: true,
      });
      advance(1);
      await expect(tokens.authenticateToken('alice-token')).rejects.toMatchObject({
        name: 'ReviewFailedError',
      });
      expect(lookups).toEqual(['miss', 'miss', 'stale', 'miss', 'stale', 'miss']);
    },
  );

  it.each(TOKEN_ANSWERS)(
    '%s: the expired result is replaced, and not served when the API server then fails',
    async (_name, fault) => {
      const { tokens, advance, lookups } = stack();
      await tokens.authenticateToken('alice-token');
      advance(130_000);
      await api.setFault(fault);
      await expect(tokens.authenticateToken('alice-token')).rejects.toThrow();
      await api.setFault({ type: 'status', status: 503 });
      await expect(tokens.authenticateToken('alice-token')).rejects.toMatchObject({
        name: 'ReviewFailedError',
      });
      expect(lookups).not.toContain('stale');
      expect(api.reviews.tokenReviews.length).toBeGreaterThanOrEqual(3);
    },
  );

  it('an answer on one attempt is not overridden by no answer on the retry after it', async () => {
    // 403 with Retry-After is retried, as upstream; the retry then gets no answer before the
    // deadline. The 403 came from the API server: it is the outcome, and nothing stale is served.
    const client = createReviewClient(api.kubeConfig, {
      timeoutMs: 3_000,
      backoff: { initialMs: 1_000, factor: 1, jitter: 0, attempts: 2 },
    });
    closers.push(() => client.close?.());
    let t = 0;
    const tokens = cachedTokenAuthenticator(webhookTokenAuthenticator(client), {
      ttlMs: TTL_MS,
      staleIfErrorMs: STALE_MS,
      now: () => t,
      logger: recordingLogger,
    });
    await tokens.authenticateToken('alice-token');
    t += 130_000;
    api.resetReviews();
    await api.setFault({ type: 'status', status: 403, retryAfterSeconds: 1, times: 1 });
    const outcome = tokens.authenticateToken('alice-token');
    await waitFor(() => api.reviews.tokenReviews.length === 1);
    await api.setFault({ type: 'hang' });
    await expect(outcome).rejects.toMatchObject({ status: 403 });
    await expect(tokens.authenticateToken('alice-token')).rejects.toMatchObject({
      code: 'ERR_REVIEW_TIMEOUT',
    });
  });

  it('a revoked service-account token is refused at 130 s and at 700 s (TTL 2m, staleIfError 10m)', async () => {
    const { tokens, advance, lookups } = stack();
    await expect(tokens.authenticateToken('alice-token')).resolves.toMatchObject({
      authenticated: true,
    });
    api.setTokens({ 'alice-token': { error: 'service account token has been invalidated' } });
    advance(130_000);
    await expect(tokens.authenticateToken('alice-token')).rejects.toMatchObject({
      code: 'ERR_TOKEN_REVIEW_ERROR',
    });
    advance(570_000);
    await expect(tokens.authenticateToken('alice-token')).rejects.toMatchObject({
      code: 'ERR_TOKEN_REVIEW_ERROR',
    });
    expect(lookups).toEqual(['miss', 'miss', 'miss']);
  });

  it('a "no" replaces a "yes": the stale answer after a revocation is the "no"', async () => {
    const { tokens, advance } = stack();
    await tokens.authenticateToken('alice-token');
    api.setTokens({});
    advance(130_000);
    await expect(tokens.authenticateToken('alice-token')).resolves.toEqual({
      authenticated: false,
    });
    advance(130_000);
    await api.setFault({ type: 'status', status: 503 });
    await expect(tokens.authenticateToken('alice-token')).resolves.toEqual({
      authenticated: false,
    });
  });

  it('a "no" that is not kept (failureTtlMs 0) still removes the "yes"', async () => {
    const { tokens, advance } = stack({ failureTtlMs: 0 });
    await tokens.authenticateToken('alice-token');
    api.setTokens({});
    advance(130_000);
    await expect(tokens.authenticateToken('alice-token')).resolves.toEqual({
      authenticated: false,
    });
    await api.setFault({ type: 'status', status: 503 });
    await expect(tokens.authenticateToken('alice-token')).rejects.toMatchObject({
      name: 'ReviewFailedError',
    });
  });
});

describe('decision cache: stale only when no answer came', () => {
  it.each(NO_ANSWER)(
    '%s: a decision expired less than staleIfError ago is served',
    async (_name, fault) => {
      const { decisions, advance, lookups } = stack();
      await expect(decisions.authorize(STATS)).resolves.toMatchObject({ decision: 'Allow' });
      advance(130_000);
      await api.setFault(fault);
      await expect(decisions.authorize(STATS)).resolves.toMatchObject({ decision: 'Allow' });
      advance(TTL_MS + STALE_MS - 130_000 + 1); // past the window
      const late = await decisions.authorize(STATS);
      expect(late.decision).not.toBe('Allow');
      expect(late.error).toMatchObject({ name: 'ReviewFailedError' });
      expect(lookups).toEqual(['miss', 'miss', 'stale', 'miss']);
    },
  );

  it.each(SAR_ANSWERS)(
    '%s: the expired decision is replaced, and not served when the API server then fails',
    async (_name, fault) => {
      const { decisions, advance, lookups } = stack();
      await decisions.authorize(STATS);
      advance(130_000);
      await api.setFault(fault);
      const answered = await decisions.authorize(STATS);
      expect(answered.decision).not.toBe('Allow');
      await api.setFault({ type: 'status', status: 503 });
      const after = await decisions.authorize(STATS);
      expect(after.decision).not.toBe('Allow');
      expect(after.error).toMatchObject({ name: 'ReviewFailedError' });
      expect(lookups).not.toContain('stale');
      expect(api.reviews.subjectAccessReviews.length).toBeGreaterThanOrEqual(3);
    },
  );

  it('a denial replaces an allow: the stale answer after a revocation is the denial', async () => {
    const { decisions, advance } = stack();
    await decisions.authorize(STATS);
    api.setPolicy({});
    advance(130_000);
    await expect(decisions.authorize(STATS)).resolves.toMatchObject({ decision: 'NoOpinion' });
    advance(30_001);
    await api.setFault({ type: 'status', status: 503 });
    await expect(decisions.authorize(STATS)).resolves.toMatchObject({ decision: 'NoOpinion' });
  });

  it('a denial that is not kept (unauthorizedTtlMs 0) still removes the allow', async () => {
    const { decisions, advance } = stack({ unauthorizedTtlMs: 0 });
    await decisions.authorize(STATS);
    api.setPolicy({});
    advance(130_000);
    await expect(decisions.authorize(STATS)).resolves.toMatchObject({ decision: 'NoOpinion' });
    await api.setFault({ type: 'status', status: 503 });
    const after = await decisions.authorize(STATS);
    expect(after.decision).not.toBe('Allow');
    expect(after.error).toMatchObject({ name: 'ReviewFailedError' });
  });
});

describe('through kubeletAuth over TLS (TTL 2m, staleIfError 10m)', () => {
  let pki: Pki;
  beforeAll(async () => {
    pki = await makePki();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  /** A kubelet whose caches read a clock the test moves (only `performance` is faked). */
  async function kubelet() {
    jest.useFakeTimers({ doNotFake: NOT_THE_CLOCK });
    const auth = kubeletAuth({
      nodeName: 'node-a',
      kubeConfig: api.kubeConfig,
      timeout: '2s',
      authentication: { webhook: { cacheTTL: '2m' } },
      authorization: { webhook: { cacheAuthorizedTTL: '2m' } },
      staleIfError: '10m',
      logger: recordingLogger,
    });
    closers.push(() => auth.close());
    const app = express().use(auth);
    app.get('/{*rest}', (_req, res) => res.send('ok'));
    const server = await listen(pki, app);
    closers.push(() => close(server));
    return (path: string) => call(server, pki, path, { authorization: 'Bearer alice-token' });
  }

  it('a revoked token gets 401 at 130 s and at 700 s while the API server is up', async () => {
    const get = await kubelet();
    await get('/stats/summary').expect(200);
    api.setTokens({ 'alice-token': { error: 'service account token has been invalidated' } });
    jest.advanceTimersByTime(130_000);
    await get('/stats/summary').expect(401);
    jest.advanceTimersByTime(570_000);
    await get('/stats/summary').expect(401);
    // Neither the token nor the decision comes back when the API server then goes away.
    await api.setFault({ type: 'refuse' });
    await get('/stats/summary').expect(401);
  });

  it('a known token and decision are served stale at 130 s and 700 s while connections are refused', async () => {
    const get = await kubelet();
    await get('/stats/summary').expect(200);
    await api.setFault({ type: 'refuse' });
    jest.advanceTimersByTime(130_000);
    await get('/stats/summary').expect(200);
    jest.advanceTimersByTime(570_000);
    await get('/stats/summary').expect(200);
    jest.advanceTimersByTime(30_001); // expired more than 10 minutes ago
    await get('/stats/summary').expect(401);
  });

  it('a decision answered "allowed and denied" gets 500 and is not served stale afterwards', async () => {
    const get = await kubelet();
    await get('/stats/summary').expect(200);
    jest.advanceTimersByTime(130_000);
    await api.setFault({ type: 'both-allowed-and-denied' });
    await get('/stats/summary').expect(500);
    await api.setFault({ type: 'refuse' });
    await get('/stats/summary').expect(500);
  });
});

type FakeTimersConfig = Extract<Parameters<typeof jest.useFakeTimers>[0], { doNotFake?: unknown }>;
type Fakeable = NonNullable<FakeTimersConfig['doNotFake']>[number];

/** Everything jest can fake but `performance`: I/O and the review deadline keep real time. */
const NOT_THE_CLOCK: Fakeable[] = [
  'Date',
  'hrtime',
  'nextTick',
  'queueMicrotask',
  'setImmediate',
  'clearImmediate',
  'setInterval',
  'clearInterval',
  'setTimeout',
  'clearTimeout',
];

/** Waits (polling) until `condition` holds: for a fault to be set between two attempts. */
async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}
