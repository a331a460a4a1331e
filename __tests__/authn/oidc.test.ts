// OIDC token verification and claim mapping, through oidcTokenAuthenticator against the
// testkit's issuer over real HTTPS.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { oidcTokenAuthenticator, type TokenAuthenticator } from '../../lib/index.js';
import type { OIDCOptions } from '../../lib/parts.js';
import { startOidcIssuer, type StandInOidcIssuer } from '../../lib/testing/index.js';
import { recordingLogger, registerSecrets } from '../support/secrets.js';

let issuer: StandInOidcIssuer;
let other: StandInOidcIssuer;

beforeAll(async () => {
  [issuer, other] = await Promise.all([startOidcIssuer(), startOidcIssuer()]);
});
afterAll(async () => {
  await Promise.all([issuer.close(), other.close()]);
});

const authenticator = (options: Partial<OIDCOptions> = {}): TokenAuthenticator =>
  oidcTokenAuthenticator({
    issuerURL: issuer.url,
    clientID: issuer.clientID,
    ca: issuer.ca,
    logger: recordingLogger,
    ...options,
  });

/** A token of `from` (default: the issuer), registered so that no log line may show it. */
async function mint(
  claims: Record<string, unknown> = {},
  options: Parameters<StandInOidcIssuer['mintToken']>[1] = {},
  from: StandInOidcIssuer = issuer,
): Promise<string> {
  const token = await from.mintToken(claims, options);
  registerSecrets(token);
  return token;
}

/** The rejection's code and message. */
async function refusal(auth: TokenAuthenticator, token: string): Promise<[string, string]> {
  const error = (await auth.authenticateToken(token).then(
    () => new Error('accepted'),
    (e: unknown) => e,
  )) as { code?: string; message: string };
  return [error.code ?? 'none', error.message];
}

describe('a token of this issuer', () => {
  it('is accepted as its subject, prefixed with the issuer and "#"', async () => {
    await expect(authenticator().authenticateToken(await mint({ sub: 'alice' }))).resolves.toEqual({
      authenticated: true,
      user: { username: `${issuer.url}#alice`, groups: [] },
    });
  });

  it.each([
    ['no prefix set, claim sub', { usernameClaim: 'sub' }, { sub: 'alice' }, `#alice`],
    ['prefix "-" means none', { usernamePrefix: '-' }, { sub: 'alice' }, 'alice'],
    ['a prefix given', { usernamePrefix: 'oidc:' }, { sub: 'alice' }, 'oidc:alice'],
    [
      'claim email: no prefix',
      { usernameClaim: 'email' },
      { email: 'a@example.com' },
      'a@example.com',
    ],
    [
      'claim email with a prefix given',
      { usernameClaim: 'email', usernamePrefix: 'oidc:' },
      { email: 'a@example.com' },
      'oidc:a@example.com',
    ],
    [
      'another claim: issuer prefix',
      { usernameClaim: 'preferred_username' },
      { preferred_username: 'al' },
      '#al',
    ],
  ])('user name: %s', async (_name, options, claims, expected) => {
    const result = await authenticator(options).authenticateToken(await mint(claims));
    const username = expected.startsWith('#') ? `${issuer.url}${expected}` : expected;
    expect(result).toEqual({ authenticated: true, user: { username, groups: [] } });
  });

  it.each([
    ['an array', ['devs', 'ops'], '', ['devs', 'ops']],
    ['a string', 'devs', '', ['devs']],
    ['an array, prefixed', ['devs', 'ops'], 'oidc:', ['oidc:devs', 'oidc:ops']],
    ['null', null, 'oidc:', []],
    ['absent', undefined, 'oidc:', []],
  ])('groups claim as %s', async (_name, groups, groupsPrefix, expected) => {
    const auth = authenticator({ usernamePrefix: '-', groupsClaim: 'groups', groupsPrefix });
    await expect(auth.authenticateToken(await mint({ sub: 'bob', groups }))).resolves.toEqual({
      authenticated: true,
      user: { username: 'bob', groups: expected },
    });
  });

  it('groups are ignored without groupsClaim', async () => {
    const result = await authenticator().authenticateToken(await mint({ groups: ['admins'] }));
    expect(result).toMatchObject({ authenticated: true, user: { groups: [] } });
  });

  it('email_verified absent is accepted (as kube-apiserver)', async () => {
    const result = await authenticator({ usernameClaim: 'email' }).authenticateToken(
      await mint({ email: 'a@example.com' }),
    );
    expect(result).toMatchObject({ user: { username: 'a@example.com' } });
  });

  it('email_verified true is accepted', async () => {
    const token = await mint({ email: 'a@example.com', email_verified: true });
    const result = await authenticator({ usernameClaim: 'email' }).authenticateToken(token);
    expect(result).toMatchObject({ user: { username: 'a@example.com' } });
  });

  it('required claims with their values are accepted', async () => {
    const auth = authenticator({ requiredClaims: { tenant: 'a', hd: 'example.com' } });
    const token = await mint({ tenant: 'a', hd: 'example.com' });
    await expect(auth.authenticateToken(token)).resolves.toMatchObject({ authenticated: true });
  });

  it('exp and nbf within the clock skew are accepted', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await mint({ exp: now - 5, nbf: now + 5 });
    await expect(authenticator().authenticateToken(token)).resolves.toMatchObject({
      authenticated: true,
    });
  });

  it('aud may be a list holding the client ID', async () => {
    const token = await mint({ aud: ['other', issuer.clientID] });
    await expect(authenticator().authenticateToken(token)).resolves.toMatchObject({
      authenticated: true,
    });
  });

  it('an issuer with ES256 keys, with ES256 allowed', async () => {
    const es = await startOidcIssuer({ algorithm: 'ES256', path: '/realms/test' });
    try {
      const auth = oidcTokenAuthenticator({
        issuerURL: es.url,
        clientID: es.clientID,
        ca: es.ca,
        signingAlgs: ['ES256'],
        usernamePrefix: '-',
        logger: recordingLogger,
      });
      const token = await mint({ sub: 'eve' }, {}, es);
      await expect(auth.authenticateToken(token)).resolves.toEqual({
        authenticated: true,
        user: { username: 'eve', groups: [] },
      });
    } finally {
      await es.close();
    }
  });
});

