import type { X509Certificate } from 'node:crypto';
import { channel } from 'node:diagnostics_channel';
import {
  constraintProblem,
  constraintsOf,
  type CertificateConstraints,
} from './certificate-constraints.js';
import { bySubject, ranked, sameEntity } from './issuer-candidates.js';
import { refusedKey, unusableKey } from './public-key-limits.js';

/** Extended key usage OIDs. */
export const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const EKU_ANY = '2.5.29.37.0';

/** Longest chain followed, leaf and root included (a client may send anything). */
const MAX_CHAIN_LENGTH = 10;

/**
 * Most candidate issuers weighed in one verification, as Go's chain builder caps its signature
 * checks: the certificates after the leaf are the client's to choose, and without a cap they can
 * be arranged so that the paths through them grow factorially.
 */
const MAX_CANDIDATES = 100;

const LIMIT_REACHED = 'signature check attempts limit reached while verifying certificate chain';

export type ChainResult = { ok: true; chain: X509Certificate[] } | { ok: false; reason: string };

/**
 * The `node:diagnostics_channel` on which each {@link verifyClientChain} call publishes the work
 * it did ({@link ChainWork}): the certificates are the client's to choose, so the work is worth
 * watching. Nothing is published while no one subscribes.
 */
export const CHAIN_WORK_CHANNEL = 'express-kubelet-auth:client-chain';

/** What one chain verification published on {@link CHAIN_WORK_CHANNEL}. */
export interface ChainWork {
  /** Signatures verified (each a public-key operation). */
  signatureChecks: number;
  /** Certificates the client sent (the leaf included) read from their DER for constraints. */
  certificatesRead: number;
  /** Whether a chain to a trusted root was found. */
  ok: boolean;
}

const chainWork = channel(CHAIN_WORK_CHANNEL);

/**
 * Verifies a client certificate as Go's `x509.Certificate.Verify` does for the kubelet: roots
 * are only the given bundle (no system roots), intermediates are what the client sent after the
 * leaf, every certificate must be valid at `now`, issuers must be CAs whose signature checks
 * (a trusted root may also be a version 1 certificate, as Go allows), every certificate that
 * carries an extended key usage must allow client authentication, none may carry a critical
 * extension Go does not handle, and no CA may have more intermediates below it than its path
 * length allows. Not checked (as in Go's defaults for this use): host names, revocation. Name
 * constraints and certificate policies are not checked either: a chain in which a CA with name
 * constraints stands above a certificate with alternative names, in which an intermediate
 * carries policy mappings, policy constraints or inhibitAnyPolicy, or whose leaf carries policy
 * constraints, is refused, where Go would check the names and policies.
 *
 * The work is bounded whatever the client sends, as Go bounds it: a chain with a key Go's TLS
 * server refuses (an RSA modulus over 8192 bits, a curve it does not parse) is refused before
 * any signature is checked, and so is a leaf whose key Go cannot verify with; a candidate issuer
 * whose key Go cannot verify with (an RSA exponent above 2^31 - 1, say) is passed over, so no
 * check costs more than Go's would; certificates sent twice count once, a chain never holds the
 * same subject and key twice, at most 100 candidate issuers are weighed (then the reason is that
 * the limit was reached), each issuer/child signature is checked at most once, and chains are at
 * most 10 long.
 *
 * @example
 * const result = verifyClientChain(leaf, sentAfterLeaf, bundle.certificates, new Date());
 * if (!result.ok) console.warn(`x509: ${result.reason}`);
 */
export function verifyClientChain(
  leaf: X509Certificate,
  intermediates: readonly X509Certificate[],
  roots: readonly X509Certificate[],
  now: Date,
): ChainResult {
  const problem = problemWith(leaf, now) ?? sentKeyProblem(leaf, intermediates);
  const search = new ChainSearch(leaf, intermediates, roots, now);
  const result: ChainResult = problem === undefined ? search.run() : { ok: false, reason: problem };
  if (chainWork.hasSubscribers) {
    const work: ChainWork = {
      signatureChecks: search.signatureChecks,
      certificatesRead: search.certificatesRead.size,
      ok: result.ok,
    };
    chainWork.publish(work);
  }
  return result;
}

/**
 * One verification's depth-first search from the leaf to a root, as Go's `buildChains`: the
 * candidates for a certificate's issuer are those whose subject is its issuer name (trusted roots
 * first, each kind ranked by key identifier), then the cheap checks (CA, key usage), then the
 * signature.
 */
class ChainSearch {
  /** Signatures verified so far. */
  signatureChecks = 0;
  /** The client's certificates read from their DER so far. */
  readonly certificatesRead = new Set<X509Certificate>();
  /** Candidate issuers weighed so far (a remembered signature verdict included). */
  private weighed = 0;
  private reason = 'certificate signed by unknown authority';
  private readonly roots: Map<string, X509Certificate[]>;
  /** The bundle's roots: ours, not the client's. */
  private readonly trusted: ReadonlySet<X509Certificate>;
  private readonly intermediates: Map<string, X509Certificate[]>;
  /** Signature verdicts: parent → child → whether the parent's key signed the child. */
  private readonly signed = new Map<X509Certificate, Map<X509Certificate, boolean>>();
  /** Whether Go could check a signature with each candidate's key (see {@link unusableKey}). */
  private readonly usable = new Map<X509Certificate, boolean>();

