import { beforeAll, describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import type { PeerSocket } from '../../lib/authn/peer-certificate.js';
import { SessionChains } from '../../lib/authn/session-chains.js';
import { makePki, type Pki } from '../integration/harness.js';

let pki: Pki;
beforeAll(async () => {
  pki = await makePki();
});

const der = (pem: string): Buffer => new X509Certificate(pem).raw;
const pemsOf = (chain: string): string[] =>
  chain.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];

/** A socket as Node shows it: the certificates sent (leaf first), and whether it was resumed. */
function socket(pems: string[], reused: boolean): PeerSocket {
  type Legacy = { raw?: Buffer; issuerCertificate?: Legacy };
  let chain: Legacy = {};
  for (const raw of pems.map(der).reverse()) chain = { raw, issuerCertificate: chain };
  return { getPeerCertificate: () => chain as never, isSessionReused: () => reused };
}

describe('SessionChains', () => {
  it('gives a resumed session showing the leaf alone the intermediates of its full handshake', () => {
    const sessions = new SessionChains();
    const chain = pemsOf(pki.certs.viaIntermediate.chain);
    const full = socket(chain, false);
    const sent = sessions.certificates(full);
    expect(sent).toEqual(chain.map(der));

    const leafOnly = [pki.certs.viaIntermediate.cert];
    expect(sessions.certificates(socket(leafOnly, true))).toEqual([der(leafOnly[0] as string)]);
    sessions.remember(full, sent);
    expect(sessions.certificates(socket(leafOnly, true))).toEqual(chain.map(der));
    // A connection that is not resumed shows what it sent, even the leaf alone.
    expect(sessions.certificates(socket(leafOnly, false))).toEqual([der(leafOnly[0] as string)]);
  });

  it("takes nothing from a resumed session's certificates, nor from a leaf sent alone", () => {
    const sessions = new SessionChains();
    const chain = pemsOf(pki.certs.viaIntermediate.chain);
    sessions.remember(socket(chain, true), chain.map(der));
    sessions.remember(socket([pki.certs.alice.cert], false), [der(pki.certs.alice.cert)]);
    expect(sessions.certificates(socket([pki.certs.viaIntermediate.cert], true))).toHaveLength(1);
    expect(sessions.certificates(socket([pki.certs.alice.cert], true))).toHaveLength(1);
  });

  it('keeps at most maxEntries leaves, and at most maxBytes of intermediates', () => {
    const intermediate = pemsOf(pki.certs.viaIntermediate.chain)[1] as string;
    const leaves = [pki.certs.alice, pki.certs.admin, pki.certs.withUid].map((c) => c.cert);
    const remembered = (sessions: SessionChains) =>
      leaves.filter((leaf) => sessions.certificates(socket([leaf], true)).length === 2).length;
    const rememberAll = (sessions: SessionChains) => {
      for (const leaf of leaves)
        sessions.remember(socket([leaf, intermediate], false), [der(leaf), der(intermediate)]);
      return sessions;
    };

    expect(remembered(rememberAll(new SessionChains()))).toBe(3);
    expect(remembered(rememberAll(new SessionChains({ maxEntries: 2 })))).toBe(2);
    const size = der(intermediate).length;
    expect(remembered(rememberAll(new SessionChains({ maxBytes: 2 * size })))).toBe(2);
  });
});
