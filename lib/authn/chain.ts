import type { X509Certificate } from 'node:crypto';

/** Extended key usage OIDs. */
export const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const EKU_ANY = '2.5.29.37.0';

/** Longest chain followed, leaf and root included (a client may send anything). */
const MAX_CHAIN_LENGTH = 10;

export type ChainResult = { ok: true; chain: X509Certificate[] } | { ok: false; reason: string };

/**
 * Verifies a client certificate as Go's `x509.Certificate.Verify` does for the kubelet: roots
 * are only the given bundle (no system roots), intermediates are what the client sent after the
 * leaf, every certificate must be valid at `now`, issuers must be CAs whose signature checks, and
 * every certificate that carries an extended key usage must allow client authentication.
 * Not checked (as in Go's defaults for this use): host names, revocation. Path-length and name
 * constraints are not checked either (Node does not expose them).
 */
export function verifyClientChain(
  leaf: X509Certificate,
  intermediates: readonly X509Certificate[],
  roots: readonly X509Certificate[],
  now: Date,
): ChainResult {
  const leafProblem = problemWith(leaf, now);
  if (leafProblem) return { ok: false, reason: leafProblem };
  let lastReason = 'certificate signed by unknown authority';
  const search = (chain: X509Certificate[]): X509Certificate[] | undefined => {
    const current = chain[chain.length - 1] as X509Certificate;
    for (const root of roots) {
      if (!issues(root, current)) continue;
      const problem = problemWith(root, now);
      if (problem) {
        lastReason = problem;
        continue;
      }
      return [...chain, root];
    }
    if (chain.length + 1 >= MAX_CHAIN_LENGTH) return undefined;
    for (const candidate of intermediates) {
      if (chain.includes(candidate) || !issues(candidate, current)) continue;
      const problem = problemWith(candidate, now);
      if (problem) {
        lastReason = problem;
        continue;
      }
      const found = search([...chain, candidate]);
      if (found) return found;
    }
    return undefined;
  };
  const chain = search([leaf]);
  return chain ? { ok: true, chain } : { ok: false, reason: lastReason };
}

/** `parent` is a CA that issued and signed `child` (name, key identifiers, key usage, signature). */
function issues(parent: X509Certificate, child: X509Certificate): boolean {
  return parent.ca && child.checkIssued(parent) && child.verify(parent.publicKey);
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
