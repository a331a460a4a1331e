/**
 * Real X.509 material for tests, minted at run time: certificate authorities (root and
 * intermediate), client certificates shaped the way Kubernetes reads a user out of them, and
 * serving certificates. Everything is ECDSA P-256 / SHA-256 so minting stays fast enough to do
 * per test, and everything is accepted by Node's `tls` and `crypto.X509Certificate`.
 */
import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import type * as X509 from '@peculiar/x509';
import { KubeletAuthError } from '../errors.js';

type X509Module = typeof X509;
let loaded: Promise<X509Module> | undefined;

// Loaded on first use rather than imported statically: @peculiar/x509 (through tsyringe) throws
// at load time unless the Reflect metadata API is installed first, and a static import of a
// CommonJS package may be evaluated before this module's own code runs (Jest links CommonJS
// eagerly). reflect-metadata is that API; it only adds to the global Reflect object.
function loadX509(): Promise<X509Module> {
  loaded ??= (async () => {
    try {
      await import('reflect-metadata');
      const x509 = await import('@peculiar/x509');
      // Node's own WebCrypto is complete; the library needs to be told to use it.
      x509.cryptoProvider.set(webcrypto);
      return x509;
    } catch (error) {
      loaded = undefined;
      throw missingPeer(error) ?? error;
    }
  })();
  return loaded;
}

/**
 * The testkit's certificate minting needs two optional peer dependencies that the middleware
 * does not (so they do not weigh on every install): a clear error when they are missing.
 */
function missingPeer(error: unknown): KubeletAuthError | undefined {
  // ESM's import() and CommonJS's require() name a missing package differently.
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return undefined;
  return new KubeletAuthError(
    'ERR_MISSING_PEER',
    'express-kubelet-auth/testing mints certificates with @peculiar/x509 and reflect-metadata, optional peer dependencies that are not installed: run `npm install --save-dev @peculiar/x509 reflect-metadata`',
    { cause: error },
  );
}

/** The OID kube-apiserver reads a user's UID from (a Subject attribute, UTF8String). */
export const UID_OID = '1.3.6.1.4.1.57683.2';

const KEY_ALGORITHM: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING_ALGORITHM: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
const HOUR_MS = 60 * 60 * 1000;
const YEAR_MS = 365 * 24 * HOUR_MS;

/** A certificate authority that can sign further certificates. */
export interface CertificateAuthority {
  /** The CA certificate, PEM. */
  cert: string;
  /** The CA private key, PKCS#8 PEM. */
  key: string;
  /** The CA's Subject CN. */
  commonName: string;
  /** The key pair the CA signs with (WebCrypto handles). */
  keys: webcrypto.CryptoKeyPair;
}

/** Options of {@link createCA}. */
export interface CreateCAOptions {
  /** Subject CN; default `'express-kubelet-auth test CA'`. */
  commonName?: string;
  /** Subject O attributes, one per entry, in order. */
  organization?: string[];
  /** When given, the new CA is an intermediate signed by this one; otherwise it is a root. */
  issuer?: CertificateAuthority;
  /** Default: one hour ago (tolerates small clock skew between processes). */
  notBefore?: Date;
  /** Default: one year from now. */
  notAfter?: Date;
  /**
   * The key pair the new CA certifies, e.g. another CA's `keys` to re-issue it (rotation, cross
   * signing). Default: a new P-256 pair.
   */
  keys?: webcrypto.CryptoKeyPair;
  /**
   * Whether the CA carries subject and authority key identifiers. Default: `true`. Without
   * them, path builders can link certificates by name only.
   */
  keyIdentifiers?: boolean;
}

/** Options of {@link mintClientCert}. */
export interface ClientCertOptions {
  /** The CA that signs the certificate. */
  ca: CertificateAuthority;
  /** Subject CN, which Kubernetes takes as the user name; `''` leaves the CN out entirely. */
  user: string;
  /** One Subject O attribute per group, in order (Kubernetes' groups). */
  groups?: string[];
  /** Subject attribute {@link UID_OID}, which Kubernetes takes as the user's UID. */
  uid?: string;
  notBefore?: Date;
  notAfter?: Date;
  /** Default `'clientAuth'`; `'none'` omits the EKU extension; an array lists raw OIDs. */
  extendedKeyUsage?: 'clientAuth' | 'serverAuth' | 'none' | string[];
  /** Intermediate CAs appended after the leaf in {@link IssuedCertificate.chain}. */
  chain?: CertificateAuthority[];
}

