import type { TokenAuthenticator, TokenResult } from '../contracts.js';
import { freezeUser, withAuthenticatedGroup } from '../user.js';

/**
 * `authenticator` with `system:authenticated` added to each user it names, and the user frozen
 * so that no route can change it: the API server's authenticated-group adder, as a decorator.
 * Put it under a cache, so that a cached result is final and requests share its user.
 */
export function authenticatedGroupAdder(authenticator: TokenAuthenticator): TokenAuthenticator {
  const peek = authenticator.peekToken?.bind(authenticator);
  return {
    ...(authenticator.audiences ? { audiences: authenticator.audiences } : {}),
    authenticateToken: (token) => authenticator.authenticateToken(token).then(final),
    ...(peek ? { peekToken: (token: string) => final(peek(token)) } : {}),
  };
}

function final<R extends TokenResult | undefined>(result: R): R {
  if (!result?.authenticated) return result;
  return { ...result, user: freezeUser(withAuthenticatedGroup(result.user)) };
}
