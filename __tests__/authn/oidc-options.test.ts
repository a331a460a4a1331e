// Every bad OIDC option fails at construction with ERR_INVALID_OPTION naming it, in the
// strategy, the token authenticator and kubeletAuth's authentication.oidc alike.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OIDCStrategy, oidcTokenAuthenticator } from '../../lib/index.js';
import type { OIDCOptions } from '../../lib/parts.js';
import { resolveKubeletAuthConfig } from '../../lib/config.js';
import { createCA, type CertificateAuthority } from '../../lib/testing/index.js';

const dir = mkdtempSync(join(tmpdir(), 'eka-oidc-options-'));
let ca: CertificateAuthority;
beforeAll(async () => {
  ca = await createCA();
  writeFileSync(join(dir, 'ca.crt'), ca.cert);
  writeFileSync(join(dir, 'empty.crt'), '');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = { issuerURL: 'https://issuer.example', clientID: 'kubernetes' };

const bad: [string, Record<string, unknown>, string][] = [
  [
    'no issuerURL',
    { issuerURL: undefined },
    `issuerURL: required, the issuer's https:// URL as tokens name it in "iss"`,
  ],
  [
    'an http issuer',
    { issuerURL: 'http://issuer.example' },
    'issuerURL: must use the https scheme',
  ],
  ['not a URL', { issuerURL: 'issuer.example' }, 'issuerURL: not a URL: "issuer.example"'],
  ['a query', { issuerURL: 'https://issuer.example/?a=b' }, 'issuerURL: must not contain a query'],
  [
    'a fragment',
    { issuerURL: 'https://issuer.example/#x' },
    'issuerURL: must not contain a fragment',
  ],
  [
    'credentials',
    { issuerURL: 'https://u:p@issuer.example' },
    'issuerURL: must not contain a user name or password',
  ],
  [
    'no clientID',
    { clientID: undefined },
    'clientID: required, the audience tokens must be issued for',
  ],
  ['an empty clientID', { clientID: '' }, 'clientID: expected a non-empty string, got ""'],
  [
    'an unknown algorithm',
    { signingAlgs: ['HS256'] },
    'signingAlgs: unsupported signing algorithm "HS256" (did you mean "RS256"?) (allowed: RS256, RS384, RS512, ES256, ES384, ES512, PS256, PS384, PS512)',
  ],
  [
    'an algorithm in lower case',
    { signingAlgs: ['es256'] },
    'signingAlgs: unsupported signing algorithm "es256" (did you mean "ES256"?) (allowed: RS256, RS384, RS512, ES256, ES384, ES512, PS256, PS384, PS512)',
  ],
  ['no algorithm', { signingAlgs: [] }, "signingAlgs: expected a non-empty list such as ['RS256']"],
  [
    'a groups prefix without a groups claim',
    { groupsPrefix: 'oidc:' },
    'groupsPrefix: set groupsClaim too, or the prefix has nothing to go on',
  ],
  [
    'an empty username claim',
    { usernameClaim: '' },
    'usernameClaim: expected a non-empty string, got ""',
  ],
  [
    'a required claim that is not a string',
    { requiredClaims: { a: 1 } },
    'requiredClaims.a: expected a string value',
  ],
  [
    'a bad clock skew',
    { clockSkew: 'soon' },
    `clockSkew: expected a non-negative duration such as '2m0s', '30s' or a number of milliseconds, got "soon"`,
  ],
  ['a zero timeout', { timeout: 0 }, 'timeout: must be more than zero'],
  [
    'a bad token size',
    { maxTokenSize: 0.5 },
    'maxTokenSize: expected a whole number of characters ≥ 1, got 0.5',
  ],
  ['ca that is not PEM', { ca: 'hello' }, 'ca: no PEM certificate found'],
  ['ca and caFile', { ca: 'x', caFile: 'y' }, 'ca: give ca or caFile, not both'],
  [
    'a caFile that is missing',
    { caFile: join(dir, 'nope.crt') },
    `caFile: cannot read ${join(dir, 'nope.crt')} (ENOENT)`,
  ],
  ['an empty caFile', { caFile: join(dir, 'empty.crt') }, 'caFile: no PEM certificate found'],
  [
    'a misspelt option',
    { issuerUrl: 'https://x' },
    'OIDC options: unknown option "issuerUrl" (did you mean "issuerURL"?)',
  ],
  [
    "kube-apiserver's flag name",
    { 'oidc-client-id': 'k' },
    'OIDC options: unknown option "oidc-client-id" (did you mean "clientID"?)',
  ],
  [
    "jose's name",
    { audience: 'k' },
    'OIDC options: unknown option "audience" (did you mean "clientID"?)',
  ],
];

describe.each([
  ['new OIDCStrategy', (o: OIDCOptions) => new OIDCStrategy(o)],
  ['oidcTokenAuthenticator', (o: OIDCOptions) => oidcTokenAuthenticator(o)],
])('%s', (_name, construct) => {
  it.each(bad)('refuses %s', (_case, options, message) => {
    expect(() => construct({ ...base, ...options } as OIDCOptions)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', message }),
    );
  });

  it('refuses something that is not an object', () => {
    expect(() => construct(null as unknown as OIDCOptions)).toThrow(
      'OIDC options: expected an object { issuerURL, clientID, … }',
    );
  });
});

describe('kubeletAuth authentication.oidc', () => {
  const resolve = (oidc: Record<string, unknown>) =>
    resolveKubeletAuthConfig({
      nodeName: 'node-a',
      authentication: { webhook: { enabled: false }, oidc: { ...base, ...oidc } as OIDCOptions },
      authorization: { mode: 'AlwaysAllow' },
    });

  it.each([
    [
      'issuerURL',
      { issuerURL: 'http://x' },
      'authentication.oidc.issuerURL: must use the https scheme',
    ],
    [
      'a typo',
      { clientId: 'k' },
      'authentication.oidc: unknown option "clientId" (did you mean "clientID"?)',
    ],
    [
      'logger, which is the middleware’s',
      { logger: console },
      'authentication.oidc: unknown option "logger" (known: issuerURL, clientID, ca, caFile, usernameClaim, usernamePrefix, groupsClaim, groupsPrefix, signingAlgs, requiredClaims, clockSkew, timeout, maxTokenSize)',
    ],
  ])('names the option: %s', (_name, oidc, message) => {
    expect(() => resolve(oidc)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', message }),
    );
  });

  it('is an authentication method of its own (no "no authentication method configured")', () => {
    expect(() => resolve({ caFile: join(dir, 'ca.crt') })).not.toThrow();
  });

  it('a misspelt authentication.oidc is named', () => {
    expect(() =>
      resolveKubeletAuthConfig({
        nodeName: 'node-a',
        authentication: { oidcc: base } as never,
      }),
    ).toThrow('authentication: unknown option "oidcc" (did you mean "oidc"?)');
  });
});
