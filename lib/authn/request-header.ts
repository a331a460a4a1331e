import { AuthenticatorStrategy } from './passport-strategy.js';
import {
  decodeExtraHeaderKey,
  inboundHeaderLines,
  isHeaderName,
  removeHeaders,
} from '../identity/identity-headers.js';
import { escapeControlCharacters } from '../control-characters.js';
import { levelled, type Logger } from '../logger.js';
import { freezeUser, withAuthenticatedGroup, type KubeUser } from '../user.js';
import { CABundle } from './ca-bundle.js';
import { verifyClientChain } from './chain.js';
import {
  ConnectionVerdicts,
  isPeerSocket,
  parseChain,
  refusalValidUntil,
  type PeerSocket,
} from './peer-certificate.js';
import { markCredentialsRejected } from './rejection.js';
import type { AuthnOutcome, AuthRequest, RequestAuthenticator, Verified } from '../contracts.js';
import { NO_CREDENTIALS } from './request-authenticator.js';
import { parseSubject } from './subject.js';
import { SessionChains } from './session-chains.js';
import { checkKnownKeys, invalidOption } from '../option-errors.js';

/**
 * Options of {@link RequestHeaderAuthenticator}, named after kube-apiserver's
 * `--requestheader-*` flags. One of `clientCAFile`, `clientCA`, `bundle` is required.
 */
export interface RequestHeaderAuthenticatorOptions {
  /**
   * PEM file of the CAs that sign front proxies' client certificates
   * (`--requestheader-client-ca-file`); re-read when it changes. Not the client CA: a
   * certificate this CA signs lets its holder assert any identity.
   */
  clientCAFile?: string;
  /** PEM text of those CAs (not watched). */
  clientCA?: string | Buffer;
  /** A bundle already loaded. */
  bundle?: CABundle;
  /**
   * Subject common names a front proxy's certificate may have (`--requestheader-allowed-names`).
   * Default: `[]`, any certificate the CA signed.
   */
  allowedNames?: readonly string[];
  /** Headers holding the user name, tried in order; the first non-empty one wins. Default: `['X-Remote-User']`. */
  usernameHeaders?: readonly string[];
  /** Headers holding the UID, tried in order. Default: `['X-Remote-Uid']`. */
  uidHeaders?: readonly string[];
  /** Headers holding groups; every non-empty value of each is a group. Default: `['X-Remote-Group']`. */
  groupHeaders?: readonly string[];
  /** Prefixes of the headers holding `extra` values. Default: `['X-Remote-Extra-']`. */
  extraHeaderPrefixes?: readonly string[];
  /**
   * Where identity headers sent with an untrusted certificate are reported (once per
   * connection). Default: standard error.
   */
  logger?: Logger;
  /** The clock, in ms since the epoch (for tests). Default: `Date.now`. */
  now?: () => number;
}

const OPTION_NAMES = [
  'clientCAFile',
  'clientCA',
  'bundle',
  'allowedNames',
  'usernameHeaders',
  'uidHeaders',
  'groupHeaders',
  'extraHeaderPrefixes',
  'logger',
  'now',
] as const;
/** Upstream's names for the same options, pointed at ours. */
const ALIASES: Record<string, string> = {
  allowedClientNames: 'allowedNames',
  requestheaderAllowedNames: 'allowedNames',
  requestheaderClientCAFile: 'clientCAFile',
  requestheaderUsernameHeaders: 'usernameHeaders',
  requestheaderUIDHeaders: 'uidHeaders',
  requestheaderGroupHeaders: 'groupHeaders',
  requestheaderExtraHeadersPrefix: 'extraHeaderPrefixes',
  extraHeadersPrefix: 'extraHeaderPrefixes',
};

/** What one connection's certificate says about the headers on its requests. */
type Trust = { kind: 'none' } | { kind: 'trusted' } | { kind: 'refused'; reason: string };

