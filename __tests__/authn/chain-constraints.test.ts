/**
 * What a certificate says about the chains it may stand in, kept as Go's `x509.Verify` keeps it
 * for the kubelet: path lengths, critical extensions Go does not handle, version 1 roots, and
 * name constraints (refused rather than checked). Certificates minted here, at test time.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createPublicKey,
  generateKeyPairSync,
  sign,
  webcrypto,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  Certificate,
  GeneralName,
  GeneralSubtree,
  GeneralSubtrees,
  NameConstraints,
  SubjectPublicKeyInfo,
  Version,
  type TBSCertificate,
} from '@peculiar/asn1-x509';
import type * as X509 from '@peculiar/x509';
import { CHAIN_WORK_CHANNEL, verifyClientChain, type ChainWork } from '../../lib/authn/chain.js';
import { kubeletAuth, kubeUser } from '../../lib/index.js';
import type { IssuedCertificate } from '../../lib/testing/index.js';
import { call, close, listen, makePki, type Pki } from '../integration/harness.js';

let x509: typeof X509;

beforeAll(async () => {
  await import('reflect-metadata');
  x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto);
});

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const HOUR = 3_600_000;

interface Minted {
  pem: string;
  name: string;
  keys: webcrypto.CryptoKeyPair;
  /** Its subject key identifier, which what it signs names as their authority key identifier. */
  keyId: string;
}

interface MintOptions {
  name: string;
  /** Signs it; absent: self-signed. */
  issuer?: Minted;
  /** A CA (basic constraints cA, key usage keyCertSign), with this path length if given. */
  ca?: { pathLength?: number };
  /** DNS names in a subjectAltName extension. */
  dnsNames?: string[];
  /** More extensions, as they are. */
  extensions?: X509.Extension[];
  /** Leaves out the subject and authority key identifiers. */
  noKeyIdentifiers?: boolean;
  /** Its key pair; absent: a new one. */
  keys?: webcrypto.CryptoKeyPair;
  /** Its subject key identifier (hex); absent: derived from its key. */
  keyId?: string;
}

async function mint(options: MintOptions): Promise<Minted> {
  const keys =
    options.keys ??
    ((await webcrypto.subtle.generateKey(ALGORITHM, true, [
      'sign',
      'verify',
    ])) as webcrypto.CryptoKeyPair);
  const keyId =
    options.keyId ?? (await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)).keyId;
  const extensions: X509.Extension[] = [
    ...(options.noKeyIdentifiers
      ? []
      : [
          new x509.SubjectKeyIdentifierExtension(keyId),
          new x509.AuthorityKeyIdentifierExtension(options.issuer?.keyId ?? keyId),
        ]),
    ...(options.ca
      ? [
          new x509.BasicConstraintsExtension(true, options.ca.pathLength, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
        ]
      : [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
        ]),
    ...(options.dnsNames
      ? [
          new x509.SubjectAlternativeNameExtension(
            options.dnsNames.map((value) => ({ type: 'dns' as const, value })),
          ),
        ]
      : []),
    ...(options.extensions ?? []),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '01' + Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex'),
    subject: `CN=${options.name}`,
    issuer: `CN=${options.issuer?.name ?? options.name}`,
    publicKey: keys.publicKey,
    signingKey: (options.issuer?.keys ?? keys).privateKey,
    signingAlgorithm: { ...(options.issuer?.keys ?? keys).privateKey.algorithm, hash: 'SHA-256' },
    notBefore: new Date(Date.now() - HOUR),
    notAfter: new Date(Date.now() + HOUR),
    extensions,
  });
  return { pem: cert.toString('pem'), name: options.name, keys, keyId };
}

