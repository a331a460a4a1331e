import { createHash, type X509Certificate } from 'node:crypto';
import { AuthenticatorStrategy } from './passport-strategy.js';
import { levelled, type Logger } from '../logger.js';
import { freezeUser, withAuthenticatedGroup, type KubeUser } from '../user.js';
import { CABundle } from './ca-bundle.js';
import { verifyClientChain } from './chain.js';
import { markCredentialsRejected } from './rejection.js';
import { parseSubject } from './subject.js';
import {
  ConnectionVerdicts,
  isPeerSocket,
  parseChain,
  refusalValidUntil,
  type PeerSocket,
} from './peer-certificate.js';
import type { AuthnOutcome, AuthRequest, RequestAuthenticator, Verified } from '../contracts.js';
import { NO_CREDENTIALS } from './request-authenticator.js';
import { cachedChainVerifier, type ChainVerifier } from '../cache/chain-cache.js';
import { SessionChains } from './session-chains.js';
import { connectionOf } from './connection.js';
import { checkCount, checkKnownKeys, invalidOption, optionNames } from '../option-errors.js';

/** The `extra` key the API server fills with a certificate's fingerprint. */
export const CREDENTIAL_ID_EXTRA = 'authentication.kubernetes.io/credential-id';

/** Options of {@link ClientCertStrategy}. One of `clientCAFile`, `clientCA`, `bundle` is required. */
export interface ClientCertStrategyOptions {
  /** PEM file of the client CAs; re-read when it changes (the kubelet's `clientCAFile`). */
  clientCAFile?: string;
  /** PEM text of the client CAs (not watched). */
  clientCA?: string | Buffer;
  /** A bundle already loaded (to share one watcher). */
  bundle?: CABundle;
  /** Where refused certificates are reported, at debug. Default: `stderrLogger` (warn and above). */
  logger?: Logger;
  /** The clock (for tests). Default: `Date.now`. */
  now?: () => number;
  /**
   * Most certificate chains whose verdict is kept across connections (a client that connects
   * again with the same certificate is not verified again), and most client certificates whose
   * intermediates are kept for resumed TLS sessions. Default: 10000.
   */
  cacheSize?: number;
}

const CLIENT_CERT_OPTIONS = optionNames<ClientCertStrategyOptions>({
  clientCAFile: true,
  clientCA: true,
  bundle: true,
  logger: true,
  now: true,
  cacheSize: true,
});

/** The outcome for one TLS connection's certificate. */
type Verdict =
  { kind: 'none' } | { kind: 'user'; user: KubeUser } | { kind: 'refused'; reason: string };

/**
 * A passport strategy, name `'kube-x509'`: the TLS client certificate, verified against the
 * client CA bundle by this strategy (not by the TLS layer, so it works with any
 * `https.createServer({ requestCert: true, rejectUnauthorized: false })`). User = subject CN,
 * groups = subject O values, plus `system:authenticated`. No certificate, or one without a CN:
 * the next strategy is tried. A certificate that fails verification: the request fails with
 * 401 unless a later strategy (a valid token) succeeds; it never becomes anonymous.
 * Each connection's certificate is verified once and re-checked when the bundle changes or the
 * chain expires; a verdict also serves later connections that send the same certificates. A
 * resumed TLS session, which shows the leaf alone, is verified with the intermediates the leaf
 * came with on its full handshake.
 *
 * @example passport.use(new ClientCertStrategy({ clientCAFile: '/etc/kubernetes/pki/ca.crt' }));
 */
export class ClientCertStrategy extends AuthenticatorStrategy<ClientCertAuthenticator> {
  constructor(options: ClientCertStrategyOptions) {
    super('kube-x509', new ClientCertAuthenticator(options));
  }
}

/** The client certificate authentication of {@link ClientCertStrategy}, without passport. */
export class ClientCertAuthenticator implements RequestAuthenticator {
  private readonly bundle: CABundle;
  private readonly logger: Required<Logger>;
  private readonly now: () => number;
  private readonly verdicts = new ConnectionVerdicts<Verdict>();
  /** The chain's verification, cached by the certificates sent and the bundle's version. */
  private readonly verifyChain: ChainVerifier<Verdict>;
  /** The intermediates of verified chains, for resumed TLS sessions (which show the leaf alone). */
  private readonly sessions: SessionChains;

