// How the OIDC authenticator lives with its issuer: discovery and keys fetched once and shared,
// keys rotated, a forged key ID, an issuer that is down, slow, or answers nonsense. Real HTTPS
// against the testkit's issuer; an injected clock for cooldowns and retry waits.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { Logger } from '../../lib/logger.js';
import { oidcTokenAuthenticator, type TokenAuthenticator } from '../../lib/index.js';
import type { OIDCOptions } from '../../lib/parts.js';
import { startOidcIssuer, type StandInOidcIssuer } from '../../lib/testing/index.js';
import { record, registerSecrets } from '../support/secrets.js';

let issuer: StandInOidcIssuer;
let clock: number;
let warnings: string[];
let nextWarning: Promise<string>;
let warned: (line: string) => void;

function expectWarning(): void {
  nextWarning = new Promise((resolve) => (warned = resolve));
}

const logger: Required<Logger> = {
  error: (line) => record(line),
  warn: (line) => {
    record(line);
    warnings.push(line);
    warned(line);
  },
  info: (line) => record(line),
  debug: (line) => record(line),
};

beforeEach(async () => {
  issuer = await startOidcIssuer();
  clock = Date.now();
  warnings = [];
  expectWarning();
});
afterEach(() => issuer.close());

const authenticator = (options: Partial<OIDCOptions> = {}): TokenAuthenticator =>
  oidcTokenAuthenticator({
    issuerURL: issuer.url,
    clientID: issuer.clientID,
    ca: issuer.ca,
    usernamePrefix: '-',
    logger,
    now: () => clock,
    ...options,
  });

async function mint(claims: Record<string, unknown> = {}, kid?: string): Promise<string> {
  const token = await issuer.mintToken(claims, kid === undefined ? {} : { kid });
  registerSecrets(token);
  return token;
}

/** The username, or the rejection's code. */
function outcome(auth: TokenAuthenticator, token: string): Promise<string> {
  return auth.authenticateToken(token).then(
    (result) => (result.authenticated ? result.user.username : 'not mine'),
    (error: { code?: string }) => error.code ?? 'no code',
  );
}

describe('fetching', () => {
  it('discovery and keys are fetched once, shared by concurrent tokens', async () => {
    await issuer.setFault({ type: 'slow', delayMs: 100, on: 'jwks', times: 1 });
    const auth = authenticator();
    const tokens = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((sub) => mint({ sub })));
    expect(await Promise.all(tokens.map((t) => outcome(auth, t)))).toEqual([
      'a',
      'b',
      'c',
      'd',
      'e',
    ]);
    expect(await outcome(auth, await mint({ sub: 'f' }))).toBe('f');
    expect(issuer.requests).toEqual({ discovery: 1, jwks: 1 });
  });

  it('tokens of another issuer never make this one be asked', async () => {
    const other = await startOidcIssuer();
    try {
      await issuer.setFault({ type: 'refuse' });
      const auth = authenticator();
      await nextWarning;
      const token = await other.mintToken();
      registerSecrets(token);
      expect(await outcome(auth, token)).toBe('not mine');
      expect(other.requests).toEqual({ discovery: 0, jwks: 0 });
    } finally {
      await other.close();
    }
  });
});

describe('keys rotated at the issuer', () => {
  it('an unknown key ID makes the key set be fetched once, then the token is accepted', async () => {
    const auth = authenticator();
    expect(await outcome(auth, await mint({ sub: 'before' }))).toBe('before');
    await issuer.rotateKeys();
    expect(await outcome(auth, await mint({ sub: 'after' }))).toBe('after');
    expect(await outcome(auth, await mint({ sub: 'again' }))).toBe('again');
    expect(issuer.requests).toEqual({ discovery: 1, jwks: 2 });
  });

  it('unknown key IDs fetch at most once per cooldown (30s); then a real rotation is found', async () => {
    const auth = authenticator();
    expect(await outcome(auth, await mint({ sub: 'a' }))).toBe('a');
    await issuer.rotateKeys();
    expect(await outcome(auth, await mint({ sub: 'b' }))).toBe('b');
    expect(issuer.requests.jwks).toBe(2);

    // Within the cooldown: neither forged key IDs nor a second rotation make a fetch.
    for (const kid of ['forged-1', 'forged-2', 'forged-3']) {
      expect(await outcome(auth, await mint({}, kid))).toBe('ERR_OIDC_TOKEN_INVALID');
    }
    await issuer.rotateKeys();
    expect(await outcome(auth, await mint({ sub: 'c' }))).toBe('ERR_OIDC_TOKEN_INVALID');
    expect(issuer.requests.jwks).toBe(2);

    clock += 29_999;
    expect(await outcome(auth, await mint({ sub: 'c' }))).toBe('ERR_OIDC_TOKEN_INVALID');
    expect(issuer.requests.jwks).toBe(2);
    clock += 1;
    expect(await outcome(auth, await mint({ sub: 'c' }))).toBe('c');
    expect(issuer.requests.jwks).toBe(3);
  });

  it('keys older than 10 minutes are fetched again in the background; the old ones serve meanwhile', async () => {
    const auth = authenticator();
    expect(await outcome(auth, await mint({ sub: 'a' }))).toBe('a');
    await issuer.setFault({ type: 'status', status: 503, on: 'jwks' });
    clock += 10 * 60_000;
    expect(await outcome(auth, await mint({ sub: 'b' }))).toBe('b');
    expect(await nextWarning).toMatch(
      /^OIDC keys of https:\/\/127\.0\.0\.1:\d+ not refreshed, the ones in hand stay: key set https:\/\/.*\/keys: HTTP 503$/,
    );
    expect(issuer.requests.jwks).toBe(2);
    // A second failure in a row, then a wait: tokens meanwhile neither fetch nor log.
    expectWarning();
    expect(await outcome(auth, await mint({ sub: 'c' }))).toBe('c');
    await nextWarning;
    expect(await outcome(auth, await mint({ sub: 'd' }))).toBe('d');
    expect(issuer.requests.jwks).toBe(3);
    expect(warnings).toHaveLength(2);
  });
});

