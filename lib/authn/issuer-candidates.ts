import type { X509Certificate } from 'node:crypto';

/**
 * Certificates by subject, each DER once and none of `excluded`, in the order given. Go matches
 * the issuer's bytes exactly; the printed subject is as strict (letter case included).
 */
export function bySubject(
  certs: readonly X509Certificate[],
  excluded: readonly X509Certificate[],
): Map<string, X509Certificate[]> {
  const seen = new Set(excluded.map((cert) => cert.fingerprint256));
  const index = new Map<string, X509Certificate[]>();
  for (const cert of certs) {
    const fingerprint = cert.fingerprint256;
    if (seen.has(fingerprint)) continue;
    seen.add(fingerprint);
    const named = index.get(cert.subject);
    if (named) named.push(cert);
    else index.set(cert.subject, [cert]);
  }
  return index;
}

/**
 * The candidates named as `child`'s issuer, near Go's order: first those OpenSSL's
 * `checkIssued` accepts (the key identifiers match, or one is missing), then the rest, whose
 * identifiers differ (or which fail another of its checks). OpenSSL refuses the last kind; Go
 * only tries them last, so a trusted root re-issued with the same key and a new identifier keeps
 * vouching for what it signed before. (Go also puts matching identifiers before a missing one.)
 * Node hands over only the intermediates OpenSSL links by `checkIssued`, so one re-issued that
 * way never reaches this search.
 */
export function ranked(
  candidates: readonly X509Certificate[] | undefined,
  child: X509Certificate,
): readonly X509Certificate[] {
  if (candidates === undefined) return [];
  const matching: X509Certificate[] = [];
  const differing: X509Certificate[] = [];
  for (const candidate of candidates) {
    (child.checkIssued(candidate) ? matching : differing).push(candidate);
  }
  return differing.length === 0 ? candidates : [...matching, ...differing];
}

/**
 * Go's `alreadyInChain`: the same subject, public key and alternative names are one certificate
 * to a chain, so re-issued or cross-signed copies of a CA cannot make a loop.
 */
export function sameEntity(a: X509Certificate, b: X509Certificate): boolean {
  return (
    a === b ||
    (a.subject === b.subject &&
      a.subjectAltName === b.subjectAltName &&
      a.publicKey.equals(b.publicKey))
  );
}
