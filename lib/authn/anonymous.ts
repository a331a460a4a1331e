import type { IncomingMessage } from 'node:http';
import { PassportStrategy } from './passport-strategy.js';
import { anonymousUser, freezeUser } from '../user.js';
import { credentialsRejection } from './rejection.js';
import type { AuthnOutcome, AuthRequest, RequestAuthenticator } from '../contracts.js';
import { settle } from './strategy-actions.js';

/**
 * A passport strategy, name `'kube-anonymous'`: the request becomes `system:anonymous` in group
 * `system:unauthenticated`. Put it last. A request whose credentials an earlier strategy of this
 * package refused is not made anonymous: it fails, and gets 401, as on the kubelet.
 *
 * @example app.use(passport.authenticate(['kube-x509', 'kube-token', 'kube-anonymous'], { session: false }));
 */
/** The anonymous outcome: one frozen user shared by every anonymous request. */
export const ANONYMOUS: AuthnOutcome = Object.freeze({
  kind: 'user',
  user: freezeUser(anonymousUser()),
});

export class AnonymousStrategy extends PassportStrategy implements RequestAuthenticator {
  override readonly name = 'kube-anonymous';

  override authenticate(req: IncomingMessage): void {
    settle(this, this.authenticateRequest(req as unknown as AuthRequest));
  }

  /** Anonymous, unless an earlier strategy refused this request's credentials. */
  authenticateRequest(req: AuthRequest): AuthnOutcome {
    const refused = credentialsRejection(req);
    return refused === undefined ? ANONYMOUS : { kind: 'refused', reason: refused };
  }
}
