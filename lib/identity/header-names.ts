import { FRONT_PROXY_HEADERS } from '../defaults.js';
import { checkKnownKeys, invalidOption } from '../option-errors.js';

/**
 * The headers an authenticating proxy writes and the server behind it reads (k8s.io/apiserver's
 * request-header authentication, client-go's `SetAuthProxyHeaders`). Names are matched without
 * regard to case.
 */
export interface IdentityHeaderNames {
  /** The user name. Default: `'X-Remote-User'`. */
  username?: string;
  /** The user's UID (sent only when the user has one). Default: `'X-Remote-Uid'`. */
  uid?: string;
  /** One header line per group. Default: `'X-Remote-Group'`. */
  group?: string;
  /**
   * Prefix of the `extra` headers: `<prefix><escaped key>: <value>`, one line per value.
   * Default: `'X-Remote-Extra-'`.
   */
  extraPrefix?: string;
}

/** The header names Kubernetes front proxies use (`--requestheader-*` as kubeadm sets them). */
export const DEFAULT_IDENTITY_HEADERS: Readonly<Required<IdentityHeaderNames>> =
  FRONT_PROXY_HEADERS;

/** RFC 7230 `token`: the bytes a header name may hold. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Whether `name` may be a header name (an RFC 7230 `token`). */
export function isHeaderName(name: string): boolean {
  return TOKEN.test(name);
}

/**
 * The header names to use: the defaults, with those given in their place. Throws `ERR_INVALID_OPTION`
 * naming `where` and the key for an unknown key or a value that is not a header name.
 */
export function resolveIdentityHeaderNames(
  names: IdentityHeaderNames | undefined,
  where: string,
): Required<IdentityHeaderNames> {
  if (names === undefined) return DEFAULT_IDENTITY_HEADERS;
  if (typeof names !== 'object' || names === null) {
    throw invalidOption(`${where}: expected an object of header names`);
  }
  const known = Object.keys(DEFAULT_IDENTITY_HEADERS);
  checkKnownKeys(where, names, known);
  const resolved = { ...DEFAULT_IDENTITY_HEADERS };
  for (const key of known as (keyof IdentityHeaderNames)[]) {
    const value = names[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || !isHeaderName(value)) {
      throw invalidOption(`${where}.${key}: not a header name: ${JSON.stringify(value)}`);
    }
    resolved[key] = value;
  }
  return resolved;
}
