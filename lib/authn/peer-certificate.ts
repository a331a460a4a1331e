import { X509Certificate } from 'node:crypto';
import type { Verified } from '../contracts.js';

/** The parts of a `tls.TLSSocket` certificate authentication uses. */
export interface PeerSocket {
  getPeerCertificate(detailed: true): PeerCertificate;
  getFinished?(): Buffer | undefined;
  getProtocol?(): string | null;
  /** Whether the TLS session was resumed (its certificate chain is then the leaf alone). */
  isSessionReused?(): boolean;
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

/** Certificates sent (leaf first), parsed, up to the first that does not parse. */
export function parseChain(sent: readonly Buffer[]): X509Certificate[] {
  const chain: X509Certificate[] = [];
  for (const der of sent) {
    try {
      chain.push(new X509Certificate(der));
    } catch {
      break;
    }
  }
  return chain;
}

/**
 * The DER bytes of the leaf and of what the client sent after it (leaf first), at most 16,
 * ending where Node's chain repeats itself (a self-signed certificate is its own issuer).
 */
export function sentCertificates(socket: PeerSocket): Buffer[] {
  const sent: Buffer[] = [];
  let current: PeerCertificate | undefined = socket.getPeerCertificate(true);
  while (current?.raw && sent.length < 16) {
    const der = current.raw;
    if (sent.some((seen) => seen.equals(der))) break;
    sent.push(der);
    current = current.issuerCertificate;
  }
  return sent;
}

/** How long a refused certificate's verdict holds: until it becomes valid, or a minute. */
export function refusalValidUntil(leaf: X509Certificate, now: number): number {
  const notBefore = Date.parse(leaf.validFrom);
  return notBefore > now ? notBefore : now + 60_000;
}

interface Remembered<V> extends Verified<V> {
  bundleVersion: number;
  /**
   * The handshake it belongs to (a renegotiation may bring another certificate), or `undefined`
   * on TLS 1.3, which has no renegotiation: the certificate cannot change on the connection.
   */
  finished: Buffer | undefined;
  /** Whether the connection may renegotiate (below TLS 1.3, or a version not known). */
  renegotiable: boolean;
}

/**
 * One verdict per TLS connection: keep-alive clients send many requests on one (an HTTP/2 client
 * many streams), and the certificate is verified for the first only — again when the CA bundle
 * changes (its version), the verdict's time runs out, or (below TLS 1.3) a renegotiation brings
 * another handshake.
 */
export class ConnectionVerdicts<V> {
  private readonly remembered = new WeakMap<object, Remembered<V>>();

  /**
   * The verdict for `connection` (see `connectionOf`), whose certificate `socket` shows:
   * remembered, or `verify(previous, socket, now)`'s, then remembered.
   */
  get<S extends PeerSocket>(
    connection: object,
    socket: S,
    bundleVersion: number,
    now: number,
    verify: (previous: V | undefined, socket: S, now: number) => Verified<V>,
  ): V {
    const known = this.remembered.get(connection);
    if (
      known &&
      known.bundleVersion === bundleVersion &&
      now <= known.validUntil &&
      (!known.renegotiable || sameBytes(known.finished, socket.getFinished?.()))
    ) {
      return known.value;
    }
    const renegotiable = socket.getProtocol?.() !== 'TLSv1.3';
    const finished = renegotiable ? socket.getFinished?.() : undefined;
    const { value, validUntil } = verify(known?.value, socket, now);
    this.remembered.set(connection, { value, validUntil, bundleVersion, finished, renegotiable });
    return value;
  }
}

function sameBytes(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.equals(b));
}
