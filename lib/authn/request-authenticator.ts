import type { AuthnOutcome, AuthRequest, RequestAuthenticator } from '../contracts.js';

export const NO_CREDENTIALS: AuthnOutcome = Object.freeze({ kind: 'none' });

/**
 * The kubelet's union: authenticators in order, the first user wins; a refusal is remembered
 * and the next one tried (a bad certificate plus a good token is the token's user); when none
 * succeeds, a refusal means 401, and no credentials at all means `fallback` (anonymous, when on).
 * Synchronous as long as every authenticator asked answers synchronously.
 */
export function authenticateUnion(
  authenticators: readonly RequestAuthenticator[],
  req: AuthRequest,
  fallback: AuthnOutcome,
): AuthnOutcome | Promise<AuthnOutcome> {
  const outcome = tryFrom(authenticators, 0, req, undefined);
  const orFallback = (o: AuthnOutcome): AuthnOutcome => (o.kind === 'none' ? fallback : o);
  return outcome instanceof Promise ? outcome.then(orFallback) : orFallback(outcome);
}

function tryFrom(
  authenticators: readonly RequestAuthenticator[],
  start: number,
  req: AuthRequest,
  refused: AuthnOutcome | undefined,
): AuthnOutcome | Promise<AuthnOutcome> {
  for (let i = start; i < authenticators.length; i++) {
    const outcome = (authenticators[i] as RequestAuthenticator).authenticateRequest(req);
    if (outcome instanceof Promise) {
      return outcome.then((settled) =>
        settled.kind === 'user'
          ? settled
          : tryFrom(authenticators, i + 1, req, firstRefusal(refused, settled)),
      );
    }
    if (outcome.kind === 'user') return outcome;
    refused = firstRefusal(refused, outcome);
  }
  return refused ?? NO_CREDENTIALS;
}

/**
 * The refusal a failed union answers with: the first one of credentials the request tried, else
 * the first one at all (a bad client certificate is named as such, not as "no front proxy").
 */
function firstRefusal(
  kept: AuthnOutcome | undefined,
  outcome: AuthnOutcome,
): AuthnOutcome | undefined {
  if (outcome.kind !== 'refused') return kept;
  if (kept?.kind !== 'refused') return outcome;
  return kept.attempted === false && outcome.attempted !== false ? outcome : kept;
}
