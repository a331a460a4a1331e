import type { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';

const parsed = new WeakMap<X509Certificate, Certificate>();

/**
 * `cert` as @peculiar/asn1-x509 reads its DER (about 0.3 ms), once per certificate object: the
 * chain's constraints and the leaf's subject are read from the same parse. Throws when the DER
 * cannot be read as a certificate.
 */
export function parsedCertificate(cert: X509Certificate): Certificate {
  let certificate = parsed.get(cert);
  if (certificate === undefined) {
    certificate = AsnConvert.parse(cert.raw, Certificate);
    parsed.set(cert, certificate);
  }
  return certificate;
}
