import type { X509Certificate } from 'node:crypto';
import { parsedCertificate } from './parsed-certificate.js';

const OID_COMMON_NAME = '2.5.4.3';
const OID_ORGANIZATION = '2.5.4.10';
/** Subject attribute that carries a user's UID (feature gate AllowParsingUserUIDFromCertAuth). */
export const OID_USER_UID = '1.3.6.1.4.1.57683.2';

/** The subject fields a Kubernetes client certificate identity is made of. */
export interface CertificateSubject {
  /** Every CN with a string value, in order (Go uses the last). */
  commonNames: string[];
  /** Every O with a string value, in order. */
  organizations: string[];
  /** Every UID attribute; `null` for one whose value is not a string. */
  uids: (string | null)[];
}

/**
 * Reads the subject of a certificate as Go's `pkix.Name.FillFromRDNSequence` does: only string
 * values count for CN and O. From {@link parsedCertificate}'s parse, which the chain's
 * constraints already made for a verified leaf.
 */
export function parseSubject(cert: X509Certificate): CertificateSubject {
  const certificate = parsedCertificate(cert);
  const subject: CertificateSubject = { commonNames: [], organizations: [], uids: [] };
  for (const rdn of certificate.tbsCertificate.subject) {
    for (const attribute of rdn) {
      const value = attribute.value;
      const isString = value.anyValue === undefined;
      switch (attribute.type) {
        case OID_COMMON_NAME:
          if (isString) subject.commonNames.push(value.toString());
          break;
        case OID_ORGANIZATION:
          if (isString) subject.organizations.push(value.toString());
          break;
        case OID_USER_UID:
          subject.uids.push(isString ? value.toString() : null);
          break;
      }
    }
  }
  return subject;
}