/** `cert` changed by `edit` and signed again by `signer` (an ECDSA key pair). */
async function resigned(
  cert: Minted,
  signer: Minted,
  edit: (tbs: TBSCertificate) => void,
): Promise<Minted> {
  const parsed = AsnConvert.parse(new X509Certificate(cert.pem).raw, Certificate);
  edit(parsed.tbsCertificate);
  const tbs = Buffer.from(AsnConvert.serialize(parsed.tbsCertificate));
  const key = await webcrypto.subtle.exportKey('pkcs8', signer.keys.privateKey);
  const signature = sign('sha256', tbs, { key: Buffer.from(key), format: 'der', type: 'pkcs8' });
  parsed.signatureValue = new Uint8Array(signature).buffer;
  const der = Buffer.from(AsnConvert.serialize(parsed));
  return { ...cert, pem: new X509Certificate(der).toString() };
}

/** A version 1 certificate (no extensions at all), as old OpenSSL recipes make; self-signed without `issuer`. */
async function mintVersion1(name: string, issuer?: Minted): Promise<Minted> {
  const v3 = await mint({ name, ...(issuer ? { issuer } : {}) });
  return resigned(v3, issuer ?? v3, (tbs) => {
    tbs.version = Version.v1;
    delete tbs.extensions;
  });
}

/** `cert` carrying `key` as its public key (no one holds the private half), signed by `signer`. */
function withPublicKey(cert: Minted, key: KeyObject, signer: Minted): Promise<Minted> {
  const spki = key.export({ type: 'spki', format: 'der' });
  return resigned(cert, signer, (tbs) => {
    tbs.subjectPublicKeyInfo = AsnConvert.parse(spki, SubjectPublicKeyInfo);
  });
}

/** An RSA public key with the modulus given in bits (all ones: not a product of primes). */
function rsaModulus(bits: number): KeyObject {
  const n = Buffer.alloc(Math.ceil(bits / 8), 0xff);
  n[0] = 0xff >> (n.length * 8 - bits);
  return createPublicKey({
    key: { kty: 'RSA', n: n.toString('base64url'), e: 'AQAB' },
    format: 'jwk',
  });
}

/** An RSA key pair of 2048 bits whose public exponent is 2^32 - 1, which Go does not verify with. */
async function bigExponentKeys(): Promise<webcrypto.CryptoKeyPair> {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0xffffffff });
  const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  return {
    privateKey: await webcrypto.subtle.importKey(
      'pkcs8',
      pair.privateKey.export({ type: 'pkcs8', format: 'der' }),
      algorithm,
      true,
      ['sign'],
    ),
    publicKey: await webcrypto.subtle.importKey(
      'spki',
      pair.publicKey.export({ type: 'spki', format: 'der' }),
      algorithm,
      true,
      ['verify'],
    ),
  };
}

function verify(chain: Minted[], roots: Minted[]) {
  const [leaf, ...rest] = chain.map((c) => new X509Certificate(c.pem));
  return verifyClientChain(
    leaf as X509Certificate,
    rest,
    roots.map((r) => new X509Certificate(r.pem)),
    new Date(),
  );
}

const refused = (reason: string) => ({ ok: false, reason });

/** What one verification of `chain` published on the chain-work channel. */
function workOf(chain: Minted[], roots: Minted[]): ChainWork | undefined {
  let work: ChainWork | undefined;
  const onWork = (message: unknown): void => {
    work = message as ChainWork;
  };
  subscribe(CHAIN_WORK_CHANNEL, onWork);
  try {
    verify(chain, roots);
  } finally {
    unsubscribe(CHAIN_WORK_CHANNEL, onWork);
  }
  return work;
}

describe('what a client sends is read only once a chain reaches a trusted root', () => {
  it('certificates named like each other, none trusted: none is read', async () => {
    const root = await mint({ name: 'root', ca: {} });
    const stranger = await mint({ name: 'evil', ca: {} });
    const leaf = await mint({ name: 'mallory', issuer: stranger });
    // Not CAs, named as the leaf's issuer: candidates a reading before any check would parse.
    const decoys = await Promise.all(Array.from({ length: 14 }, () => mint({ name: 'evil' })));
    expect(workOf([leaf, ...decoys, stranger], [root])?.certificatesRead).toBe(0);
  });

  it('a chain to a trusted root: the leaf and its intermediate, once each', async () => {
    const root = await mint({ name: 'root', ca: {} });
    const intermediate = await mint({ name: 'intermediate', issuer: root, ca: {} });
    const leaf = await mint({ name: 'alice', issuer: intermediate });
    expect(workOf([leaf, intermediate], [root])?.certificatesRead).toBe(2);
  });
});

