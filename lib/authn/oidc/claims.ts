import { KubeletAuthError } from '../../errors.js';
import type { KubeUser } from '../../user.js';
import type { ResolvedOIDCOptions } from './options.js';

type ClaimMapping = Pick<
  ResolvedOIDCOptions,
  'usernameClaim' | 'usernamePrefix' | 'groupsClaim' | 'groupsPrefix' | 'requiredClaims'
>;

/**
 * The user a verified token's claims name, as kube-apiserver's OIDC authenticator maps them:
 * - the user name is the username claim, a string, after the prefix; with the claim `email`, an
 *   `email_verified` claim, when present, must be `true` (absent is accepted, as upstream);
 * - the groups claim, when configured and present, is a string or a list of strings (`null`
 *   means none), each after the groups prefix;
 * - every required claim is present with exactly its value.
 * Claims that do not fit throw `ERR_OIDC_TOKEN_INVALID` (the token is refused). Messages name
 * claims, never their values.
 */
export function userFromClaims(claims: Record<string, unknown>, mapping: ClaimMapping): KubeUser {
  const { usernameClaim, groupsClaim } = mapping;
  const name = claims[usernameClaim];
  if (!Object.hasOwn(claims, usernameClaim) || typeof name !== 'string') {
    throw refused(`the username claim "${usernameClaim}" is missing or not a string`);
  }
  // Fail closed: upstream would take an empty name (after the prefix); nobody should be "".
  if (name === '') throw refused(`the username claim "${usernameClaim}" is empty`);
  if (usernameClaim === 'email' && Object.hasOwn(claims, 'email_verified')) {
    const verified = claims['email_verified'];
    if (typeof verified !== 'boolean') throw refused('the "email_verified" claim is not a boolean');
    if (!verified) throw refused('the email is not verified ("email_verified" is false)');
  }
  let groups: string[] = [];
  if (groupsClaim !== undefined && Object.hasOwn(claims, groupsClaim)) {
    const value = claims[groupsClaim];
    if (typeof value === 'string') groups = [value];
    else if (Array.isArray(value) && value.every((g) => typeof g === 'string')) groups = [...value];
    else if (value !== null) {
      throw refused(`the groups claim "${groupsClaim}" is not a string or a list of strings`);
    }
    if (mapping.groupsPrefix !== '') groups = groups.map((g) => mapping.groupsPrefix + g);
  }
  for (const [claim, required] of mapping.requiredClaims) {
    if (!Object.hasOwn(claims, claim)) throw refused(`the required claim "${claim}" is missing`);
    if (claims[claim] !== required) {
      throw refused(`the required claim "${claim}" does not have the required value`);
    }
  }
  return { username: mapping.usernamePrefix + name, groups };
}

function refused(reason: string): KubeletAuthError {
  return new KubeletAuthError('ERR_OIDC_TOKEN_INVALID', reason);
}
