import type { Duration } from '../../duration.js';
import type { Logger } from '../../logger.js';

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
export const OIDC_OPTION_ALIASES: Readonly<Record<string, string>> = {
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