describe('path length constraints', () => {
  it('a root that allows no intermediate: a leaf it signed passes, one under an intermediate does not', async () => {
    const root = await mint({ name: 'root', ca: { pathLength: 0 } });
    const intermediate = await mint({ name: 'intermediate', issuer: root, ca: {} });
    const direct = await mint({ name: 'direct', issuer: root });
    const below = await mint({ name: 'below', issuer: intermediate });
    expect(verify([direct], [root]).ok).toBe(true);
    expect(verify([below, intermediate], [root])).toEqual(
      refused('too many intermediates for path length constraint'),
    );
  });

  it('a root that allows one intermediate: one passes, two do not', async () => {
    const root = await mint({ name: 'root', ca: { pathLength: 1 } });
    const upper = await mint({ name: 'upper', issuer: root, ca: {} });
    const lower = await mint({ name: 'lower', issuer: upper, ca: {} });
    const viaOne = await mint({ name: 'one', issuer: upper });
    const viaTwo = await mint({ name: 'two', issuer: lower });
    expect(verify([viaOne, upper], [root]).ok).toBe(true);
    expect(verify([viaTwo, lower, upper], [root])).toEqual(
      refused('too many intermediates for path length constraint'),
    );
  });

  it('an intermediate that allows none below it: a CA it signed cannot sign a leaf', async () => {
    const root = await mint({ name: 'root', ca: {} });
    const upper = await mint({ name: 'upper', issuer: root, ca: { pathLength: 0 } });
    const lower = await mint({ name: 'lower', issuer: upper, ca: {} });
    const leaf = await mint({ name: 'leaf', issuer: lower });
    expect(verify([leaf, lower, upper], [root])).toEqual(
      refused('too many intermediates for path length constraint'),
    );
    expect(verify([await mint({ name: 'ok', issuer: upper }), upper], [root]).ok).toBe(true);
  });
});

describe('critical extensions Go does not handle', () => {
  const unknown = (critical: boolean) =>
    new x509.Extension('1.3.6.1.4.1.99999.1', critical, new Uint8Array([0x05, 0x00]));

  it('on the leaf: refused when critical, ignored when not', async () => {
    const root = await mint({ name: 'root', ca: {} });
    const critical = await mint({ name: 'c', issuer: root, extensions: [unknown(true)] });
    const plain = await mint({ name: 'p', issuer: root, extensions: [unknown(false)] });
    expect(verify([critical], [root])).toEqual(refused('unhandled critical extension'));
    expect(verify([plain], [root]).ok).toBe(true);
  });

  it('on an intermediate or a root: refused', async () => {
    const root = await mint({ name: 'root', ca: {} });
    const intermediate = await mint({
      name: 'intermediate',
      issuer: root,
      ca: {},
      extensions: [unknown(true)],
    });
    const leaf = await mint({ name: 'leaf', issuer: intermediate });
    expect(verify([leaf, intermediate], [root])).toEqual(refused('unhandled critical extension'));
    const markedRoot = await mint({ name: 'marked', ca: {}, extensions: [unknown(true)] });
    expect(verify([await mint({ name: 'l', issuer: markedRoot })], [markedRoot])).toEqual(
      refused('unhandled critical extension'),
    );
  });

  it('a critical subjectAltName with names Go reads is handled', async () => {
    const root = await mint({ name: 'root', ca: {} });
    const san = new x509.SubjectAlternativeNameExtension(
      [{ type: 'dns', value: 'a.example' }],
      true,
    );
    expect(verify([await mint({ name: 'l', issuer: root, extensions: [san] })], [root]).ok).toBe(
      true,
    );
  });
});

