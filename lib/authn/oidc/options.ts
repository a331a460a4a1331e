import { readFileSync } from 'node:fs';
import { OIDC_DEFAULTS } from '../../defaults.js';
import { toMilliseconds, type Duration } from '../../duration.js';
import type { Logger } from '../../logger.js';
import { checkKnownKeys, didYouMean, invalidOption } from '../../option-errors.js';
import { parseCertificateBundle } from '../ca-bundle.js';

/**
 * Options of OIDC (JWT) bearer token authentication, named after kube-apiserver's `--oidc-*`
 * flags and with their defaults.
 */
export interface OIDCOptions {
  /**
   * The issuer, exactly as tokens name it in `iss` (`--oidc-issuer-url`); `https://` only, no
   * query or fragment. Its discovery document is read from
   * `<issuerURL>/.well-known/openid-configuration`. Required.
   */
  issuerURL: string;
  /** The client ID tokens must be issued for: their `aud` must contain it (`--oidc-client-id`). Required. */
  clientID: string;
  /** PEM of the CAs that sign the issuer's serving certificate. Default: Node.js's root CAs. */
  ca?: string;
  /** A file holding {@link OIDCOptions.ca}, read at start (`--oidc-ca-file`). Default: none. */
  caFile?: string;
  /** The claim that names the user (`--oidc-username-claim`). Default: `'sub'`. */
  usernameClaim?: string;
  /**
   * Put before every user name (`--oidc-username-prefix`). Default: `'<issuerURL>#'`, except
   * for the claim `email`, which has none; `'-'` means none whatever the claim.
   */
  usernamePrefix?: string;
  /** The claim that lists the groups, a string or an array of strings (`--oidc-groups-claim`). Default: none. */
  groupsClaim?: string;
  /** Put before every group name; needs `groupsClaim` (`--oidc-groups-prefix`). Default: none. */
  groupsPrefix?: string;
  /**
   * Signing algorithms accepted (`--oidc-signing-algs`): RS256, RS384, RS512, ES256, ES384,
   * ES512, PS256, PS384, PS512. Default: `['RS256']`.
   */
  signingAlgs?: string[];
  /** Claims a token must carry with exactly these string values (`--oidc-required-claim`). Default: none. */
  requiredClaims?: Record<string, string>;
  /** Leeway on `exp` and `nbf`, for clocks that disagree. Default: `'10s'`. */
  clockSkew?: Duration;
  /** Longest time one request to the issuer (discovery or keys) may take. Default: `'5s'`. */
  timeout?: Duration;
  /** Longest bearer token looked at, in characters; a longer one is not taken as this issuer's. Default: `16384`. */
  maxTokenSize?: number;
  /** Where refused tokens (debug) and issuer failures (warn) are reported, never a token. Default: `stderrLogger`. */
  logger?: Logger;
  /** The clock, in ms since the epoch (for tests). Default: `Date.now`. */
  now?: () => number;
}

/** {@link OIDCOptions} checked, with every default applied. */
export interface ResolvedOIDCOptions {
  issuerURL: string;
  discoveryURL: string;
  clientID: string;
  ca: string | undefined;
  usernameClaim: string;
  /** The prefix actually put before user names (`''` for none). */
  usernamePrefix: string;
  groupsClaim: string | undefined;
  groupsPrefix: string;
  signingAlgs: string[];
  requiredClaims: [claim: string, value: string][];
  clockSkewMs: number;
  timeoutMs: number;
  maxTokenSize: number;
  now: () => number;
}

/** The algorithms kube-apiserver allows for OIDC: asymmetric signatures only. */
export const ALLOWED_SIGNING_ALGS: readonly string[] = [
  'RS256',
  'RS384',
  'RS512',
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
];

/** The options `authentication.oidc` of `kubeletAuth` knows (its logger is the middleware's). */
export const OIDC_OPTION_NAMES = [
  'issuerURL',
  'clientID',
  'ca',
  'caFile',
  'usernameClaim',
  'usernamePrefix',
  'groupsClaim',
  'groupsPrefix',
  'signingAlgs',
  'requiredClaims',
  'clockSkew',
  'timeout',
  'maxTokenSize',
] as const;

