import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Certificate, TLSSocket } from 'node:tls';
import { describe, it, expect, beforeAll } from '@jest/globals';
import type * as X509 from '@peculiar/x509';
import { createCA, mintClientCert, mintServingCert, UID_OID } from '../../lib/testing/index.js';
import type { CertificateAuthority, IssuedCertificate } from '../../lib/testing/index.js';

// @peculiar/x509 reads the extensions Node's X509Certificate does not expose (criticality,
// key usage bits, key identifiers); it needs the Reflect polyfill before it loads.
let x509: typeof X509;
beforeAll(async () => {
  await import('reflect-metadata');
  x509 = await import('@peculiar/x509');
});

function parse(pem: string): X509.X509Certificate {
  return new x509.X509Certificate(pem);
}

function pemBlocks(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
}

describe('createCA', () => {
  let root: CertificateAuthority;
  let intermediate: CertificateAuthority;
  beforeAll(async () => {
    root = await createCA();
    intermediate = await createCA({
      issuer: root,
      commonName: 'intermediate',
      organization: ['Acme', 'Test'],
    });
  });

  it('makes a self-signed root Node accepts as a CA', () => {
    const cert = new X509Certificate(root.cert);
    expect(root.commonName).toBe('express-kubelet-auth test CA');
    expect(cert.subject).toBe('CN=express-kubelet-auth test CA');
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.ca).toBe(true);
    expect(cert.checkIssued(cert)).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
  });

  it('sets critical basicConstraints and keyUsage, SKI and a matching AKI', () => {
    const cert = parse(root.cert);
    const bc = cert.getExtension(x509.BasicConstraintsExtension);
    expect(bc?.ca).toBe(true);
    expect(bc?.critical).toBe(true);
    const ku = cert.getExtension(x509.KeyUsagesExtension);
    expect(ku?.critical).toBe(true);
    expect(ku?.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
    const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
    expect(ski?.keyId).toMatch(/^[0-9a-f]+$/);
    expect(aki?.keyId).toBe(ski?.keyId);
  });

  it('uses ECDSA P-256 with SHA-256 and a positive 16-byte random serial', () => {
    const cert = new X509Certificate(root.cert);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(parse(root.cert).signatureAlgorithm).toMatchObject({
      name: 'ECDSA',
      hash: { name: 'SHA-256' },
    });
    expect(cert.serialNumber).toMatch(/^[0-7][0-9A-F]{31}$/);
    expect(new X509Certificate(intermediate.cert).serialNumber).not.toBe(cert.serialNumber);
  });

  it('defaults validity to one hour ago until a year from now', () => {
    const cert = parse(root.cert);
    const now = Date.now();
    expect(Math.abs(cert.notBefore.getTime() - (now - 3600_000))).toBeLessThan(60_000);
    expect(Math.abs(cert.notAfter.getTime() - (now + 365 * 86400_000))).toBeLessThan(60_000);
  });

  it('makes an intermediate signed by its issuer, AKI = issuer SKI', () => {
    const cert = new X509Certificate(intermediate.cert);
    const rootCert = new X509Certificate(root.cert);
    expect(cert.subject).toBe('O=Acme\nO=Test\nCN=intermediate');
    expect(cert.issuer).toBe(rootCert.subject);
    expect(cert.ca).toBe(true);
    expect(cert.checkIssued(rootCert)).toBe(true);
    expect(cert.verify(rootCert.publicKey)).toBe(true);
    expect(parse(intermediate.cert).getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(
      parse(root.cert).getExtension(x509.SubjectKeyIdentifierExtension)?.keyId,
    );
  });

  it('hands out a PKCS#8 key that matches the certificate', () => {
    expect(root.key).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const pub = createPublicKey(createPrivateKey(root.key));
    expect(pub.export({ type: 'spki', format: 'der' })).toEqual(
      new X509Certificate(root.cert).publicKey.export({ type: 'spki', format: 'der' }),
    );
  });

  it('re-issues a CA with the key pair it is given', async () => {
    const again = await createCA({ keys: root.keys });
    const [a, b] = [root.cert, again.cert].map((pem) => new X509Certificate(pem));
    expect(b?.raw.equals(a?.raw as Buffer)).toBe(false);
    expect(b?.publicKey.equals(a?.publicKey as never)).toBe(true);
    // Each verifies the other: same name, same key.
    expect(a?.checkIssued(b as X509Certificate)).toBe(true);
    expect(a?.verify(b?.publicKey as never)).toBe(true);
  });

  it('leaves the key identifiers out when asked, and stays a CA Node accepts', async () => {
    const bare = await createCA({ keyIdentifiers: false });
    const cert = parse(bare.cert);
    expect(cert.getExtension(x509.SubjectKeyIdentifierExtension)).toBeNull();
    expect(cert.getExtension(x509.AuthorityKeyIdentifierExtension)).toBeNull();
    expect(new X509Certificate(bare.cert).ca).toBe(true);
    const leaf = new X509Certificate((await mintClientCert({ ca: bare, user: 'u' })).cert);
    expect(leaf.checkIssued(new X509Certificate(bare.cert))).toBe(true);
  });

  it('honours explicit validity dates', async () => {
    const notBefore = new Date('2020-01-01T00:00:00Z');
    const notAfter = new Date('2021-01-01T00:00:00Z');
    const ca = await createCA({ notBefore, notAfter });
    const cert = new X509Certificate(ca.cert);
    expect(new Date(cert.validFrom).toISOString()).toBe(notBefore.toISOString());
    expect(new Date(cert.validTo).toISOString()).toBe(notAfter.toISOString());
  });
});

describe('mintClientCert', () => {
  let root: CertificateAuthority;
  let intermediate: CertificateAuthority;
  beforeAll(async () => {
    root = await createCA();
    intermediate = await createCA({ issuer: root, commonName: 'client intermediate' });
  });

  it('puts the user in CN, each group in its own O, the UID in its OID', async () => {
    const issued = await mintClientCert({
      ca: root,
      user: 'system:node:node-a',
      groups: ['system:nodes', 'team:b'],
      uid: 'uid-123',
    });
    const cert = new X509Certificate(issued.cert);
    expect(cert.subject.split('\n')).toEqual([
      'O=system:nodes',
      'O=team:b',
      'CN=system:node:node-a',
      `${UID_OID}=uid-123`,
    ]);
    const name = parse(issued.cert).subjectName;
    expect(name.getField('CN')).toEqual(['system:node:node-a']);
    expect(name.getField('O')).toEqual(['system:nodes', 'team:b']);
    expect(name.getField(UID_OID)).toEqual(['uid-123']);
    // The UID must be a UTF8String (tag 0x0c), as kube-apiserver expects.
    const uidValue = Buffer.from('uid-123');
    const der = Buffer.from(parse(issued.cert).rawData);
    const at = der.indexOf(uidValue);
    expect(der[at - 2]).toBe(0x0c);
  });

  it("leaves the CN out entirely for user ''", async () => {
    const issued = await mintClientCert({ ca: root, user: '', groups: ['g'] });
    expect(new X509Certificate(issued.cert).subject).toBe('O=g');
    expect(parse(issued.cert).subjectName.getField('CN')).toEqual([]);
  });

  it('is a leaf signed by the CA: CA:false, digitalSignature, AKI, clientAuth by default', async () => {
    const issued = await mintClientCert({ ca: root, user: 'alice' });
    const cert = new X509Certificate(issued.cert);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(new X509Certificate(root.cert))).toBe(true);
    expect(cert.verify(new X509Certificate(root.cert).publicKey)).toBe(true);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    const p = parse(issued.cert);
    expect(p.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(false);
    expect(p.getExtension(x509.KeyUsagesExtension)?.usages).toBe(
      x509.KeyUsageFlags.digitalSignature,
    );
    expect(p.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(
      parse(root.cert).getExtension(x509.SubjectKeyIdentifierExtension)?.keyId,
    );
    expect(issued.chain).toBe(issued.cert);
  });

  it.each([
    ['clientAuth' as const, ['1.3.6.1.5.5.7.3.2']],
    ['serverAuth' as const, ['1.3.6.1.5.5.7.3.1']],
    [
      ['1.3.6.1.5.5.7.3.2', '1.3.6.1.5.5.7.3.4'],
      ['1.3.6.1.5.5.7.3.2', '1.3.6.1.5.5.7.3.4'],
    ],
  ])('extendedKeyUsage %j → %j', async (eku, expected) => {
    const issued = await mintClientCert({ ca: root, user: 'u', extendedKeyUsage: eku });
    expect(new X509Certificate(issued.cert).keyUsage).toEqual(expected);
  });

  it("extendedKeyUsage 'none' omits the extension", async () => {
    const issued = await mintClientCert({ ca: root, user: 'u', extendedKeyUsage: 'none' });
    expect(parse(issued.cert).getExtension(x509.ExtendedKeyUsageExtension)).toBeNull();
  });

  it('appends the given intermediates after the leaf in chain', async () => {
    const issued = await mintClientCert({ ca: intermediate, user: 'u', chain: [intermediate] });
    const blocks = pemBlocks(issued.chain);
    expect(blocks).toHaveLength(2);
    expect(blocks[0]?.trim()).toBe(issued.cert.trim());
    expect(blocks[1]?.trim()).toBe(intermediate.cert.trim());
    const leaf = new X509Certificate(issued.cert);
    expect(leaf.checkIssued(new X509Certificate(intermediate.cert))).toBe(true);
  });

  it('honours explicit validity dates', async () => {
    const notAfter = new Date(Date.now() - 1000);
    const notBefore = new Date(Date.now() - 86400_000);
    const issued = await mintClientCert({ ca: root, user: 'u', notBefore, notAfter });
    const cert = parse(issued.cert);
    expect(cert.notAfter.getTime()).toBe(Math.floor(notAfter.getTime() / 1000) * 1000);
    expect(cert.notBefore.getTime()).toBe(Math.floor(notBefore.getTime() / 1000) * 1000);
  });
});

describe('mintServingCert', () => {
  it('puts DNS names and IP addresses in the SAN, serverAuth EKU, signed by the CA', async () => {
    const ca = await createCA();
    const issued = await mintServingCert({ ca, hosts: ['localhost', '127.0.0.1', '::1'] });
    const cert = new X509Certificate(issued.cert);
    expect(cert.subjectAltName).toBe(
      'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
    expect(cert.subject).toBe('CN=localhost');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkIssued(new X509Certificate(ca.cert))).toBe(true);
    expect(cert.ca).toBe(false);
  });

  it('is self-signed without a CA', async () => {
    const issued = await mintServingCert({ hosts: ['example.test'], commonName: 'srv' });
    const cert = new X509Certificate(issued.cert);
    expect(cert.subject).toBe('CN=srv');
    expect(cert.issuer).toBe('CN=srv');
    expect(cert.verify(cert.publicKey)).toBe(true);
  });
});

describe('TLS with minted certificates', () => {
  let root: CertificateAuthority;
  let intermediate: CertificateAuthority;
  let serving: IssuedCertificate;

  beforeAll(async () => {
    root = await createCA();
    intermediate = await createCA({ issuer: root, commonName: 'clients' });
    serving = await mintServingCert({ ca: root, hosts: ['127.0.0.1', 'localhost'] });
  });

  interface Seen {
    authorized: boolean;
    authorizationError?: string;
    subject?: Certificate;
  }

  // An HTTPS server that asks for a client certificate and reports what OpenSSL made of it
  // (authorized / authorizationError: the precise reason, which a refused handshake hides).
  async function roundTrip(options: {
    server?: IssuedCertificate;
    trust?: string;
    client?: { cert: string; key: string };
    servername?: string;
  }): Promise<Seen> {
    const srv = options.server ?? serving;
    const server = createServer(
      {
        cert: srv.chain,
        key: srv.key,
        ca: [root.cert],
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => {
        const socket = req.socket as TLSSocket;
        const seen: Seen = { authorized: socket.authorized };
        if (socket.authorizationError) seen.authorizationError = String(socket.authorizationError);
        if (socket.authorized) seen.subject = socket.getPeerCertificate().subject;
        res.end(JSON.stringify(seen));
      },
    );
    server.on('tlsClientError', () => undefined);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      return await new Promise<Seen>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            path: '/',
            ca: options.trust ?? root.cert,
            cert: options.client?.cert,
            key: options.client?.key,
            servername: options.servername,
            agent: false,
          },
          (res) => {
            let data = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (data += chunk));
            res.on('end', () => resolve(JSON.parse(data) as Seen));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end();
      });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  }

  it('accepts a client certificate from an intermediate, sent with its chain', async () => {
    const client = await mintClientCert({
      ca: intermediate,
      user: 'system:node:n1',
      groups: ['system:nodes'],
      chain: [intermediate],
    });
    const seen = await roundTrip({ client: { cert: client.chain, key: client.key } });
    expect(seen).toEqual({
      authorized: true,
      subject: expect.objectContaining({ CN: 'system:node:n1', O: 'system:nodes' }),
    });
  });

  it('does not accept the intermediate-issued leaf without its chain', async () => {
    const client = await mintClientCert({ ca: intermediate, user: 'u' });
    const seen = await roundTrip({ client });
    expect(seen.authorized).toBe(false);
  });

  it('accepts a client certificate signed directly by the root', async () => {
    const client = await mintClientCert({ ca: root, user: 'alice', groups: ['a', 'b'] });
    const seen = await roundTrip({ client });
    expect(seen).toEqual({
      authorized: true,
      subject: expect.objectContaining({ CN: 'alice', O: ['a', 'b'] }),
    });
  });

  it.each([
    [
      'from another CA',
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      async () => mintClientCert({ ca: await createCA({ commonName: 'other' }), user: 'm' }),
    ],
    [
      'expired',
      'CERT_HAS_EXPIRED',
      () =>
        mintClientCert({
          ca: root,
          user: 'late',
          notBefore: new Date(Date.now() - 2 * 86400_000),
          notAfter: new Date(Date.now() - 86400_000),
        }),
    ],
    [
      'not yet valid',
      'CERT_NOT_YET_VALID',
      () =>
        mintClientCert({ ca: root, user: 'early', notBefore: new Date(Date.now() + 86400_000) }),
    ],
    [
      'with a serverAuth-only EKU',
      'INVALID_PURPOSE',
      () => mintClientCert({ ca: root, user: 'u', extendedKeyUsage: 'serverAuth' }),
    ],
  ])('refuses a client certificate %s (%s)', async (_what, code, mint) => {
    const client = await mint();
    await expect(roundTrip({ client })).resolves.toEqual({
      authorized: false,
      authorizationError: code,
    });
  });

  it('accepts a client certificate without any EKU', async () => {
    const client = await mintClientCert({ ca: root, user: 'u', extendedKeyUsage: 'none' });
    await expect(roundTrip({ client })).resolves.toMatchObject({ authorized: true });
  });

  it('lets a client trust a self-signed serving certificate directly, by name', async () => {
    const self = await mintServingCert({ hosts: ['localhost'] });
    const client = await mintClientCert({ ca: root, user: 'bob' });
    const seen = await roundTrip({
      server: self,
      trust: self.cert,
      client,
      servername: 'localhost',
    });
    expect(seen).toMatchObject({ authorized: true, subject: { CN: 'bob' } });
  });

  it('fails the hostname check for a name not in the SAN', async () => {
    await expect(roundTrip({ servername: 'elsewhere.test' })).rejects.toThrow(
      /is not in the cert's altnames/,
    );
  });

  it('fails server verification against the wrong CA', async () => {
    const other = await createCA({ commonName: 'unrelated CA' });
    // The server sends its root along (OpenSSL completes the chain from its `ca` store), so the
    // client sees an untrusted self-signed certificate rather than a missing issuer.
    await expect(roundTrip({ trust: other.cert })).rejects.toThrow(
      /self-signed certificate in certificate chain|unable to get local issuer/,
    );
  });
});
