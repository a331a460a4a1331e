import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import {
  CHAIN_WORK_CHANNEL,
  verifyClientChain,
  type ChainResult,
  type ChainWork,
} from '../../lib/authn/chain.js';
import { kubeletAuth } from '../../lib/index.js';
import {
  createCA,
  mintClientCert,
  type CertificateAuthority,
  type IssuedCertificate,
  type StandInApiServer,
} from '../../lib/testing/index.js';
import {
  call,
  close,
  listen,
  makePki,
  startPolicyApiServer,
  type Pki,
} from '../integration/harness.js';
import { recordingLogger, registerSecrets } from '../support/secrets.js';

/** Go's cap on the signature checks of one verification. */
const MAX_SIGNATURE_CHECKS = 100;
/** About as many certificates as Node accepts after the leaf in one handshake. */
const FLOOD = 15;
const HOUR = 3_600_000;

let root: CertificateAuthority;
let intermediate: CertificateAuthority;
let viaIntermediate: IssuedCertificate;
/** A leaf whose issuer is every one of FLOOD untrusted self-signed CAs (one key, one name). */
let sameNameFlood: IssuedCertificate;
/** The same, the CAs named like the trusted root. */
let rootNameFlood: IssuedCertificate;
/** The same again, without key identifiers: only the name links them (and the root). */
let rootNameFloodNoKeyIds: IssuedCertificate;
/** Leaf ← 4 ← 5 ← 5 CAs: each layer one name and key, so every layer issues the next. */
let layered: IssuedCertificate;

/** FLOOD self-signed CAs sharing one key and one name; the first is the leaf's issuer. */
async function sameKeyCAs(
  commonName: string,
  count: number,
  options: { issuer?: CertificateAuthority; keyIdentifiers?: boolean } = {},
): Promise<CertificateAuthority[]> {
  const first = await createCA({ commonName, ...options });
  const rest = await Promise.all(
    Array.from({ length: count - 1 }, () => createCA({ commonName, keys: first.keys, ...options })),
  );
  return [first, ...rest];
}

async function floodLeaf(cas: CertificateAuthority[]): Promise<IssuedCertificate> {
  return mintClientCert({ ca: cas[0] as CertificateAuthority, user: 'mallory', chain: cas });
}

beforeAll(async () => {
  root = await createCA({ commonName: 'client-ca' });
  intermediate = await createCA({ commonName: 'intermediate', issuer: root });
  viaIntermediate = await mintClientCert({
    ca: intermediate,
    user: 'carol',
    chain: [intermediate],
  });
  sameNameFlood = await floodLeaf(await sameKeyCAs('flood-ca', FLOOD));
  rootNameFlood = await floodLeaf(await sameKeyCAs('client-ca', FLOOD));
  rootNameFloodNoKeyIds = await floodLeaf(
    await sameKeyCAs('client-ca', FLOOD, { keyIdentifiers: false }),
  );
  const top = await sameKeyCAs('layer-3', 5);
  const middle = await sameKeyCAs('layer-2', 5, { issuer: top[0] as CertificateAuthority });
  const bottom = await sameKeyCAs('layer-1', 4, { issuer: middle[0] as CertificateAuthority });
  layered = await mintClientCert({
    ca: bottom[0] as CertificateAuthority,
    user: 'mallory',
    chain: [...bottom, ...middle, ...top],
  });
});

function pemBlocks(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
}

/** Leaf first, as a client sends them. */
function certificatesOf(chainPem: string): X509Certificate[] {
  return pemBlocks(chainPem).map((pem) => new X509Certificate(pem));
}

/** Runs `work`, adding up what every chain verification during it published. */
async function observed<T>(
  work: () => T | Promise<T>,
): Promise<{ result: T; checks: number; verifications: number }> {
  let checks = 0;
  let verifications = 0;
  const onWork = (message: unknown): void => {
    checks += (message as ChainWork).signatureChecks;
    verifications++;
  };
  subscribe(CHAIN_WORK_CHANNEL, onWork);
  try {
    const result = await work();
    return { result, checks, verifications };
  } finally {
    unsubscribe(CHAIN_WORK_CHANNEL, onWork);
  }
}