describe('a token of this issuer that fails verification is refused (ERR_OIDC_TOKEN_INVALID)', () => {
  const now = () => Math.floor(Date.now() / 1000);
  it.each<[string, () => Promise<string>, Partial<OIDCOptions>, string]>([
    ['wrong audience', () => mint({ aud: 'someone-else' }), {}, 'unexpected "aud" claim value'],
    ['no audience', () => mint({ aud: undefined }), {}, 'missing required "aud" claim'],
    ['expired', () => mint({}, { expiresIn: -60 }), {}, '"exp" claim timestamp check failed'],
    ['no exp', () => mint({ exp: undefined }), {}, 'missing required "exp" claim'],
    ['not yet valid', () => mint({ nbf: now() + 120 }), {}, '"nbf" claim timestamp check failed'],
    [
      'an algorithm not allowed',
      () => mint({}, { alg: 'RS384' }),
      {},
      '"alg" (Algorithm) Header Parameter value not allowed',
    ],
    ['a bad signature', () => mint({}, { forged: true }), {}, 'signature verification failed'],
    [
      'a tampered payload',
      async () => {
        const [header, , signature] = (await mint({ sub: 'alice' })).split('.');
        const payload = Buffer.from(
          JSON.stringify({ iss: issuer.url, aud: issuer.clientID, sub: 'root', exp: now() + 60 }),
        ).toString('base64url');
        return `${header}.${payload}.${signature}`;
      },
      {},
      'signature verification failed',
    ],
    [
      'a required claim missing',
      () => mint({}),
      { requiredClaims: { tenant: 'a' } },
      'the required claim "tenant" is missing',
    ],
    [
      'a required claim with another value',
      () => mint({ tenant: 'b' }),
      { requiredClaims: { tenant: 'a' } },
      'the required claim "tenant" does not have the required value',
    ],
    [
      'email_verified false',
      () => mint({ email: 'a@example.com', email_verified: false }),
      { usernameClaim: 'email' },
      'the email is not verified ("email_verified" is false)',
    ],
    [
      'email_verified as a string',
      () => mint({ email: 'a@example.com', email_verified: 'true' }),
      { usernameClaim: 'email' },
      'the "email_verified" claim is not a boolean',
    ],
    [
      'the username claim missing',
      () => mint({ sub: undefined }),
      {},
      'the username claim "sub" is missing or not a string',
    ],
    [
      'the username claim not a string',
      () => mint({ sub: 42 }),
      {},
      'the username claim "sub" is missing or not a string',
    ],
    ['the username claim empty', () => mint({ sub: '' }), {}, 'the username claim "sub" is empty'],
    [
      // jose refuses an unknown critical header before any key is looked up; the parameter's
      // name is the sender's text, so only the code is told.
      'an unknown critical header parameter',
      async () => {
        const [, payload, signature] = (await mint({ sub: 'alice' })).split('.');
        const header = Buffer.from(
          JSON.stringify({ alg: 'RS256', kid: issuer.kid, crit: ['x\nforged log line'] }),
        ).toString('base64url');
        return `${header}.${payload}.${signature}`;
      },
      {},
      'ERR_JOSE_NOT_SUPPORTED',
    ],
    [
      'groups not strings',
      () => mint({ groups: [1, 2] }),
      { groupsClaim: 'groups' },
      'the groups claim "groups" is not a string or a list of strings',
    ],
  ])('%s', async (_name, token, options, message) => {
    expect(await refusal(authenticator(options), await token())).toEqual([
      'ERR_OIDC_TOKEN_INVALID',
      message,
    ]);
  });
});

describe('a token that is not this issuer’s is not this authenticator’s', () => {
  it.each<[string, () => Promise<string>]>([
    ['another issuer', () => mint({}, {}, other)],
    ['not a JWT', async () => 'opaque-token-value'],
    ['a JWT without iss', () => mint({ iss: undefined })],
    ['a JWE-shaped token', async () => 'a.b.c.d.e'],
  ])('%s: { authenticated: false }, also from peekToken once ready', async (_name, make) => {
    const auth = authenticator();
    const token = await make();
    await expect(auth.authenticateToken(token)).resolves.toEqual({ authenticated: false });
    expect(auth.peekToken?.(token)).toEqual({ authenticated: false });
  });

  it('a token of this issuer needs checking: peekToken has no answer', async () => {
    const auth = authenticator();
    const token = await mint();
    await auth.authenticateToken(token);
    expect(auth.peekToken?.(token)).toBeUndefined();
  });

  it('a token longer than maxTokenSize is not read at all', async () => {
    const token = await mint({ padding: 'x'.repeat(2000) });
    await expect(authenticator({ maxTokenSize: 1000 }).authenticateToken(token)).resolves.toEqual({
      authenticated: false,
    });
    await expect(authenticator({ maxTokenSize: 10_000 }).authenticateToken(token)).resolves.toEqual(
      expect.objectContaining({ authenticated: true }),
    );
  });
});