describe('what Go refuses to parse, or validates and this package does not', () => {
  it('a key identifier marked critical, or an extension twice: malformed', async () => {
    const root = await mint({ name: 'root', ca: {} });
    const keys = await mint({ name: 'any' });
    const keyId = (await x509.SubjectKeyIdentifierExtension.create(keys.keys.publicKey)).keyId;
    const criticalKeyId = await mint({
      name: 'alice',
      issuer: root,
      noKeyIdentifiers: true,
      extensions: [new x509.SubjectKeyIdentifierExtension(keyId, true)],
    });
    const unknown = () => new x509.Extension('1.3.6.1.4.1.99999.2', false, new Uint8Array([5, 0]));
    const twice = await mint({ name: 'bob', issuer: root, extensions: [unknown(), unknown()] });
    expect(verify([criticalKeyId], [root])).toEqual(refused('malformed certificate'));
    expect(verify([twice], [root])).toEqual(refused('malformed certificate'));
  });

  it('policy constraints on an intermediate: refused, not validated', async () => {
    const root = await mint({ name: 'root', ca: {} });
    // requireExplicitPolicy 0: SEQUENCE { [0] 0 }.
    const requireExplicit = new x509.Extension(
      '2.5.29.36',
      true,
      new Uint8Array([0x30, 3, 0x80, 1, 0]),
    );
    const intermediate = await mint({
      name: 'intermediate',
      issuer: root,
      ca: {},
      extensions: [requireExplicit],
    });
    const leaf = await mint({ name: 'alice', issuer: intermediate });
    expect(verify([leaf, intermediate], [root])).toEqual(
      refused('policy mappings, policy constraints or inhibitAnyPolicy, which are not checked'),
    );
  });

  it('on a trusted root Go does not read them; on the leaf it reads policy constraints only', async () => {
    // inhibitAnyPolicy 0: INTEGER 0.
    const inhibitAny = () => new x509.Extension('2.5.29.54', true, new Uint8Array([2, 1, 0]));
    const requireExplicit = () =>
      new x509.Extension('2.5.29.36', true, new Uint8Array([0x30, 3, 0x80, 1, 0]));
    const root = await mint({
      name: 'root',
      ca: {},
      extensions: [inhibitAny(), requireExplicit()],
    });
    expect(verify([await mint({ name: 'alice', issuer: root })], [root]).ok).toBe(true);
    const mapped = await mint({ name: 'bob', issuer: root, extensions: [inhibitAny()] });
    expect(verify([mapped], [root]).ok).toBe(true);
    const constrained = await mint({
      name: 'carol',
      issuer: root,
      extensions: [requireExplicit()],
    });
    expect(verify([constrained], [root])).toEqual(
      refused('policy mappings, policy constraints or inhibitAnyPolicy, which are not checked'),
    );
  });
});

describe('key identifiers: Go ranks candidate issuers by them, and refuses none for them', () => {
  /** A new certificate for `ca`'s name and key, with another subject key identifier. */
  const reissue = (ca: Minted, issuer?: Minted) =>
    mint({
      name: ca.name,
      ca: {},
      keys: ca.keys,
      keyId: 'ab'.repeat(20),
      ...(issuer ? { issuer } : {}),
    });

  it('a root re-issued with the same key and a new identifier still vouches for its clients', async () => {
    const original = await mint({ name: 'root', ca: {} });
    const leaf = await mint({ name: 'alice', issuer: original });
    const reissued = await reissue(original);
    // What OpenSSL's own check says of the pair.
    expect(new X509Certificate(leaf.pem).checkIssued(new X509Certificate(reissued.pem))).toBe(
      false,
    );
    const result = verify([leaf], [reissued]);
    expect(result.ok && result.chain.map((c) => c.subject)).toEqual(['CN=alice', 'CN=root']);
  });

  it('so does an intermediate given to verifyClientChain (over TLS, Node does not hand it over)', async () => {
    const root = await mint({ name: 'root', ca: {} });
    const original = await mint({ name: 'intermediate', issuer: root, ca: {} });
    const leaf = await mint({ name: 'alice', issuer: original });
    expect(verify([leaf, await reissue(original, root)], [root]).ok).toBe(true);
  });

  it('a candidate whose identifier matches is weighed before one whose identifier differs', async () => {
    const root = await mint({ name: 'root', ca: {} });
    const namesake = await mint({ name: 'root', ca: {} });
    const leaf = await mint({ name: 'alice', issuer: root });
    // The namesake is listed first, and its signature is never checked.
    expect(workOf([leaf], [namesake, root])).toEqual({
      signatureChecks: 1,
      certificatesRead: 1,
      ok: true,
    });
    // Signed by neither: both are tried.
    const stranger = await mint({ name: 'root', ca: {} });
    const mallory = await mint({ name: 'mallory', issuer: stranger });
    expect(workOf([mallory], [namesake, root])).toEqual({
      signatureChecks: 2,
      certificatesRead: 0,
      ok: false,
    });
  });
});

