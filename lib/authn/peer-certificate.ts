import { X509Certificate } from 'node:crypto';

/** The parts of a `tls.TLSSocket` certificate authentication uses. */
export interface PeerSocket {
  getPeerCertificate(detailed: true): PeerCertificate;
  getFinished?(): Buffer | undefined;
}

interface PeerCertificate {
  raw?: Buffer;
  issuerCertificate?: PeerCertificate;
}

/** Whether `socket` is a TLS socket that can show a client certificate. */
export function isPeerSocket(socket: unknown): socket is PeerSocket {
  return (
    typeof socket === 'object' &&
    socket !== null &&
    typeof (socket as { getPeerCertificate?: unknown }).getPeerCertificate === 'function'
  );
}

/** The leaf and what the client sent after it, as Node exposes them (leaf first). */
export function peerChain(socket: PeerSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  let current: PeerCertificate | undefined = socket.getPeerCertificate(true);
  while (current?.raw && chain.length < 16) {
    const id = current.raw.toString('base64');
    if (seen.has(id)) break;
    seen.add(id);
    try {
      chain.push(new X509Certificate(current.raw));
    } catch {
      break;
    }
    current = current.issuerCertificate;
  }
  return chain;
}

/** How long a refused certificate's verdict holds: until it becomes valid, or a minute. */
export function refusalValidUntil(leaf: X509Certificate, now: number): number {
  const notBefore = Date.parse(leaf.validFrom);
  return notBefore > now ? notBefore : now + 60_000;
}

/** A verdict and how long it holds, as a verifier returns it. */
export interface Verified<V> {
  value: V;
  /** Verification is redone after this time (the chain's earliest expiry). */
  validUntil: number;
}

interface Remembered<V> extends Verified<V> {
  bundleVersion: number;
  /** The handshake it belongs to (a renegotiation may bring another certificate). */
  finished: Buffer | undefined;
}

/**
 * One verdict per TLS connection: keep-alive clients send many requests on one, and the
 * certificate is verified for the first only — again when the CA bundle changes (its version),
 * the verdict's time runs out, or a renegotiation brings another handshake.
 */
export class ConnectionVerdicts<V> {
  private readonly remembered = new WeakMap<object, Remembered<V>>();

  /** The verdict for `socket`: remembered, or `verify(previous)`'s, then remembered. */
  get(
    socket: PeerSocket,
    bundleVersion: number,
    now: number,
    verify: (previous: V | undefined) => Verified<V>,
  ): V {
    const finished = socket.getFinished?.();
    const known = this.remembered.get(socket);
    if (
      known &&
      known.bundleVersion === bundleVersion &&
      now <= known.validUntil &&
      sameBytes(known.finished, finished)
    ) {
      return known.value;
    }
    const { value, validUntil } = verify(known?.value);
    this.remembered.set(socket, { value, validUntil, bundleVersion, finished });
    return value;
  }
}

function sameBytes(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.equals(b));
}
