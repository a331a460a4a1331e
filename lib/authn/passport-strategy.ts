import type { IncomingMessage } from 'node:http';
import type { AuthnOutcome, AuthRequest, RequestAuthenticator } from '../contracts.js';
import type { KubeUser } from '../user.js';

/**
 * The actions passport adds to a strategy while its `authenticate` runs; exactly one of them
 * ends each attempt. `fail()` lets `passport.authenticate([...])` try the next strategy.
 */
interface StrategyActions {
  success(user: KubeUser): void;
  fail(status?: number): void;
  error(error: Error): void;
}

/**
 * Any {@link RequestAuthenticator} as a passport strategy: a user is passport's `success`;
 * no credentials or refused ones are `fail` (the next strategy is tried, 401 when none is left);
 * a broken authenticator is `error`. The authenticator stays usable on its own through
 * `authenticateRequest`, which is why `kubeletAuth` and passport run the same code.
 *
 * passport checks only `name` and `authenticate`, so the published types stay free of
 * passport's own (`@types/passport` brings `@types/express` into every consumer's type-check),
 * and passport stays an optional peer.
 */
export class AuthenticatorStrategy<
  A extends RequestAuthenticator = RequestAuthenticator,
> implements RequestAuthenticator {
  /**
   * @param name what `passport.authenticate()` knows the strategy by
   * @param authenticator what decides each request
   */
  constructor(
    readonly name: string,
    readonly authenticator: A,
  ) {}

  /** Run by passport, with `this` augmented by its actions. */
  authenticate(req: IncomingMessage): void {
    const actions = this as unknown as StrategyActions;
    let outcome: AuthnOutcome | Promise<AuthnOutcome>;
    try {
      outcome = this.authenticator.authenticateRequest(req as unknown as AuthRequest);
    } catch (error) {
      return actions.error(error instanceof Error ? error : new Error(String(error)));
    }
    if (outcome instanceof Promise) {
      outcome.then(
        (settled) => settle(actions, settled),
        (error: unknown) =>
          actions.error(error instanceof Error ? error : new Error(String(error))),
      );
    } else settle(actions, outcome);
  }

  /** Releases what the authenticator holds (a watched CA file), if it holds anything. */
  close(): void {
    (this.authenticator as { close?: () => void }).close?.();
  }

  /** The authenticator's own outcome (synchronous when it answers synchronously). */
  authenticateRequest(req: AuthRequest): ReturnType<A['authenticateRequest']> {
    return this.authenticator.authenticateRequest(req) as ReturnType<A['authenticateRequest']>;
  }
}

/**
 * Turns an authenticator into a passport strategy named `name`.
 *
 * @example passport.use(passportStrategy('my-tokens', myAuthenticator));
 */
export function passportStrategy<A extends RequestAuthenticator>(
  name: string,
  authenticator: A,
): AuthenticatorStrategy<A> {
  return new AuthenticatorStrategy(name, authenticator);
}

function settle(actions: StrategyActions, outcome: AuthnOutcome): void {
  if (outcome.kind === 'user') actions.success(outcome.user);
  else actions.fail();
}