interface ConnectionTrust {
  trust: Trust;
  /** Identity headers sent with a refused certificate were reported for this connection. */
  reported: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Front-proxy ("request-header") authentication, as aggregated API servers and kube-apiserver
 * run it (k8s.io/apiserver `headerrequest` behind `x509request.Verifier`): a request whose TLS
 * client certificate chains to the request-header CA — and, when `allowedNames` is set, has one
 * of those CNs — is the user its `X-Remote-User`, `X-Remote-Uid`, `X-Remote-Group` and
 * `X-Remote-Extra-*` headers name, plus `system:authenticated`. Those headers are then removed
 * from the request. A passport strategy too, name `'kube-request-header'`. Outcomes, as upstream:
 * - no client certificate, or a trusted one without a user name header: `none` (try the next);
 * - a certificate that does not verify against this CA (a client-CA certificate included) or
 *   whose CN is not allowed: `refused` — the next authenticator may still succeed (a client
 *   certificate, a token), but the request never becomes anonymous; the headers are ignored.
 *   Without a user name header the request made no front-proxy attempt: the refusal then says
 *   `attempted: false`, and metrics do not count it as a front-proxy failure.
 *
 * The certificate is verified once per connection (again when the CA bundle changes or the chain
 * expires); headers are read on every request. Put it first, before `ClientCertStrategy`, as
 * the API server does: were the front-proxy CA also in the client CA bundle, the client
 * certificate strategy would otherwise authenticate the proxy itself.
 *
 * @example
 * passport.use(new RequestHeaderAuthenticator({
 *   clientCAFile: '/etc/kubernetes/pki/front-proxy-ca.crt',
 *   allowedNames: ['front-proxy-client'],
 * }));
 * app.use(passport.authenticate(['kube-request-header', 'kube-x509', 'kube-token'], { session: false }));
 */
export class RequestHeaderAuthenticator extends AuthenticatorStrategy<FrontProxyAuthenticator> {
  constructor(options: RequestHeaderAuthenticatorOptions) {
    super('kube-request-header', new FrontProxyAuthenticator(options));
  }
}

/** The front-proxy authentication of {@link RequestHeaderAuthenticator}, without passport. */
export class FrontProxyAuthenticator implements RequestAuthenticator {
  private readonly bundle: CABundle;
  private readonly allowedNames: readonly string[];
  private readonly usernameHeaders: readonly string[];
  private readonly uidHeaders: readonly string[];
  private readonly groupHeaders: readonly string[];
  private readonly extraHeaderPrefixes: readonly string[];
  private readonly logger: Required<Logger>;
  private readonly now: () => number;
  private readonly connections = new ConnectionVerdicts<ConnectionTrust>();
  /** The intermediates of verified chains, for resumed TLS sessions (which show the leaf alone). */
  private readonly sessions = new SessionChains();

  constructor(options: RequestHeaderAuthenticatorOptions) {
    if (typeof options !== 'object' || options === null) {
      throw invalidOption(
        'RequestHeaderAuthenticator: options are required ({ clientCAFile, allowedNames? })',
      );
    }
    checkOptionNames(options);
    this.usernameHeaders = headerList(options.usernameHeaders, 'usernameHeaders', [
      'X-Remote-User',
    ]);
    if (this.usernameHeaders.length === 0) {
      throw invalidOption('RequestHeaderAuthenticator: usernameHeaders: at least one is needed');
    }
    this.uidHeaders = headerList(options.uidHeaders, 'uidHeaders', ['X-Remote-Uid']);
    this.groupHeaders = headerList(options.groupHeaders, 'groupHeaders', ['X-Remote-Group']);
    this.extraHeaderPrefixes = headerList(options.extraHeaderPrefixes, 'extraHeaderPrefixes', [
      'X-Remote-Extra-',
    ]);
    this.allowedNames = nameList(options.allowedNames);
    if (options.now !== undefined && typeof options.now !== 'function') {
      throw invalidOption('RequestHeaderAuthenticator: now: expected a function');
    }
    this.logger = levelled(options.logger);
    this.now = options.now ?? Date.now;
    // Last: the only step that may start watching a file.
    if (options.bundle) this.bundle = options.bundle;
    else if (options.clientCAFile)
      this.bundle = CABundle.fromFile(options.clientCAFile, {
        option: 'RequestHeaderAuthenticator: clientCAFile',
        logger: this.logger,
      });
    else if (options.clientCA)
      this.bundle = CABundle.fromPEM(options.clientCA, 'RequestHeaderAuthenticator: clientCA');
    else
      throw invalidOption(
        'RequestHeaderAuthenticator: one of clientCAFile, clientCA or bundle is required (the front-proxy CA)',
      );
  }