/** An RSA public key of 2048 bits (all ones, or ending in a 0 bit: `even`) with exponent `e`. */
function rsaExponent(e: number | bigint, even = false): KeyObject {
  const hex = e.toString(16);
  const exponent = Buffer.from(hex.padStart(hex.length + (hex.length % 2), '0'), 'hex');
  const n = Buffer.alloc(256, 0xff);
  if (even) n[255] = 0xfe;
  return createPublicKey({
    key: {
      kty: 'RSA',
      n: n.toString('base64url'),
      e: exponent.toString('base64url'),
    },
    format: 'jwk',
  });
}

describe("keys Go's TLS server refuses: the chain refused before any signature is checked", () => {
  it.each<[string, () => KeyObject, string]>([
    ['an RSA modulus over 8192 bits', () => rsaModulus(8200), 'RSA key larger than 8192 bits'],
    [
      'an RSA exponent past 64 bits',
      () => rsaExponent(2n ** 63n + 1n),
      'invalid RSA public exponent',
    ],
    [
      'a curve Go does not parse',
      () => generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey,
      'unsupported elliptic curve',
    ],
  ])('%s, on any certificate sent, on the path or not', async (_name, key, reason) => {
    const root = await mint({ name: 'root', ca: {} });
    const leaf = await mint({ name: 'alice', issuer: root });
    const extra = await withPublicKey(await mint({ name: 'x', issuer: root, ca: {} }), key(), root);
    expect(workOf([leaf, extra], [root])).toEqual({
      signatureChecks: 0,
      certificatesRead: 0,
      ok: false,
    });
    expect(verify([leaf, extra], [root])).toEqual(refused(reason));
    expect(verify([await withPublicKey(leaf, key(), root)], [root])).toEqual(refused(reason));
  });
});

