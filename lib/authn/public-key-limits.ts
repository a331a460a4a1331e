import type { KeyObject, X509Certificate } from 'node:crypto';

/** Largest RSA modulus Go's TLS server accepts in the certificates a client sends. */
const MAX_RSA_BITS = 8192;
/** Largest RSA public exponent Go's parser reads (it must fit an `int`). */
const MAX_PARSED_EXPONENT = 2n ** 63n - 1n;
/** Smallest RSA modulus Go's `crypto/rsa` verifies with. */
const MIN_RSA_BITS = 1024;
/** Largest RSA public exponent Go's `crypto/rsa` verifies with. */
const MAX_RSA_EXPONENT = 2n ** 31n - 1n;
/** The curves Go's `crypto/x509` parses: P-224, P-256, P-384 and P-521, by OpenSSL's names. */
const CURVES: ReadonlySet<string> = new Set(['secp224r1', 'prime256v1', 'secp384r1', 'secp521r1']);

/**
 * Why Go's TLS server would refuse a handshake that carries `cert` (anywhere in what the client
 * sent), or `undefined`: a key it cannot parse (a curve it does not know, an RSA exponent that
 * does not fit 64 bits) or an RSA modulus over 8192 bits.
 */
export function refusedKey(cert: X509Certificate): string | undefined {
  const key = publicKeyOf(cert);
  if (key === undefined) return 'malformed public key';
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
      if ((details.modulusLength ?? 0) > MAX_RSA_BITS) {
        return `RSA key larger than ${MAX_RSA_BITS} bits`;
      }
      return (details.publicExponent ?? 0n) > MAX_PARSED_EXPONENT
        ? 'invalid RSA public exponent'
        : undefined;
    case 'ec':
      return CURVES.has(details.namedCurve ?? '') ? undefined : 'unsupported elliptic curve';
    default:
      return undefined;
  }
}

/**
 * Why Go cannot check a signature with `cert`'s key, or `undefined`: an RSA key under 1024 bits,
 * with an exponent below 2, even or above 2^31 - 1, or an even modulus, or a key that is not
 * RSA, ECDSA or Ed25519. OpenSSL verifies with some of these: an exponent thousands of bits long
 * costs milliseconds a check, and with an exponent of 1 anyone can forge a signature.
 */
export function unusableKey(cert: X509Certificate): string | undefined {
  const key = publicKeyOf(cert);
  if (key === undefined) return 'malformed public key';
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return rsaProblem(key);
    case 'ec':
    case 'ed25519':
      return undefined;
    default:
      return 'unsupported public key algorithm';
  }
}

function rsaProblem(key: KeyObject): string | undefined {
  const { modulusLength = 0, publicExponent = 0n } = key.asymmetricKeyDetails ?? {};
  if (modulusLength < MIN_RSA_BITS) return `RSA key smaller than ${MIN_RSA_BITS} bits`;
  if (publicExponent < 2n || publicExponent % 2n === 0n) return 'invalid RSA public exponent';
  if (publicExponent > MAX_RSA_EXPONENT) return 'RSA public exponent too large';
  const modulus = Buffer.from(key.export({ format: 'jwk' }).n ?? '', 'base64url');
  return ((modulus.at(-1) ?? 0) & 1) === 0 ? 'RSA modulus is even' : undefined;
}

function publicKeyOf(cert: X509Certificate): KeyObject | undefined {
  try {
    return cert.publicKey;
  } catch {
    return undefined;
  }
}