/** A minted leaf certificate and its key. */
export interface IssuedCertificate {
  /** The leaf certificate, PEM. */
  cert: string;
  /** The leaf's private key, PKCS#8 PEM. */
  key: string;
  /** The leaf followed by the intermediates asked for, PEM, leaf first. */
  chain: string;
}

/** Options of {@link mintServingCert}. */
export interface ServingCertOptions {
  /** The signing CA; absent means a self-signed certificate. */
  ca?: CertificateAuthority;
  /** DNS names and IP addresses, all put in the subjectAltName extension. */
  hosts: string[];
  /** Subject CN; default: the first host. */
  commonName?: string;
  notBefore?: Date;
  notAfter?: Date;
}

/** Creates a root CA, or an intermediate CA when `options.issuer` is given. */
export async function createCA(options: CreateCAOptions = {}): Promise<CertificateAuthority> {
  const x509 = await loadX509();
  const commonName = options.commonName ?? 'express-kubelet-auth test CA';
  const keys = options.keys ?? (await generateKeys());
  const subject = buildName(x509, commonName, options.organization ?? []);
  const { notBefore, notAfter } = validity(options);
  const extensions: X509.Extension[] = [
    new x509.BasicConstraintsExtension(true, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
  ];
  const { issuer } = options;
  if (options.keyIdentifiers !== false) {
    const ski = await x509.SubjectKeyIdentifierExtension.create(keys.publicKey);
    // A root's AKI names its own key, as OpenSSL and Go both do for self-signed CAs.
    extensions.push(
      ski,
      issuer
        ? await authorityKeyIdentifier(x509, issuer)
        : new x509.AuthorityKeyIdentifierExtension(ski.keyId),
    );
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject,
    issuer: issuer ? new x509.X509Certificate(issuer.cert).subjectName : subject,
    publicKey: keys.publicKey,
    signingKey: issuer ? issuer.keys.privateKey : keys.privateKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    notBefore,
    notAfter,
    extensions,
  });
  return { cert: cert.toString('pem') + '\n', key: await exportKey(x509, keys), commonName, keys };
}

/**
 * Mints a client certificate the way Kubernetes reads identities from one: CN = user name,
 * one O per group, and the UID in attribute {@link UID_OID}.
 */
export async function mintClientCert(options: ClientCertOptions): Promise<IssuedCertificate> {
  const x509 = await loadX509();
  const attributes = nameAttributes(options.user, options.groups ?? []);
  if (options.uid !== undefined) {
    attributes.push({ [UID_OID]: [{ utf8String: options.uid }] });
  }
  const extensions: X509.Extension[] = [];
  const eku = options.extendedKeyUsage ?? 'clientAuth';
  if (eku !== 'none') {
    const usages =
      eku === 'clientAuth'
        ? [x509.ExtendedKeyUsage.clientAuth]
        : eku === 'serverAuth'
          ? [x509.ExtendedKeyUsage.serverAuth]
          : eku;
    extensions.push(new x509.ExtendedKeyUsageExtension(usages));
  }
  return issueLeaf({
    ca: options.ca,
    subject: new x509.Name(attributes),
    extensions,
    notBefore: options.notBefore,
    notAfter: options.notAfter,
    chain: options.chain ?? [],
  });
}