describe('keys Go cannot verify with: never used to check a signature', () => {
  it.each<[string, () => KeyObject, string]>([
    [
      'an RSA exponent above 2^31 - 1',
      () =>
        generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0xffffffff }).publicKey,
      'RSA public exponent too large',
    ],
    ['an RSA exponent of 1', () => rsaExponent(1), 'invalid RSA public exponent'],
    ['an even RSA exponent', () => rsaExponent(4), 'invalid RSA public exponent'],
    ['an even RSA modulus', () => rsaExponent(65537, true), 'RSA modulus is even'],
    [
      'an RSA modulus under 1024 bits',
      () => generateKeyPairSync('rsa', { modulusLength: 512 }).publicKey,
      'RSA key smaller than 1024 bits',
    ],
    [
      'a key type Go cannot verify with',
      () => generateKeyPairSync('x25519').publicKey,
      'unsupported public key algorithm',
    ],
  ])(
    '%s: passed over as an issuer, harmless off the path, refused on the leaf',
    async (_name, key, reason) => {
      const root = await mint({ name: 'root', ca: {} });
      const minted = await mint({ name: 'issuer', issuer: root, ca: {} });
      const issuer = await withPublicKey(minted, key(), root);
      // The leaf names it as its issuer: its key is never used.
      const below = await mint({ name: 'alice', issuer: minted });
      expect(workOf([below, issuer], [root])).toEqual({
        signatureChecks: 0,
        certificatesRead: 0,
        ok: false,
      });
      // Sent beside a chain that does not need it.
      const direct = await mint({ name: 'bob', issuer: root });
      expect(verify([direct, issuer], [root]).ok).toBe(true);
      // The leaf's own key: Go's handshake cannot verify the client's signature with it.
      expect(verify([await withPublicKey(direct, key(), root)], [root])).toEqual(refused(reason));
    },
  );

  it('a trusted root whose key Go cannot verify with vouches for no one', async () => {
    const minted = await mint({ name: 'root', ca: {} });
    const root = await resigned(minted, minted, (tbs) => {
      tbs.subjectPublicKeyInfo = AsnConvert.parse(
        rsaExponent(1).export({ type: 'spki', format: 'der' }),
        SubjectPublicKeyInfo,
      );
    });
    const leaf = await mint({ name: 'alice', issuer: minted });
    expect(workOf([leaf], [root])).toEqual({ signatureChecks: 0, certificatesRead: 0, ok: false });
  });

  it.each<[string, () => KeyObject]>([
    ['RSA of 8192 bits', () => rsaModulus(8192)],
    ['RSA of 1024 bits', () => rsaModulus(1024)],
    ['RSA with exponent 3', () => rsaExponent(3)],
    ['P-224', () => generateKeyPairSync('ec', { namedCurve: 'secp224r1' }).publicKey],
    ['P-521', () => generateKeyPairSync('ec', { namedCurve: 'secp521r1' }).publicKey],
    ['Ed25519', () => generateKeyPairSync('ed25519').publicKey],
  ])('keys Go takes pass on the leaf: %s', async (_name, key) => {
    const root = await mint({ name: 'root', ca: {} });
    const leaf = await withPublicKey(await mint({ name: 'alice', issuer: root }), key(), root);
    expect(verify([leaf], [root]).ok).toBe(true);
  });
});

describe('version 1 certificates', () => {
  it('a version 1 root signs client certificates, as Go allows', async () => {
    const root = await mintVersion1('old-root');
    expect(new X509Certificate(root.pem).ca).toBe(false);
    const leaf = await mint({ name: 'alice', issuer: root });
    const result = verify([leaf], [root]);
    expect(result.ok && result.chain.map((c) => c.subject)).toEqual(['CN=alice', 'CN=old-root']);
  });

  it('…but not as an intermediate the client sends', async () => {
    const root = await mint({ name: 'root', ca: {} });
    const old = await mintVersion1('old', root);
    const leaf = await mint({ name: 'alice', issuer: old });
    expect(verify([leaf, old], [root])).toEqual(refused('certificate signed by unknown authority'));
    // The same leaf passes with that certificate as a trusted root.
    expect(verify([leaf], [old]).ok).toBe(true);
  });
});

describe('name constraints (not checked: refused above alternative names)', () => {
  const constraint = () => {
    const permitted = new GeneralSubtree({ base: new GeneralName({ dNSName: 'example.com' }) });
    const value = new NameConstraints({ permittedSubtrees: new GeneralSubtrees([permitted]) });
    return new x509.Extension('2.5.29.30', true, AsnConvert.serialize(value));
  };

  it('a CA with name constraints over a leaf without alternative names: accepted', async () => {
    const root = await mint({ name: 'root', ca: {}, extensions: [constraint()] });
    expect(verify([await mint({ name: 'alice', issuer: root })], [root]).ok).toBe(true);
  });

  it('…over a leaf with alternative names: refused', async () => {
    const root = await mint({ name: 'root', ca: {}, extensions: [constraint()] });
    const leaf = await mint({ name: 'alice', issuer: root, dnsNames: ['a.example.com'] });
    expect(verify([leaf], [root])).toEqual(
      refused('a CA with name constraints stands above alternative names, which are not checked'),
    );
  });
});

