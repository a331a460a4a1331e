import type { AuthnOutcome, AuthRequest, RequestAuthenticator } from '../contracts.js';
import type { AuthenticationMethod, AuthMetrics } from './observer.js';

/**
 * Wraps an authenticator so that each verdict on a request that tried its kind of
 * authentication is reported to `metrics.authentication` as `method`: a request without that
 * kind of credentials (`none`), or refused without having tried it (`attempted: false`),
 * reports nothing. Answers exactly as the wrapped one, synchronously when it does.
 */
export function observedAuthenticator(
  inner: RequestAuthenticator,
  method: AuthenticationMethod,
  metrics: AuthMetrics,
): RequestAuthenticator {
  const report = metrics.authentication?.bind(metrics);
  if (!report) return inner;
  function record(outcome: AuthnOutcome, startedAt: number): AuthnOutcome {
    if (outcome.kind !== 'none' && !(outcome.kind === 'refused' && outcome.attempted === false)) {
      const result =
        outcome.kind === 'user' ? 'success' : outcome.error === true ? 'error' : 'failure';
      report?.(method, result, (performance.now() - startedAt) / 1000);
    }
    return outcome;
  }
  return {
    authenticateRequest(req: AuthRequest): AuthnOutcome | Promise<AuthnOutcome> {
      const startedAt = performance.now();
      const outcome = inner.authenticateRequest(req);
      if (outcome instanceof Promise) return outcome.then((settled) => record(settled, startedAt));
      return record(outcome, startedAt);
    },
  };
}