/** Names people write for these options: kube-apiserver's and kube-rbac-proxy's flags, jose's. */
const ALIASES: Readonly<Record<string, string>> = {
  issuer: 'issuerURL',
  url: 'issuerURL',
  'oidc-issuer-url': 'issuerURL',
  'oidc-issuer': 'issuerURL',
  audience: 'clientID',
  audiences: 'clientID',
  'oidc-client-id': 'clientID',
  'oidc-clientID': 'clientID',
  'oidc-ca-file': 'caFile',
  'oidc-username-claim': 'usernameClaim',
  'oidc-username-prefix': 'usernamePrefix',
  'oidc-groups-claim': 'groupsClaim',
  'oidc-groups-prefix': 'groupsPrefix',
  'oidc-signing-algs': 'signingAlgs',
  'oidc-sign-alg': 'signingAlgs',
  algorithms: 'signingAlgs',
  'oidc-required-claim': 'requiredClaims',
  clockTolerance: 'clockSkew',
};

/**
 * Checks OIDC options and applies the defaults, throwing `ERR_INVALID_OPTION` that names the
 * option (under `where`, e.g. `authentication.oidc`) for anything wrong. Reads `caFile`.
 */
export function resolveOIDCOptions(
  options: OIDCOptions,
  where: string,
  known: readonly string[] = [...OIDC_OPTION_NAMES, 'logger', 'now'],
): ResolvedOIDCOptions {
  const name = (key: string): string => (where === '' ? key : `${where}.${key}`);
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidOption(
      `${where || 'OIDC options'}: expected an object { issuerURL, clientID, … }`,
    );
  }
  checkKnownKeys(where || 'OIDC options', options, known, { aliases: ALIASES });

  const issuerURL = issuer(options.issuerURL, name('issuerURL'));
  const clientID = text(options.clientID, name('clientID'));
  if (clientID === undefined) {
    throw invalidOption(`${name('clientID')}: required, the audience tokens must be issued for`);
  }
  const usernameClaim =
    text(options.usernameClaim, name('usernameClaim')) ?? OIDC_DEFAULTS.usernameClaim;
  const groupsClaim = text(options.groupsClaim, name('groupsClaim'));
  const groupsPrefix = prefix(options.groupsPrefix, name('groupsPrefix'));
  if (groupsPrefix !== '' && groupsClaim === undefined) {
    throw invalidOption(
      `${name('groupsPrefix')}: set groupsClaim too, or the prefix has nothing to go on`,
    );
  }
  return {
    issuerURL,
    // As kube-apiserver builds it: one trailing slash of the issuer dropped.
    discoveryURL: `${issuerURL.endsWith('/') ? issuerURL.slice(0, -1) : issuerURL}/.well-known/openid-configuration`,
    clientID,
    ca: certificateAuthority(options, name),
    usernameClaim,
    usernamePrefix: usernamePrefix(
      prefix(options.usernamePrefix, name('usernamePrefix')),
      usernameClaim,
      issuerURL,
    ),
    groupsClaim,
    groupsPrefix,
    signingAlgs: algorithms(options.signingAlgs, name('signingAlgs')),
    requiredClaims: claims(options.requiredClaims, name('requiredClaims')),
    clockSkewMs: toMilliseconds(options.clockSkew ?? OIDC_DEFAULTS.clockSkewMs, name('clockSkew')),
    timeoutMs: positive(
      toMilliseconds(options.timeout ?? OIDC_DEFAULTS.timeoutMs, name('timeout')),
      name('timeout'),
    ),
    maxTokenSize: size(options.maxTokenSize, name('maxTokenSize')),
    now: clock(options.now, name('now')),
  };
}

/**
 * kube-apiserver's rule: with no prefix given, every claim but `email` is prefixed with the
 * issuer and `#`, so that names from different issuers cannot collide; `-` means no prefix.
 */
function usernamePrefix(given: string, claim: string, issuerURL: string): string {
  if (given === '-') return '';
  if (given !== '') return given;
  return claim === 'email' ? '' : `${issuerURL}#`;
}