function verify(chainPem: string, roots = [root.cert], now = new Date()) {
  const [leaf, ...rest] = certificatesOf(chainPem);
  return observed(() =>
    verifyClientChain(
      leaf as X509Certificate,
      rest,
      roots.map((pem) => new X509Certificate(pem)),
      now,
    ),
  );
}

const UNKNOWN: ChainResult = { ok: false, reason: 'certificate signed by unknown authority' };

describe('verifyClientChain does bounded work on what the client sends', () => {
  it('15 same-key, same-name CAs (none trusted): refused after one check per CA', async () => {
    expect(certificatesOf(sameNameFlood.chain)).toHaveLength(FLOOD + 1);
    const { result, checks } = await verify(sameNameFlood.chain);
    expect(result).toEqual(UNKNOWN);
    // One name and one key are one issuer: a chain never holds it twice.
    expect(checks).toBeLessThanOrEqual(FLOOD);
  });

  it('the same CAs carrying the trusted CA’s name: refused within the cap', async () => {
    const { result, checks } = await verify(rootNameFlood.chain);
    expect(result).toEqual(UNKNOWN);
    expect(checks).toBeLessThanOrEqual(MAX_SIGNATURE_CHECKS);
  });

  it('…and without key identifiers, so the trusted root passes every name check', async () => {
    const { result, checks } = await verify(rootNameFloodNoKeyIds.chain);
    expect(result).toEqual(UNKNOWN);
    // Each CA against the root and the leaf against each CA, each pair once.
    expect(checks).toBeLessThanOrEqual(2 * FLOOD + 1);
  });

  it('layers of interchangeable CAs: stops at the cap, and checks no signature twice', async () => {
    const { result, checks } = await verify(layered.chain);
    expect(result).toEqual({
      ok: false,
      reason: 'signature check attempts limit reached while verifying certificate chain',
    });
    // 4 + 4·5 + 5·5 issuer/child pairs exist; there are 100 paths through them.
    expect(checks).toBeLessThanOrEqual(4 + 20 + 25);
  });

  it('a certificate sent many times is weighed once', async () => {
    const [leafPem, intermediatePem] = pemBlocks(viaIntermediate.chain) as [string, string];
    const repeated = [leafPem, ...Array<string>(FLOOD).fill(intermediatePem)].join('\n');
    const { result, checks } = await verify(repeated);
    expect(result.ok).toBe(true);
    expect(checks).toBe(2);
  });

  it('follows at most 10 certificates, leaf and root included', async () => {
    const mint = async (intermediates: number): Promise<string> => {
      const cas: CertificateAuthority[] = [];
      let issuer = root;
      for (let i = 0; i < intermediates; i++) {
        issuer = await createCA({ commonName: `level-${i}`, issuer });
        cas.unshift(issuer);
      }
      return (await mintClientCert({ ca: issuer, user: 'deep', chain: cas })).chain;
    };
    expect((await verify(await mint(8))).result.ok).toBe(true);
    expect((await verify(await mint(9))).result).toEqual(UNKNOWN);
  });
});

