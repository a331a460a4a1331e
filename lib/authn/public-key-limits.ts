import type { X509Certificate } from 'node:crypto';

/** Largest RSA modulus Go's TLS server accepts in the certificates a client sends. */
const MAX_RSA_BITS = 8192;
/** Smallest RSA modulus Go's `crypto/rsa` verifies with. */
const MIN_RSA_BITS = 1024;
/** Largest RSA public exponent Go's `crypto/rsa` verifies with. */
const MAX_RSA_EXPONENT = 2n ** 31n - 1n;
/** The curves Go's `crypto/x509` parses: P-224, P-256, P-384 and P-521, by OpenSSL's names. */
const CURVES: ReadonlySet<string> = new Set(['secp224r1', 'prime256v1', 'secp384r1', 'secp521r1']);

/**
 * Why Go would not take the public key of a certificate a client sent, or `undefined`.
 *
 * Checked before any signature is verified with a key the client chose. OpenSSL verifies with
 * RSA keys whose exponent is thousands of bits long, at several milliseconds a check; Go refuses
 * those, moduli over 8192 bits (the TLS server refuses the handshake) or under 1024, curves it
 * does not know, and key types it cannot verify with.
 */
export function publicKeyProblem(cert: X509Certificate): string | undefined {
  let key: X509Certificate['publicKey'];
  try {
    key = cert.publicKey;
  } catch {
    return 'unsupported public key algorithm';
  }
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa': {
      const bits = details.modulusLength ?? 0;
      if (bits > MAX_RSA_BITS) return `RSA key larger than ${MAX_RSA_BITS} bits`;
      if (bits < MIN_RSA_BITS) return `RSA key smaller than ${MIN_RSA_BITS} bits`;
      const exponent = details.publicExponent ?? 0n;
      if (exponent > MAX_RSA_EXPONENT) return 'RSA public exponent too large';
      return undefined;
    }
    case 'ec':
      return CURVES.has(details.namedCurve ?? '') ? undefined : 'unsupported elliptic curve';
    case 'ed25519':
      return undefined;
    default:
      return 'unsupported public key algorithm';
  }
}
