import type { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  BasicConstraints,
  NameConstraints,
  SubjectAlternativeName,
  Version,
  type GeneralName,
} from '@peculiar/asn1-x509';
import { parsedCertificate } from './parsed-certificate.js';

/**
 * What a certificate says about the chains it may stand in, as Go's `crypto/x509` reads it, for
 * what Node's `X509Certificate` does not expose: the version, the path length, name constraints,
 * policy extensions and critical extensions Go would not understand.
 */
export interface CertificateConstraints {
  /** 1, 2 or 3. Go lets a certificate before version 3 (no extensions) sign as a trusted root. */
  version: number;
  /** The basic constraints' path length: how many intermediates may follow below; none: any. */
  maxPathLength: number | undefined;
  /** Carries a name constraints extension. */
  nameConstraints: boolean;
  /** Carries a subject alternative name extension, whose names a CA's name constraints bound. */
  alternativeNames: boolean;
  /** Carries policy constraints, with which Go validates the chain's certificate policies. */
  policyConstraints: boolean;
  /** Carries policy mappings or inhibitAnyPolicy, which Go reads on intermediates. */
  policyMappings: boolean;
  /** Carries a critical extension Go does not handle: Go refuses it in any chain. */
  unhandledCritical: boolean;
}

/** Extensions under `2.5.29` that Go's parser handles (key usage, basic constraints, …). */
const HANDLED_CE = new Set(
  [14, 15, 17, 19, 30, 31, 32, 33, 35, 36, 37, 54].map((n) => `2.5.29.${n}`),
);
const AUTHORITY_INFO_ACCESS = '1.3.6.1.5.5.7.1.1';
const SUBJECT_ALT_NAME = '2.5.29.17';
const NAME_CONSTRAINTS = '2.5.29.30';
const BASIC_CONSTRAINTS = '2.5.29.19';
const POLICY_CONSTRAINTS = '2.5.29.36';
const POLICY_MAPPINGS = new Set(['2.5.29.33', '2.5.29.54']);
/** Extensions Go refuses to parse when marked critical: key identifiers, authority info access. */
const NEVER_CRITICAL = new Set(['2.5.29.14', '2.5.29.35', AUTHORITY_INFO_ACCESS]);

const parsed = new WeakMap<X509Certificate, CertificateConstraints | undefined>();

/**
 * The constraints of `cert`, read from its DER once; `undefined` when the DER cannot be read as
 * a certificate, or when Go would refuse to parse it (an extension twice, a key identifier or
 * authority info access marked critical): such a certificate stands in no chain.
 */
export function constraintsOf(cert: X509Certificate): CertificateConstraints | undefined {
  if (parsed.has(cert)) return parsed.get(cert);
  let constraints: CertificateConstraints | undefined;
  try {
    constraints = read(cert);
  } catch {
    constraints = undefined;
  }
  parsed.set(cert, constraints);
  return constraints;
}

function read(cert: X509Certificate): CertificateConstraints {
  const tbs = parsedCertificate(cert).tbsCertificate;
  const constraints: CertificateConstraints = {
    version: tbs.version === Version.v3 ? 3 : tbs.version === Version.v2 ? 2 : 1,
    maxPathLength: undefined,
    nameConstraints: false,
    alternativeNames: false,
    policyConstraints: false,
    policyMappings: false,
    unhandledCritical: false,
  };
  const seen = new Set<string>();
  for (const extension of tbs.extensions ?? []) {
    const id = extension.extnID;
    if (seen.has(id)) throw new Error(`extension ${id} twice`);
    seen.add(id);
    if (extension.critical && NEVER_CRITICAL.has(id)) throw new Error(`${id} marked critical`);
    if (id === POLICY_CONSTRAINTS) constraints.policyConstraints = true;
    if (POLICY_MAPPINGS.has(id)) constraints.policyMappings = true;
    const value = extension.extnValue.buffer;
    let handled = HANDLED_CE.has(id) || id === AUTHORITY_INFO_ACCESS;
    if (id === BASIC_CONSTRAINTS) {
      constraints.maxPathLength = AsnConvert.parse(value, BasicConstraints).pathLenConstraint;
    } else if (id === SUBJECT_ALT_NAME) {
      constraints.alternativeNames = true;
      // Go handles the extension only when it finds a name of a kind it checks.
      handled = AsnConvert.parse(value, SubjectAlternativeName).some(isCheckedKind);
    } else if (id === NAME_CONSTRAINTS) {
      constraints.nameConstraints = true;
      const { permittedSubtrees, excludedSubtrees } = AsnConvert.parse(value, NameConstraints);
      // A constraint on a kind of name Go does not check leaves the extension unhandled.
      handled = [...(permittedSubtrees ?? []), ...(excludedSubtrees ?? [])].every((subtree) =>
        isCheckedKind(subtree.base),
      );
    }
    if (extension.critical && !handled) constraints.unhandledCritical = true;
  }
  return constraints;
}

/** A DNS name, an email address, an IP address or a URI: the names Go's name constraints check. */
function isCheckedKind(name: GeneralName): boolean {
  return (
    name.dNSName !== undefined ||
    name.rfc822Name !== undefined ||
    name.iPAddress !== undefined ||
    name.uniformResourceIdentifier !== undefined
  );
}

/**
 * Why a chain from the leaf to a trusted root breaks what its certificates say of the chains
 * they may stand in, or `undefined`. Read from each certificate's DER, which costs more than
 * the other checks together, and so only once a chain reaches a trusted root: the certificates
 * of a client no root vouches for are never read.
 */
export function constraintProblem(
  read: readonly (CertificateConstraints | undefined)[],
): string | undefined {
  for (const [i, constraints] of read.entries()) {
    if (constraints === undefined) return 'malformed certificate';
    if (constraints.unhandledCritical) return 'unhandled critical extension';
    // Below the leaf: a CA, with `i - 1` intermediates between it and the leaf.
    if (i > 0 && constraints.maxPathLength !== undefined && i - 1 > constraints.maxPathLength) {
      return 'too many intermediates for path length constraint';
    }
    if (constraints.nameConstraints && read.slice(0, i).some((c) => c?.alternativeNames)) {
      return 'a CA with name constraints stands above alternative names, which are not checked';
    }
    // Go validates policies with what the leaf and the intermediates carry, never the root's,
    // and reads mappings and inhibitAnyPolicy on intermediates only.
    const intermediate = i > 0 && i < read.length - 1;
    if (
      i < read.length - 1 &&
      (constraints.policyConstraints || (intermediate && constraints.policyMappings))
    ) {
      return 'policy mappings, policy constraints or inhibitAnyPolicy, which are not checked';
    }
  }
  return undefined;
}