describe('verifyClientChain keeps Go’s answers', () => {
  it('finds the chain through an intermediate, also among flood certificates', async () => {
    const { result } = await verify(viaIntermediate.chain);
    expect(result.ok && result.chain.map((c) => c.subject)).toEqual([
      'CN=carol',
      'CN=intermediate',
      'CN=client-ca',
    ]);
    const [leafPem, intermediatePem] = pemBlocks(viaIntermediate.chain) as [string, string];
    const noisy = [leafPem, ...pemBlocks(sameNameFlood.chain).slice(2), intermediatePem];
    const { result: found, checks } = await verify(noisy.join('\n'));
    expect(found.ok).toBe(true);
    expect(checks).toBe(2);
  });

  it.each<[string, () => Promise<string>, string]>([
    [
      'an expired intermediate',
      async () => {
        const old = await createCA({
          commonName: 'old-intermediate',
          issuer: root,
          notBefore: new Date(Date.now() - 48 * HOUR),
          notAfter: new Date(Date.now() - HOUR),
        });
        return (await mintClientCert({ ca: old, user: 'u', chain: [old] })).chain;
      },
      'certificate has expired',
    ],
    [
      'the intermediate not sent',
      async () => (await mintClientCert({ ca: intermediate, user: 'u' })).chain,
      'certificate signed by unknown authority',
    ],
    [
      'a serverAuth-only leaf',
      async () =>
        (await mintClientCert({ ca: root, user: 'u', extendedKeyUsage: 'serverAuth' })).chain,
      'certificate specifies an incompatible key usage',
    ],
  ])('refuses %s', async (_name, mint, reason) => {
    expect((await verify(await mint())).result).toEqual({ ok: false, reason });
  });
});

describe('through kubeletAuth over TLS: the front-proxy and the client-certificate paths', () => {
  let pki: Pki;
  let api: StandInApiServer;
  let server: Server;
  let auth: ReturnType<typeof kubeletAuth>;
  let alice: IssuedCertificate;
  let frontProxy: IssuedCertificate;

  beforeAll(async () => {
    [pki, api] = await Promise.all([makePki(), startPolicyApiServer()]);
    // The client CA is `root`; the front-proxy CA has another key and the same name, so the
    // floods named like a trusted CA are named like both.
    const frontProxyCA = await createCA({ commonName: root.commonName });
    [alice, frontProxy] = await Promise.all([
      mintClientCert({ ca: root, user: 'alice' }),
      mintClientCert({ ca: frontProxyCA, user: 'front-proxy-client' }),
    ]);
    registerSecrets(
      ...[sameNameFlood, rootNameFlood, rootNameFloodNoKeyIds, layered, alice, frontProxy].map(
        (c) => c.key,
      ),
    );
    const dir = mkdtempSync(join(tmpdir(), 'eka-chain-'));
    const [clientCAFile, frontProxyCAFile] = [join(dir, 'ca.crt'), join(dir, 'front-proxy.crt')];
    writeFileSync(clientCAFile, root.cert);
    writeFileSync(frontProxyCAFile, frontProxyCA.cert);
    auth = kubeletAuth({
      nodeName: 'node-a',
      kubeConfig: api.kubeConfig,
      authentication: {
        x509: { clientCAFile },
        requestHeader: { clientCAFile: frontProxyCAFile },
        anonymous: { enabled: true },
      },
      logger: recordingLogger,
    });
    const app = express().use(auth);
    app.get('/{*rest}', (_req, res) => res.send('ok'));
    server = await listen(pki, app);
  });
  afterAll(async () => {
    auth.close();
    await close(server);
    await api.close();
  });

  it.each<[string, () => IssuedCertificate]>([
    ['same-name CAs', () => sameNameFlood],
    ['CAs named like the trusted CAs', () => rootNameFlood],
    ['CAs named like the trusted CAs, without key identifiers', () => rootNameFloodNoKeyIds],
    ['layers of interchangeable CAs', () => layered],
  ])('%s: 401, each path within the cap', async (_name, cert) => {
    const { checks, verifications } = await observed(() =>
      call(server, pki, '/stats/summary', { cert: cert(), sendChain: true }).expect(401),
    );
    // The front-proxy authenticator, then the client-certificate one.
    expect(verifications).toBe(2);
    expect(checks).toBeGreaterThan(0);
    expect(checks).toBeLessThanOrEqual(2 * MAX_SIGNATURE_CHECKS);
  });

  it('valid clients still get through, on both paths', async () => {
    await call(server, pki, '/stats/summary', { cert: alice }).expect(200);
    await call(server, pki, '/stats/summary', { cert: frontProxy })
      .set('X-Remote-User', 'alice')
      .expect(200);
  });
});