function issuer(value: unknown, option: string): string {
  if (value === undefined || value === '') {
    throw invalidOption(
      `${option}: required, the issuer's https:// URL as tokens name it in "iss"`,
    );
  }
  if (typeof value !== 'string') throw invalidOption(`${option}: expected a string URL`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidOption(`${option}: not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'https:') throw invalidOption(`${option}: must use the https scheme`);
  if (url.username !== '' || url.password !== '') {
    throw invalidOption(`${option}: must not contain a user name or password`);
  }
  if (value.includes('?')) throw invalidOption(`${option}: must not contain a query`);
  if (value.includes('#')) throw invalidOption(`${option}: must not contain a fragment`);
  return value;
}

function certificateAuthority(
  options: OIDCOptions,
  name: (key: string) => string,
): string | undefined {
  if (options.ca !== undefined && options.caFile !== undefined) {
    throw invalidOption(`${name('ca')}: give ca or caFile, not both`);
  }
  let pem: string;
  let option: string;
  if (options.caFile !== undefined) {
    option = name('caFile');
    if (typeof options.caFile !== 'string' || options.caFile === '') {
      throw invalidOption(`${option}: expected a file path`);
    }
    try {
      pem = readFileSync(options.caFile, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw invalidOption(`${option}: cannot read ${options.caFile} (${code})`);
    }
  } else if (options.ca !== undefined) {
    option = name('ca');
    if (typeof options.ca !== 'string') throw invalidOption(`${option}: expected PEM text`);
    pem = options.ca;
  } else {
    return undefined;
  }
  try {
    parseCertificateBundle(pem);
  } catch (error) {
    throw invalidOption(`${option}: ${(error as Error).message}`);
  }
  return pem;
}

function algorithms(value: unknown, option: string): string[] {
  if (value === undefined) return [...OIDC_DEFAULTS.signingAlgs];
  if (!Array.isArray(value) || value.length === 0) {
    throw invalidOption(`${option}: expected a non-empty list such as ['RS256']`);
  }
  for (const alg of value) {
    if (typeof alg !== 'string' || !ALLOWED_SIGNING_ALGS.includes(alg)) {
      throw invalidOption(
        `${option}: unsupported signing algorithm ${JSON.stringify(alg)}${typeof alg === 'string' ? didYouMean(alg, ALLOWED_SIGNING_ALGS) : ''} (allowed: ${ALLOWED_SIGNING_ALGS.join(', ')})`,
      );
    }
  }
  return [...new Set(value as string[])];
}

function claims(value: unknown, option: string): [string, string][] {
  if (value === undefined) return [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidOption(`${option}: expected an object of claim names and string values`);
  }
  const entries = Object.entries(value as Record<string, unknown>);
  for (const [claim, required] of entries) {
    if (claim === '' || typeof required !== 'string') {
      throw invalidOption(`${option}.${claim}: expected a string value`);
    }
  }
  return entries as [string, string][];
}

/** A non-empty string, or `undefined` for an option left out. */
function text(value: unknown, option: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') {
    throw invalidOption(`${option}: expected a non-empty string, got ${JSON.stringify(value)}`);
  }
  return value;
}

function prefix(value: unknown, option: string): string {
  if (value === undefined) return '';
  if (typeof value !== 'string') {
    throw invalidOption(`${option}: expected a string, got ${JSON.stringify(value)}`);
  }
  return value;
}

function positive(ms: number, option: string): number {
  if (ms <= 0) throw invalidOption(`${option}: must be more than zero`);
  return ms;
}

function size(value: unknown, option: string): number {
  if (value === undefined) return OIDC_DEFAULTS.maxTokenSize;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw invalidOption(
      `${option}: expected a whole number of characters ≥ 1, got ${String(value)}`,
    );
  }
  return value;
}

function clock(value: unknown, option: string): () => number {
  if (value === undefined) return Date.now;
  if (typeof value !== 'function')
    throw invalidOption(`${option}: expected a function returning ms`);
  return value as () => number;
}
