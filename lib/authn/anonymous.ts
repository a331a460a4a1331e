import type { IncomingMessage } from 'node:http';
import { Strategy } from 'passport-strategy';
import { anonymousUser, freezeUser } from '../user.js';
import { credentialsRejection } from './rejection.js';
import { actionsOf } from './strategy-actions.js';

/**
 * A passport strategy, name `'kube-anonymous'`: the request becomes `system:anonymous` in group
 * `system:unauthenticated`. Put it last. A request whose credentials an earlier strategy of this
 * package refused is not made anonymous: it fails, and gets 401, as on the kubelet.
 *
 * @example app.use(passport.authenticate(['kube-x509', 'kube-token', 'kube-anonymous'], { session: false }));
 */
const ANONYMOUS = freezeUser(anonymousUser());

export class AnonymousStrategy extends Strategy {
  readonly name = 'kube-anonymous';

  override authenticate(req: IncomingMessage): void {
    const actions = actionsOf(this);
    if (credentialsRejection(req) !== undefined) return actions.fail();
    actions.success(ANONYMOUS);
  }
}
