import type { KubeUser } from '../user.js';
import type { AuthnOutcome } from '../contracts.js';

/**
 * The outcomes passport adds to a strategy while it runs `authenticate`: exactly one of them
 * ends each attempt. `fail()` lets `passport.authenticate([...])` try the next strategy.
 */
export interface StrategyActions {
  success(user: KubeUser): void;
  fail(status?: number): void;
  error(error: Error): void;
}

/** `this` inside a strategy's `authenticate`, seen with the actions passport augmented it with. */
export function actionsOf(strategy: object): StrategyActions {
  return strategy as StrategyActions;
}

/** Ends a passport attempt with an outcome: a user succeeds; anything else fails (401 at the end). */
export function settle(strategy: object, outcome: AuthnOutcome): void {
  const actions = actionsOf(strategy);
  if (outcome.kind === 'user') actions.success(outcome.user);
  else actions.fail();
}