describe('through kubeletAuth over TLS', () => {
  let pki: Pki;
  let server: Server;
  let auth: ReturnType<typeof kubeletAuth>;
  let oldRoot: Minted;
  let strictRoot: Minted;
  /** A root whose bundle copy was re-issued with a new key identifier. */
  let renewedRoot: Minted;
  let plainRoot: Minted;

  /** What a client presents: the leaf (and the intermediates after it) and the leaf's key. */
  async function presented(chain: Minted[]): Promise<IssuedCertificate> {
    const der = await webcrypto.subtle.exportKey('pkcs8', (chain[0] as Minted).keys.privateKey);
    const key = x509.PemConverter.encode(der, 'PRIVATE KEY');
    return { cert: (chain[0] as Minted).pem, key, chain: chain.map((c) => c.pem).join('\n') };
  }

  beforeAll(async () => {
    pki = await makePki();
    [oldRoot, strictRoot, renewedRoot, plainRoot] = await Promise.all([
      mintVersion1('old-root'),
      mint({ name: 'strict-root', ca: { pathLength: 0 } }),
      mint({ name: 'renewed-root', ca: {} }),
      mint({ name: 'plain-root', ca: {} }),
    ]);
    const renewed = await mint({
      name: 'renewed-root',
      ca: {},
      keys: renewedRoot.keys,
      keyId: 'cd'.repeat(20),
    });
    const clientCAFile = join(mkdtempSync(join(tmpdir(), 'eka-constraints-')), 'ca.crt');
    writeFileSync(
      clientCAFile,
      [oldRoot, strictRoot, renewed, plainRoot].map((root) => root.pem).join('\n'),
    );
    auth = kubeletAuth({
      nodeName: 'node-a',
      authentication: { x509: { clientCAFile }, webhook: { enabled: false } },
      authorization: { mode: 'AlwaysAllow' },
    });
    const app = express().use(auth);
    app.get('/stats/summary', (req, res) => res.send(`hello ${kubeUser(req)?.username ?? ''}`));
    server = await listen(pki, app);
  });

  afterAll(async () => {
    auth.close();
    await close(server);
  });

  it('a client certificate from a version 1 root: 200, as the kubelet answers', async () => {
    const leaf = await mint({ name: 'alice', issuer: oldRoot });
    await call(server, pki, '/stats/summary', { cert: await presented([leaf]) }).expect(
      200,
      'hello alice',
    );
  });

  it('a client certificate from a root re-issued with a new key identifier: 200, as the kubelet answers', async () => {
    const leaf = await mint({ name: 'carol', issuer: renewedRoot });
    await call(server, pki, '/stats/summary', { cert: await presented([leaf]) }).expect(
      200,
      'hello carol',
    );
  });

  it('a chain through an intermediate whose RSA exponent Go refuses: 401, as the kubelet refuses it', async () => {
    const intermediate = await mint({
      name: 'big-exponent',
      issuer: plainRoot,
      ca: {},
      keys: await bigExponentKeys(),
    });
    const leaf = await mint({ name: 'mallory', issuer: intermediate });
    const cert = await presented([leaf, intermediate]);
    await call(server, pki, '/stats/summary', { cert, sendChain: true }).expect(401);
    // The same root's chain through an intermediate with a P-256 key passes.
    const usual = await mint({ name: 'usual', issuer: plainRoot, ca: {} });
    const bob = await presented([await mint({ name: 'bob', issuer: usual }), usual]);
    await call(server, pki, '/stats/summary', { cert: bob, sendChain: true }).expect(
      200,
      'hello bob',
    );
  });

  it('one intermediate under a root that allows none: 401', async () => {
    const intermediate = await mint({ name: 'intermediate', issuer: strictRoot, ca: {} });
    const leaf = await mint({ name: 'mallory', issuer: intermediate });
    const cert = await presented([leaf, intermediate]);
    await call(server, pki, '/stats/summary', { cert, sendChain: true }).expect(401);
    // The same root's own leaf passes.
    const direct = await presented([await mint({ name: 'bob', issuer: strictRoot })]);
    await call(server, pki, '/stats/summary', { cert: direct }).expect(200, 'hello bob');
  });
});
