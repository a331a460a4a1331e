import { AuthenticatorStrategy } from './passport-strategy.js';
import { anonymousUser, freezeUser } from '../user.js';
import { credentialsRejection } from './rejection.js';
import type { AuthnOutcome, AuthRequest, RequestAuthenticator } from '../contracts.js';

/** The anonymous outcome: one frozen user shared by every anonymous request. */
export const ANONYMOUS: AuthnOutcome = Object.freeze({
  kind: 'user',
  user: freezeUser(anonymousUser()),
});

/**
 * The request is `system:anonymous` in group `system:unauthenticated`, unless an earlier
 * authenticator of this package refused its credentials: then it is refused too (401), as on
 * the kubelet.
 */
export const anonymousAuthenticator: RequestAuthenticator = {
  authenticateRequest(req: AuthRequest): AuthnOutcome {
    const refused = credentialsRejection(req);
    return refused === undefined ? ANONYMOUS : { kind: 'refused', reason: refused };
  },
};

/**
 * A passport strategy, name `'kube-anonymous'`, for {@link anonymousAuthenticator}. Put it last.
 *
 * @example app.use(passport.authenticate(['kube-x509', 'kube-token', 'kube-anonymous'], { session: false }));
 */
export class AnonymousStrategy extends AuthenticatorStrategy {
  constructor() {
    super('kube-anonymous', anonymousAuthenticator);
  }
}
