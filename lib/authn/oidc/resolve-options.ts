import { readFileSync } from 'node:fs';
import { OIDC_DEFAULTS } from '../../defaults.js';
import { toMilliseconds } from '../../duration.js';
import { checkCount, checkKnownKeys, didYouMean, invalidOption } from '../../option-errors.js';
import { parseCertificateBundle } from '../ca-bundle.js';
import {
  ALLOWED_SIGNING_ALGS,
  OIDC_OPTION_ALIASES,
  OIDC_OPTION_NAMES,
  type OIDCOptions,
  type ResolvedOIDCOptions,
} from './options.js';

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
  checkKnownKeys(where || 'OIDC options', options, known, { aliases: OIDC_OPTION_ALIASES });

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
  checkCount(value, option, 'characters');
  return value as number;
}

function clock(value: unknown, option: string): () => number {
  if (value === undefined) return Date.now;
  if (typeof value !== 'function')
    throw invalidOption(`${option}: expected a function returning ms`);
  return value as () => number;
}
