import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:https';
import { ClientCertStrategy } from '../../lib/authn/x509.js';
import { cachedChainVerifier } from '../../lib/cache/chain-cache.js';
import type { Verified } from '../../lib/contracts.js';
import { silentLogger } from '../../lib/logger.js';
import type { KubeUser } from '../../lib/user.js';
import type { IssuedCertificate } from '../../lib/testing/index.js';
import { close, listen, makePki, rawRequest, type Pki } from '../integration/harness.js';

let pki: Pki;
beforeAll(async () => {
  pki = await makePki();
});

/** The certificates a connection's client sent, leaf first, as DER. */
const sending = (...pems: string[]): Buffer[] => pems.map((pem) => new X509Certificate(pem).raw);

/** PEM blocks of an `IssuedCertificate.chain` (leaf first). */
const pemsOf = (chain: string): string[] =>
  chain.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];

/** A verifier that counts its calls and answers a verdict per leaf, valid for `validFor` ms. */
function counting(validFor = 60_000) {
  const calls: string[] = [];
  const verify = (sent: readonly Buffer[], now: number): Verified<{ leaf: string }> => {
    const raw = sent[0];
    const leaf = raw ? new X509Certificate(raw).subject : '(none)';
    calls.push(leaf);
    return { value: { leaf }, validUntil: now + validFor };
  };
  return { verify, calls };
}

describe('cachedChainVerifier', () => {
  it('verifies a certificate once for many connections, and another certificate on its own', () => {
    const { verify, calls } = counting();
    const cached = cachedChainVerifier(verify, { version: () => 1, now: () => 1_000 });
    const first = cached(sending(pki.certs.alice.cert), 1_000);
    const second = cached(sending(pki.certs.alice.cert), 1_000);
    const admin = cached(sending(pki.certs.admin.cert), 1_000);
    expect(second).toBe(first);
    expect(admin.value.leaf).toContain('CN=root');
    expect(first.value.leaf).toContain('CN=alice');
    expect(calls).toHaveLength(2);
  });

  it('tells a chain from its leaf alone: the intermediates sent are part of the key', () => {
    const { verify, calls } = counting();
    const cached = cachedChainVerifier(verify, { version: () => 1, now: () => 0 });
    cached(sending(...pemsOf(pki.certs.viaIntermediate.chain)), 0);
    cached(sending(pki.certs.viaIntermediate.cert), 0);
    cached(sending(...pemsOf(pki.certs.viaIntermediate.chain)), 0);
    expect(pemsOf(pki.certs.viaIntermediate.chain)).toHaveLength(2);
    expect(calls).toHaveLength(2);
  });

  it('the certificates after the leaf in another order: the same entry, a new leaf first: another', () => {
    const { verify, calls } = counting();
    const cached = cachedChainVerifier(verify, { version: () => 1, now: () => 0 });
    const [leaf, intermediate] = sending(...pemsOf(pki.certs.viaIntermediate.chain)) as [
      Buffer,
      Buffer,
    ];
    const extra = sending(pki.certs.admin.cert)[0] as Buffer;
    cached([leaf, intermediate, extra], 0);
    cached([leaf, extra, intermediate], 0);
    expect(calls).toHaveLength(1);
    cached([extra, leaf, intermediate], 0);
    expect(calls).toHaveLength(2);
  });

  it('verifies again when the CA bundle changes, and when the verdict runs out', () => {
    const { verify, calls } = counting(500);
    let version = 1;
    let clock = 0;
    const cached = cachedChainVerifier(verify, {
      version: () => version,
      now: () => clock,
    });
    const alice = () => cached(sending(pki.certs.alice.cert), clock);
    alice();
    alice();
    expect(calls).toHaveLength(1);
    version = 2;
    alice();
    expect(calls).toHaveLength(2);
    clock = 500; // still valid at its last millisecond
    alice();
    expect(calls).toHaveLength(2);
    clock = 501;
    alice();
    expect(calls).toHaveLength(3);
  });

  it('serves no verdict past its own end, however long verifying took', () => {
    let clock = 0;
    let calls = 0;
    // Verification that takes 100 ms of the clock; the verdict holds until 500.
    const slow = (_sent: readonly Buffer[], now: number): Verified<{ n: number }> => {
      clock += 100;
      return { value: { n: ++calls }, validUntil: now + 500 };
    };
    const cached = cachedChainVerifier(slow, { version: () => 1, now: () => clock });
    const alice = () => cached(sending(pki.certs.alice.cert), clock).value.n;
    expect(alice()).toBe(1);
    clock = 500;
    expect(alice()).toBe(1);
    clock = 501;
    expect(alice()).toBe(2);
  });

  it('keeps at most maxEntries chains, dropping the least recently used', () => {
    const { verify, calls } = counting();
    const cached = cachedChainVerifier(verify, {
      version: () => 1,
      now: () => 0,
      maxEntries: 2,
    });
    const ask = (pem: string) => cached(sending(pem), 0);
    ask(pki.certs.alice.cert);
    ask(pki.certs.admin.cert);
    ask(pki.certs.alice.cert); // alice is now the most recent
    ask(pki.certs.withUid.cert); // drops admin
    expect(calls).toHaveLength(3);
    ask(pki.certs.alice.cert);
    expect(calls).toHaveLength(3);
    ask(pki.certs.admin.cert);
    expect(calls).toHaveLength(4);
  });

  it('does not cache a connection without a certificate', () => {
    const { verify, calls } = counting();
    const cached = cachedChainVerifier(verify, { version: () => 1, now: () => 0 });
    cached([], 0);
    cached([], 0);
    expect(calls).toEqual(['(none)', '(none)']);
  });
});

describe('ClientCertStrategy over real TLS connections', () => {
  let server: Server | undefined;
  afterAll(async () => {
    if (server) await close(server);
  });

  it('a client reconnecting with its certificate is the same user; a refused one stays refused', async () => {
    const strategy = new ClientCertStrategy({
      clientCAFile: pki.clientCAFile,
      logger: silentLogger,
    });
    const users: KubeUser[] = [];
    server = await listen(pki, (req: IncomingMessage, res: ServerResponse) => {
      const outcome = strategy.authenticateRequest(req as never);
      if (outcome.kind === 'user') users.push(outcome.user);
      res.end(outcome.kind === 'user' ? outcome.user.username : outcome.kind);
    });
    const live = server;
    // A new TLS connection for each request (rawRequest sends Connection: close).
    const get = async (cert: IssuedCertificate) =>
      (await rawRequest(live, pki, 'GET / HTTP/1.1', cert)).body;
    expect(await get(pki.certs.alice)).toBe('alice');
    expect(await get(pki.certs.wrongCA)).toBe('refused');
    expect(await get(pki.certs.alice)).toBe('alice');
    expect(await get(pki.certs.wrongCA)).toBe('refused');
    expect(await get(pki.certs.admin)).toBe('root');
    expect(users).toHaveLength(3);
    expect(users[1]).toBe(users[0]);
    expect(users[2]).not.toBe(users[0]);
    strategy.close();
  });
});