  constructor(options: ClientCertStrategyOptions) {
    checkKnownKeys('ClientCertStrategy', options, CLIENT_CERT_OPTIONS);
    if (options.cacheSize !== undefined)
      checkCount(options.cacheSize, 'ClientCertStrategy: cacheSize', 'entries');
    if (options.bundle) this.bundle = options.bundle;
    else if (options.clientCAFile)
      this.bundle = CABundle.fromFile(options.clientCAFile, { logger: options.logger });
    else if (options.clientCA) this.bundle = CABundle.fromPEM(options.clientCA);
    else
      throw invalidOption(
        'ClientCertStrategy: one of clientCAFile, clientCA or bundle is required',
      );
    this.logger = levelled(options.logger);
    this.now = options.now ?? Date.now;
    const bundle = this.bundle;
    this.sessions = new SessionChains(
      options.cacheSize !== undefined ? { maxEntries: options.cacheSize } : {},
    );
    this.verifyChain = cachedChainVerifier((sent, now) => this.verify(sent, now), {
      version: () => bundle.version,
      now: this.now,
      ...(options.cacheSize !== undefined ? { maxEntries: options.cacheSize } : {}),
    });
  }

  /** Stops watching the CA file. */
  close(): void {
    this.bundle.close();
  }

  /** The certificate's outcome for this request; synchronous (verified once per connection). */
  authenticateRequest(req: AuthRequest): AuthnOutcome {
    const verdict = this.verdictFor(req);
    if (verdict.kind === 'refused') {
      markCredentialsRejected(req, verdict.reason);
      this.logger.debug(`client certificate refused: ${verdict.reason}`);
    }
    return verdict;
  }

  private verdictFor(req: AuthRequest): Verdict {
    const { socket } = req;
    if (!isPeerSocket(socket)) return NO_CREDENTIALS;
    const now = this.now();
    const connection = connectionOf(req) ?? socket;
    return this.verdicts.get(connection, socket, this.bundle.version, now, this.verifyConnection);
  }

  /** What the per-connection cache calls when it has no verdict it can use for a connection. */
  private readonly verifyConnection = (
    _previous: Verdict | undefined,
    socket: PeerSocket,
    now: number,
  ): Verified<Verdict> => {
    const sent = this.sessions.certificates(socket);
    const verified = this.verifyChain(sent, now);
    if (verified.value.kind === 'user') this.sessions.remember(socket, sent);
    return verified;
  };

  private verify(sent: readonly Buffer[], now: number): Verified<Verdict> {
    const chain = parseChain(sent);
    const leaf = chain[0];
    if (!leaf) return { value: NO_CREDENTIALS, validUntil: Infinity };
    const result = verifyClientChain(leaf, chain.slice(1), this.bundle.certificates, new Date(now));
    if (!result.ok) {
      return {
        value: {
          kind: 'refused',
          reason: `verifying certificate SN=${serialOf(leaf)} failed: x509: ${result.reason}`,
        },
        validUntil: refusalValidUntil(leaf, now),
      };
    }
    const validUntil = Math.min(...result.chain.map((c) => Date.parse(c.validTo)));
    return { value: identityOf(leaf), validUntil };
  }
}

/** CN, O values and the UID attribute, as the API server's `CommonNameUserConversion`. */
function identityOf(leaf: X509Certificate): Verdict {
  const subject = parseSubject(leaf);
  // Go exposes the last CN when a subject has several.
  const username = subject.commonNames.at(-1) ?? '';
  if (username === '') return NO_CREDENTIALS;
  const user: KubeUser = { username, groups: subject.organizations };
  const { uids } = subject;
  if (uids.length > 1)
    return { kind: 'refused', reason: 'expected at most one UID in the certificate subject' };
  if (uids.length === 1) {
    const uid = uids[0];
    if (typeof uid !== 'string')
      return { kind: 'refused', reason: 'the UID in the certificate subject is not a string' };
    if (uid === '')
      return { kind: 'refused', reason: 'the UID in the certificate subject is empty' };
    user.uid = uid;
  }
  user.extra = {
    [CREDENTIAL_ID_EXTRA]: [`X509SHA256=${createHash('sha256').update(leaf.raw).digest('hex')}`],
  };
  return { kind: 'user', user: freezeUser(withAuthenticatedGroup(user)) };
}

function serialOf(cert: X509Certificate): string {
  try {
    return BigInt(`0x${cert.serialNumber}`).toString(10);
  } catch {
    return cert.serialNumber;
  }
}