  /** Stops watching the CA file. */
  close(): void {
    this.bundle.close();
  }

  /** The front proxy's assertion for this request; synchronous (verified once per connection). */
  authenticateRequest(req: AuthRequest): AuthnOutcome {
    const connection = this.trustFor(req.socket);
    const { trust } = connection;
    if (trust.kind === 'none') return NO_CREDENTIALS;
    const lines = inboundHeaderLines(req);
    if (trust.kind === 'refused') {
      // Refused either way, as upstream verifies the certificate before reading any header; but
      // only a request naming a user tried to be a front proxy's.
      markCredentialsRejected(req, trust.reason);
      if (firstValue(lines, this.usernameHeaders) === '') {
        return { kind: 'refused', reason: trust.reason, attempted: false };
      }
      if (!connection.reported) {
        connection.reported = true;
        this.logger.debug(
          `request-header identity ignored: the client certificate is not a front proxy's: ${trust.reason}`,
        );
      }
      return { kind: 'refused', reason: trust.reason };
    }
    const username = firstValue(lines, this.usernameHeaders);
    if (username === '') return NO_CREDENTIALS;
    const user: KubeUser = {
      username,
      groups: allValues(lines, this.groupHeaders),
    };
    const uid = firstValue(lines, this.uidHeaders);
    if (uid !== '') user.uid = uid;
    const extra = extraValues(lines, this.extraHeaderPrefixes);
    if (Object.keys(extra).length > 0) user.extra = extra;
    // Upstream's ClearAuthenticationHeaders: nothing after this reads the proxy's assertion.
    removeHeaders(
      req,
      [...this.usernameHeaders, ...this.uidHeaders, ...this.groupHeaders],
      this.extraHeaderPrefixes,
    );
    return { kind: 'user', user: freezeUser(withAuthenticatedGroup(user)) };
  }

  private trustFor(socket: unknown): ConnectionTrust {
    if (!isPeerSocket(socket)) return UNTRUSTED_NONE;
    const now = this.now();
    return this.connections.get(socket, this.bundle.version, now, (previous) => {
      const { value, validUntil } = this.verify(socket, now);
      return { value: { trust: value, reported: previous?.reported ?? false }, validUntil };
    });
  }

