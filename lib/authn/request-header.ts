import { AuthenticatorStrategy } from './passport-strategy.js';
import { inboundHeaderLines, removeHeaders } from '../identity/identity-headers.js';
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
} from './peer-certificate.js';
import { cachedChainVerifier, type ChainVerifier } from '../cache/chain-cache.js';
import { connectionOf } from './connection.js';
import { markCredentialsRejected } from './rejection.js';
import type { AuthnOutcome, AuthRequest, RequestAuthenticator, Verified } from '../contracts.js';
import { NO_CREDENTIALS } from './request-authenticator.js';
import { parseSubject } from './subject.js';
import { SessionChains } from './session-chains.js';
import { invalidOption } from '../option-errors.js';
import { allValues, extraValues, firstValue } from './header-values.js';
import type { RequestHeaderSettingsSource } from './request-header-settings.js';
import { checkOptions, type RequestHeaderAuthenticatorOptions } from './request-header-options.js';

export type { RequestHeaderAuthenticatorOptions };

/** What one connection's certificate says about the headers on its requests. */
type Trust = { kind: 'none' } | { kind: 'trusted' } | { kind: 'refused'; reason: string };

/** A certificate chain's trust, and whether the chain verified (the CN aside). */
interface ChainTrust {
  trust: Trust;
  verified: boolean;
}

interface ConnectionTrust {
  trust: Trust;
  /** Identity headers sent with a refused certificate were reported for this connection. */
  reported: boolean;
}

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
 * The certificate is verified once per connection (again when the CA bundle or the settings
 * change, or the chain expires), and a verdict also serves later connections that send the same
 * certificates; headers are read on every request. Put it first, before `ClientCertStrategy`, as
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
  private readonly settings: RequestHeaderSettingsSource;
  private readonly logger: Required<Logger>;
  private readonly now: () => number;
  private readonly connections = new ConnectionVerdicts<ConnectionTrust>();
  /** The chain's verification, cached by the certificates sent and the trust version. */
  private readonly verifyChain: ChainVerifier<ChainTrust>;
  /** The intermediates of verified chains, for resumed TLS sessions (which show the leaf alone). */
  private readonly sessions: SessionChains;
  /** The bundle and settings versions a connection's trust was last worked out with. */
  private seen = { bundle: 0, settings: 0, trust: 0 };

  constructor(options: RequestHeaderAuthenticatorOptions) {
    this.settings = checkOptions(options);
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
    const size = options.cacheSize !== undefined ? { maxEntries: options.cacheSize } : {};
    this.sessions = new SessionChains(size);
    this.verifyChain = cachedChainVerifier((sent, now) => this.verify(sent, now), {
      version: () => this.trustVersion(),
      now: this.now,
      ...size,
    });
  }

  /** Stops watching the CA file. */
  close(): void {
    this.bundle.close();
  }

  /** The front proxy's assertion for this request; synchronous (verified once per connection). */
  authenticateRequest(req: AuthRequest): AuthnOutcome {
    // One snapshot of the header names for the whole request (the allowed names are read with
    // the certificate, under the settings' version).
    const settings = this.settings.current;
    const connection = this.trustFor(req);
    const { trust } = connection;
    if (trust.kind === 'none') return NO_CREDENTIALS;
    const lines = inboundHeaderLines(req);
    if (trust.kind === 'refused') {
      // Refused either way, as upstream verifies the certificate before reading any header; but
      // only a request naming a user tried to be a front proxy's.
      markCredentialsRejected(req, trust.reason);
      if (firstValue(lines, settings.usernameHeaders) === '') {
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
    const username = firstValue(lines, settings.usernameHeaders);
    if (username === '') return NO_CREDENTIALS;
    const user: KubeUser = {
      username,
      groups: allValues(lines, settings.groupHeaders),
    };
    const uid = firstValue(lines, settings.uidHeaders);
    if (uid !== '') user.uid = uid;
    const extra = extraValues(lines, settings.extraHeaderPrefixes);
    if (Object.keys(extra).length > 0) user.extra = extra;
    // Upstream's ClearAuthenticationHeaders: nothing after this reads the proxy's assertion.
    removeHeaders(
      req,
      [...settings.usernameHeaders, ...settings.uidHeaders, ...settings.groupHeaders],
      settings.extraHeaderPrefixes,
    );
    return { kind: 'user', user: freezeUser(withAuthenticatedGroup(user)) };
  }

  private trustFor(req: AuthRequest): ConnectionTrust {
    const { socket } = req;
    if (!isPeerSocket(socket)) return UNTRUSTED_NONE;
    const now = this.now();
    const connection = connectionOf(req) ?? socket;
    return this.connections.get(connection, socket, this.trustVersion(), now, (previous) => {
      const sent = this.sessions.certificates(socket);
      const { value, validUntil } = this.verifyChain(sent, now);
      if (value.verified) this.sessions.remember(socket, sent);
      return { value: { trust: value.trust, reported: previous?.reported ?? false }, validUntil };
    });
  }

  /**
   * Changes whenever the CA bundle or the settings do (the allowed names decide trust too), so
   * that every connection's certificate is verified again under the new ones.
   */
  private trustVersion(): number {
    const { seen } = this;
    const bundle = this.bundle.version;
    const settings = this.settings.version;
    if (bundle !== seen.bundle || settings !== seen.settings) {
      this.seen = { bundle, settings, trust: seen.trust + 1 };
    }
    return this.seen.trust;
  }

  /**
   * `x509request.Verifier`: the chain against the request-header CA, then the CN against the
   * allowed names in force (their version is part of the cache's key).
   */
  private verify(der: readonly Buffer[], now: number): Verified<ChainTrust> {
    const sent = parseChain(der);
    const leaf = sent[0];
    if (!leaf) return { value: { trust: { kind: 'none' }, verified: false }, validUntil: Infinity };
    const result = verifyClientChain(leaf, sent.slice(1), this.bundle.certificates, new Date(now));
    if (!result.ok) {
      return {
        value: { trust: { kind: 'refused', reason: `x509: ${result.reason}` }, verified: false },
        validUntil: refusalValidUntil(leaf, now),
      };
    }
    const validUntil = Math.min(...result.chain.map((c) => Date.parse(c.validTo)));
    const { allowedNames } = this.settings.current;
    if (allowedNames.length > 0) {
      // Go's pkix.Name keeps the last CN of the subject.
      const commonName = parseSubject(leaf).commonNames.at(-1) ?? '';
      if (!allowedNames.includes(commonName)) {
        const reason = `x509: subject with cn=${escapeControlCharacters(commonName)} is not in the allowed list`;
        return { value: { trust: { kind: 'refused', reason }, verified: true }, validUntil };
      }
    }
    return { value: { trust: { kind: 'trusted' }, verified: true }, validUntil };
  }
}

/** The record of every request that came without a TLS socket (never cached, never changed). */
const UNTRUSTED_NONE: ConnectionTrust = Object.freeze({
  trust: Object.freeze({ kind: 'none' }),
  reported: true,
}) as ConnectionTrust;