describe('an issuer that misbehaves: 401 (ERR_OIDC_UNAVAILABLE), never a crash', () => {
  it('down at start, then up: the first token after it came back is accepted', async () => {
    await issuer.setFault({ type: 'refuse' });
    const auth = authenticator();
    expect(await nextWarning).toMatch(
      /^OIDC issuer https:\/\/127\.0\.0\.1:\d+ not ready \(tried again on the next token\): discovery document https:\/\/.*\/\.well-known\/openid-configuration: connect ECONNREFUSED/,
    );
    await issuer.setFault();
    expect(await outcome(auth, await mint({ sub: 'a' }))).toBe('a');
    expect(issuer.requests).toEqual({ discovery: 1, jwks: 1 });
  });

  it('down: each token is refused as unavailable until it is back', async () => {
    await issuer.setFault({ type: 'refuse' });
    const auth = authenticator();
    await nextWarning;
    expect(await outcome(auth, await mint())).toBe('ERR_OIDC_UNAVAILABLE');
    await issuer.setFault();
    expect(await outcome(auth, await mint({ sub: 'back' }))).toBe('back');
  });

  it.each([
    ['malformed JSON', { type: 'malformed' } as const, 'not JSON'],
    ['HTTP 500', { type: 'status', status: 500 } as const, 'HTTP 500'],
  ])('discovery answers %s', async (_name, fault, reason) => {
    await issuer.setFault({ ...fault, on: 'discovery' });
    const auth = authenticator();
    await nextWarning;
    const error = await auth.authenticateToken(await mint()).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'ERR_OIDC_UNAVAILABLE',
      message: `discovery document ${issuer.url}/.well-known/openid-configuration: ${reason}`,
    });
  });

  it.each([
    ['malformed JSON', { type: 'malformed' } as const, /key set https:\/\/\S+\/keys: not JSON$/],
    [
      'HTTP 404',
      { type: 'status', status: 404 } as const,
      /key set https:\/\/\S+\/keys: HTTP 404$/,
    ],
  ])('the key set answers %s', async (_name, fault, message) => {
    await issuer.setFault({ ...fault, on: 'jwks' });
    const error = await authenticator()
      .authenticateToken(await mint())
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'ERR_OIDC_UNAVAILABLE',
      message: expect.stringMatching(message),
    });
  });

  it('hangs: the token is refused once the timeout passed', async () => {
    await issuer.setFault({ type: 'hang', on: 'jwks' });
    const error = await authenticator({ timeout: '200ms' })
      .authenticateToken(await mint())
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'ERR_OIDC_UNAVAILABLE',
      message: expect.stringMatching(/key set https:\/\/\S+\/keys: no answer within 200 ms$/),
    });
  });

  it('a discovery document naming another issuer is not used', async () => {
    // Configured with a trailing slash, the issuer's discovery URL is the same, but the
    // document names the issuer without it: go-oidc refuses such a document, and so do we.
    const configured = `${issuer.url}/`;
    const auth = authenticator({ issuerURL: configured });
    await nextWarning;
    const error = await auth
      .authenticateToken(await mint({ iss: configured }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'ERR_OIDC_UNAVAILABLE',
      message: `discovery document ${issuer.url}/.well-known/openid-configuration: names the issuer ${JSON.stringify(issuer.url)}, not ${JSON.stringify(configured)}`,
    });
    expect(issuer.requests.jwks).toBe(0);
  });

  it('failing again and again: attempts are spaced out, 1s, 2s, … (no request in between)', async () => {
    await issuer.setFault({ type: 'status', status: 500, on: 'discovery' });
    const auth = authenticator();
    await nextWarning; // the start-up attempt: 1 request, which does not count
    expect(await outcome(auth, await mint())).toBe('ERR_OIDC_UNAVAILABLE'); // at once: 2
    expect(await outcome(auth, await mint())).toBe('ERR_OIDC_UNAVAILABLE'); // at once: 3
    expect(await outcome(auth, await mint())).toBe('ERR_OIDC_UNAVAILABLE'); // waits 1s
    expect(issuer.requests.discovery).toBe(3);
    clock += 1000;
    expect(await outcome(auth, await mint())).toBe('ERR_OIDC_UNAVAILABLE'); // 4, then 2s
    await issuer.setFault();
    clock += 1999;
    expect(await outcome(auth, await mint())).toBe('ERR_OIDC_UNAVAILABLE');
    expect(issuer.requests.discovery).toBe(4);
    clock += 1;
    expect(await outcome(auth, await mint({ sub: 'ok' }))).toBe('ok');
    expect(issuer.requests).toEqual({ discovery: 5, jwks: 1 });
  });
});