  constructor(
    private readonly leaf: X509Certificate,
    intermediates: readonly X509Certificate[],
    roots: readonly X509Certificate[],
    private readonly now: Date,
  ) {
    this.roots = bySubject(roots, []);
    this.trusted = new Set(roots);
    this.intermediates = bySubject(intermediates, [leaf]);
  }

  run(): ChainResult {
    const chain = this.extend([this.leaf]);
    return chain ? { ok: true, chain } : { ok: false, reason: this.reason };
  }

  private get exhausted(): boolean {
    return this.weighed > MAX_CANDIDATES;
  }

  /** A chain to a root that starts with `chain`, or `undefined`. */
  private extend(chain: X509Certificate[]): X509Certificate[] | undefined {
    const current = chain[chain.length - 1] as X509Certificate;
    for (const root of ranked(this.roots.get(current.issuer), current)) {
      if (!this.issues(root, current, true)) {
        if (this.exhausted) return undefined;
        continue;
      }
      const complete = [...chain, root];
      const problem = problemWith(root, this.now) ?? this.constraintProblem(complete);
      if (problem === undefined) return complete;
      this.reason = problem;
    }
    if (chain.length + 1 >= MAX_CHAIN_LENGTH) return undefined;
    for (const candidate of ranked(this.intermediates.get(current.issuer), current)) {
      if (chain.some((cert) => sameEntity(cert, candidate))) continue;
      if (!this.issues(candidate, current, false)) {
        if (this.exhausted) return undefined;
        continue;
      }
      const problem = problemWith(candidate, this.now);
      if (problem !== undefined) {
        this.reason = problem;
        continue;
      }
      const found = this.extend([...chain, candidate]);
      if (found || this.exhausted) return found;
    }
    return undefined;
  }

  /**
   * Go's rule for a certificate that signs: a version 3 one must be a CA by its basic
   * constraints (Node's `ca`, which also wants the key usage to allow signing certificates, as
   * Go does); one from before version 3 has no extensions, and Go lets it sign as a trusted root
   * only.
   */
  private mayIssue(parent: X509Certificate, root: boolean): boolean {
    if (parent.ca) return true;
    // Only a trusted root is read here: what a client sends is read once a chain is complete.
    if (!root) return false;
    const version = this.constraints(parent)?.version;
    return version !== undefined && version < 3;
  }

  /** Whether Go could check a signature with `parent`'s key, remembered for the search. */
  private canVerify(parent: X509Certificate): boolean {
    let usable = this.usable.get(parent);
    if (usable === undefined) {
      usable = unusableKey(parent) === undefined;
      this.usable.set(parent, usable);
    }
    return usable;
  }

  /** {@link constraintProblem} of a complete chain, reading through {@link constraints}. */
  private constraintProblem(chain: readonly X509Certificate[]): string | undefined {
    return constraintProblem(chain.map(this.constraints));
  }

  /** What `cert` says of its chains; each of the client's certificates read is counted. */
  private readonly constraints = (cert: X509Certificate): CertificateConstraints | undefined => {
    if (!this.trusted.has(cert)) this.certificatesRead.add(cert);
    return constraintsOf(cert);
  };

  /**
   * `parent` is a CA (or, as a trusted `root`, a certificate from before version 3) that issued
   * and signed `child`. Only a candidate that passes the checks without a public-key operation
   * is weighed against the cap; its signature is checked once.
   */
  private issues(parent: X509Certificate, child: X509Certificate, root: boolean): boolean {
    if (!this.mayIssue(parent, root) || !this.canVerify(parent)) return false;
    if (++this.weighed > MAX_CANDIDATES) {
      this.reason = LIMIT_REACHED;
      return false;
    }
    let verdicts = this.signed.get(parent);
    if (verdicts === undefined) {
      verdicts = new Map();
      this.signed.set(parent, verdicts);
    }
    let verdict = verdicts.get(child);
    if (verdict === undefined) {
      this.signatureChecks++;
      verdict = child.verify(parent.publicKey);
      verdicts.set(child, verdict);
    }
    return verdict;
  }
}

/**
 * Why Go's TLS server would refuse the certificates the client sent, or `undefined`: it parses
 * them all (and refuses large RSA keys) before it verifies the chain, and the leaf's key must be
 * one it verifies the handshake's signature with.
 */
function sentKeyProblem(
  leaf: X509Certificate,
  intermediates: readonly X509Certificate[],
): string | undefined {
  for (const cert of [leaf, ...intermediates]) {
    const problem = refusedKey(cert);
    if (problem !== undefined) return problem;
  }
  return unusableKey(leaf);
}

/** Why `cert` cannot stand in a client chain at `now`, or `undefined`. */
function problemWith(cert: X509Certificate, now: Date): string | undefined {
  const notBefore = Date.parse(cert.validFrom);
  const notAfter = Date.parse(cert.validTo);
  const t = now.getTime();
  if (!(t >= notBefore)) return 'certificate is not yet valid';
  if (!(t <= notAfter)) return 'certificate has expired';
  // Node names the extended key usages `keyUsage`; undefined when the extension is absent,
  // which Go treats as "any usage".
  const usages = cert.keyUsage as string[] | undefined;
  if (
    usages &&
    usages.length > 0 &&
    !usages.includes(EKU_CLIENT_AUTH) &&
    !usages.includes(EKU_ANY)
  ) {
    return 'certificate specifies an incompatible key usage';
  }
  return undefined;
}
