/**
 * The authenticated caller, shaped like Kubernetes' `user.Info`: what authenticators produce,
 * what `req.user` holds, and what a SubjectAccessReview is asked about.
 */
export interface KubeUser {
  /** The user name: a certificate's CN, a TokenReview's `status.user.username`, or `system:anonymous`. */
  username: string;
  /** A unique id, when the authenticator knows one. */
  uid?: string;
  /** Group names, in the order the authenticator gave them. */
  groups: string[];
  /** Extra attributes (TokenReview `status.user.extra`; for certificates the credential id). */
  extra?: Record<string, string[]>;
}

/** The user every request gets when anonymous authentication is on and it carries no credentials. */
export const ANONYMOUS_USER = 'system:anonymous';
/** The one group of the anonymous user. */
export const UNAUTHENTICATED_GROUP = 'system:unauthenticated';
/** The group every authenticated, non-anonymous user gets. */
export const AUTHENTICATED_GROUP = 'system:authenticated';

/** A fresh anonymous user. */
export function anonymousUser(): KubeUser {
  return { username: ANONYMOUS_USER, groups: [UNAUTHENTICATED_GROUP] };
}

/**
 * Freezes a user deeply and returns it. Authenticated users are shared between the requests of
 * one connection or one cached token, so a route that changed `req.user` would change who later
 * requests are authorized as; frozen, such a change throws instead.
 */
export function freezeUser(user: KubeUser): Readonly<KubeUser> {
  Object.freeze(user.groups);
  if (user.extra) {
    for (const values of Object.values(user.extra)) Object.freeze(values);
    Object.freeze(user.extra);
  }
  return Object.freeze(user);
}

/**
 * Whether `user` is a plain object frozen as {@link freezeUser} leaves it: itself, its groups and
 * its extra. (A class instance is not plain: a getter on its prototype could still change.)
 */
export function isDeeplyFrozen(user: KubeUser): boolean {
  if (!isFrozenPlainObject(user) || !Object.isFrozen(user.groups)) return false;
  const { extra } = user;
  return (
    extra === undefined || (Object.isFrozen(extra) && Object.values(extra).every(Object.isFrozen))
  );
}

/**
 * Whether `value` is a frozen object made as `{ … }` (Object's prototype, so no getters of a
 * class).
 */
export function isFrozenPlainObject(value: object): boolean {
  return Object.getPrototypeOf(value) === Object.prototype && Object.isFrozen(value);
}

/**
 * Adds `system:authenticated` at the end of the groups, as the API server's group adder does:
 * unchanged for `system:anonymous` and for users that already have `system:authenticated` or
 * `system:unauthenticated`. Returns a copy; the input is not changed.
 */
export function withAuthenticatedGroup(user: KubeUser): KubeUser {
  if (user.username === ANONYMOUS_USER) return user;
  if (user.groups.includes(AUTHENTICATED_GROUP) || user.groups.includes(UNAUTHENTICATED_GROUP)) {
    return user;
  }
  return { ...user, groups: [...user.groups, AUTHENTICATED_GROUP] };
}

/**
 * Reads the `KubeUser` that the package's authentication put on `req.user`; `undefined` when
 * the request was not authenticated by it. Lets apps stay typed without augmenting `Express.User`.
 */
export function kubeUser(req: object): KubeUser | undefined {
  const user: unknown = (req as { user?: unknown }).user;
  return isKubeUser(user) ? user : undefined;
}

/** A structural check, for values that come from outside (passport, other middleware). */
export function isKubeUser(value: unknown): value is KubeUser {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { username?: unknown; groups?: unknown };
  return (
    typeof candidate.username === 'string' &&
    Array.isArray(candidate.groups) &&
    candidate.groups.every((g) => typeof g === 'string')
  );
}