  /** `x509request.Verifier`: the chain against the request-header CA, then the CN. */
  private verify(socket: PeerSocket, now: number): Verified<Trust> {
    const der = this.sessions.certificates(socket);
    const sent = parseChain(der);
    const leaf = sent[0];
    if (!leaf) return { value: { kind: 'none' }, validUntil: Infinity };
    const result = verifyClientChain(leaf, sent.slice(1), this.bundle.certificates, new Date(now));
    if (!result.ok) {
      return {
        value: { kind: 'refused', reason: `x509: ${result.reason}` },
        validUntil: refusalValidUntil(leaf, now),
      };
    }
    this.sessions.remember(socket, der);
    const validUntil = Math.min(...result.chain.map((c) => Date.parse(c.validTo)));
    if (this.allowedNames.length > 0) {
      // Go's pkix.Name keeps the last CN of the subject.
      const commonName = parseSubject(leaf.raw).commonNames.at(-1) ?? '';
      if (!this.allowedNames.includes(commonName)) {
        return {
          value: {
            kind: 'refused',
            reason: `x509: subject with cn=${escapeControlCharacters(commonName)} is not in the allowed list`,
          },
          validUntil,
        };
      }
    }
    return { value: { kind: 'trusted' }, validUntil };
  }
}

/** The record of every request that came without a TLS socket (never cached, never changed). */
const UNTRUSTED_NONE: ConnectionTrust = Object.freeze({
  trust: Object.freeze({ kind: 'none' }),
  reported: true,
}) as ConnectionTrust;

/**
 * A header's text. Node reads header bytes one per character (latin1); Go keeps them as bytes,
 * which are UTF-8 from Go clients — so valid UTF-8 is decoded, anything else kept as it is.
 */
function headerText(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(value) || /[^\x00-\xff]/.test(value)) return value;
  try {
    return utf8.decode(Buffer.from(value, 'latin1'));
  } catch {
    return value;
  }
}

/** Go's `headerValue`: for each name in order, its first line; the first non-empty one wins. */
function firstValue(lines: readonly string[], names: readonly string[]): string {
  for (const name of names) {
    const lower = name.toLowerCase();
    for (let i = 0; i + 1 < lines.length; i += 2) {
      if ((lines[i] as string).toLowerCase() !== lower) continue;
      const value = lines[i + 1] as string;
      if (value !== '') return headerText(value);
      break;
    }
  }
  return '';
}

/** Go's `allHeaderValues`: every non-empty line of every name, names in order. */
function allValues(lines: readonly string[], names: readonly string[]): string[] {
  const values: string[] = [];
  for (const name of names) {
    const lower = name.toLowerCase();
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const value = lines[i + 1] as string;
      if ((lines[i] as string).toLowerCase() === lower && value !== '')
        values.push(headerText(value));
    }
  }
  return values;
}

/** Go's `newExtra`: key = the name after the prefix, lower-cased and unescaped; every value kept. */
function extraValues(
  lines: readonly string[],
  prefixes: readonly string[],
): Record<string, string[]> {
  const extra = new Map<string, string[]>();
  for (const prefix of prefixes) {
    const lower = prefix.toLowerCase();
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const name = lines[i] as string;
      if (!name.toLowerCase().startsWith(lower)) continue;
      const key = decodeExtraHeaderKey(name.slice(prefix.length));
      const values = extra.get(key) ?? [];
      values.push(headerText(lines[i + 1] as string));
      extra.set(key, values);
    }
  }
  // fromEntries defines own properties, so a `__proto__` key is just a key.
  return Object.fromEntries(extra);
}

function checkOptionNames(options: object): void {
  checkKnownKeys('RequestHeaderAuthenticator', options, OPTION_NAMES, { aliases: ALIASES });
}

/** Upstream's `trimHeaders`: names trimmed; an empty one is an error (so is a non-token here). */
function headerList(
  value: readonly string[] | undefined,
  option: string,
  fallback: readonly string[],
): readonly string[] {
  if (value === undefined) return fallback;
  if (!Array.isArray(value)) {
    throw invalidOption(`RequestHeaderAuthenticator: ${option}: expected an array of header names`);
  }
  return Object.freeze(
    value.map((name: unknown) => {
      const trimmed = typeof name === 'string' ? name.trim() : '';
      if (!isHeaderName(trimmed)) {
        throw invalidOption(
          `RequestHeaderAuthenticator: ${option}: not a header name: ${JSON.stringify(name)}`,
        );
      }
      return trimmed;
    }),
  );
}

function nameList(value: readonly string[] | undefined): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((n: unknown) => typeof n === 'string' && n !== '')) {
    throw invalidOption(
      'RequestHeaderAuthenticator: allowedNames: expected an array of non-empty common names (omit it to allow any)',
    );
  }
  return Object.freeze([...value]);
}