/** Mints a serving certificate for the given DNS names / IP addresses (self-signed without `ca`). */
export async function mintServingCert(options: ServingCertOptions): Promise<IssuedCertificate> {
  if (options.hosts.length === 0 && options.commonName === undefined) {
    throw new TypeError('mintServingCert: give at least one host or a commonName');
  }
  const x509 = await loadX509();
  const commonName = options.commonName ?? options.hosts[0] ?? '';
  const names: X509.JsonGeneralName[] = options.hosts.map((host) => ({
    type: isIP(host) === 0 ? 'dns' : 'ip',
    value: host,
  }));
  const extensions: X509.Extension[] = [
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
  ];
  if (names.length > 0) {
    extensions.push(new x509.SubjectAlternativeNameExtension(names));
  }
  return issueLeaf({
    ca: options.ca,
    subject: buildName(x509, commonName, []),
    extensions,
    notBefore: options.notBefore,
    notAfter: options.notAfter,
    chain: [],
  });
}

interface LeafParams {
  ca: CertificateAuthority | undefined;
  subject: X509.Name;
  extensions: X509.Extension[];
  notBefore: Date | undefined;
  notAfter: Date | undefined;
  chain: CertificateAuthority[];
}

async function issueLeaf(params: LeafParams): Promise<IssuedCertificate> {
  const x509 = await loadX509();
  const keys = await generateKeys();
  const { notBefore, notAfter } = validity(params);
  const { ca } = params;
  const extensions: X509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    ...params.extensions,
  ];
  if (ca) {
    extensions.push(await authorityKeyIdentifier(x509, ca));
  } else {
    // A self-signed leaf is its own issuer: SKI and AKI both name its key.
    const ski = await x509.SubjectKeyIdentifierExtension.create(keys.publicKey);
    extensions.push(ski, new x509.AuthorityKeyIdentifierExtension(ski.keyId));
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: params.subject,
    issuer: ca ? new x509.X509Certificate(ca.cert).subjectName : params.subject,
    publicKey: keys.publicKey,
    signingKey: ca ? ca.keys.privateKey : keys.privateKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    notBefore,
    notAfter,
    extensions,
  });
  const leafPem = cert.toString('pem');
  const chain = [leafPem, ...params.chain.map((c) => c.cert.trim())].join('\n') + '\n';
  return { cert: leafPem + '\n', key: await exportKey(x509, keys), chain };
}

async function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  // Extractable, because the private key is handed out as PKCS#8 PEM.
  return (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
}

async function exportKey(x509: X509Module, keys: webcrypto.CryptoKeyPair): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return x509.PemConverter.encode(der, 'PRIVATE KEY') + '\n';
}

// The AKI must repeat the issuer's SKI byte for byte so that path builders can link the two.
async function authorityKeyIdentifier(
  x509: X509Module,
  issuer: CertificateAuthority,
): Promise<X509.AuthorityKeyIdentifierExtension> {
  const issuerCert = new x509.X509Certificate(issuer.cert);
  const ski = issuerCert.getExtension(x509.SubjectKeyIdentifierExtension);
  if (ski) {
    return new x509.AuthorityKeyIdentifierExtension(ski.keyId);
  }
  return x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey);
}

type NameAttribute = Record<string, { utf8String: string }[]>;

// One attribute per RDN, so attribute order is exactly the order the caller gave. UTF8String
// always, so names with characters outside PrintableString (':' in 'system:nodes') are kept as is.
function nameAttributes(commonName: string, organizations: string[]): NameAttribute[] {
  const attributes: NameAttribute[] = [];
  for (const o of organizations) {
    attributes.push({ O: [{ utf8String: o }] });
  }
  if (commonName !== '') {
    attributes.push({ CN: [{ utf8String: commonName }] });
  }
  return attributes;
}

function buildName(x509: X509Module, commonName: string, organizations: string[]): X509.Name {
  return new x509.Name(nameAttributes(commonName, organizations));
}

function validity(options: { notBefore?: Date | undefined; notAfter?: Date | undefined }): {
  notBefore: Date;
  notAfter: Date;
} {
  const now = Date.now();
  return {
    notBefore: options.notBefore ?? new Date(now - HOUR_MS),
    notAfter: options.notAfter ?? new Date(now + YEAR_MS),
  };
}

// 16 random bytes with the top bit cleared (a positive INTEGER without a padding byte) and a
// non-zero first byte (so DER keeps all 16 bytes).
function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f || 0x01;
  return Buffer.from(bytes).toString('hex');
}
