import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { DEFAULT_CACHE_SIZE, DEFAULT_SESSION_CHAIN_BYTES } from '../defaults.js';
import { sentCertificates, type PeerSocket } from './peer-certificate.js';

/** Options of {@link SessionChains}. */
export interface SessionChainsOptions {
  /** Most leaf certificates whose intermediates are kept; the least recently used goes first. Default: 10000. */
  maxEntries?: number;
  /** Most bytes of intermediates (DER) kept, all leaves together. Default: 32 MiB. */
  maxBytes?: number;
}

/**
 * The intermediates a client certificate came with on a full TLS handshake, for the sessions
 * resumed from it. A resumed session shows the client's leaf certificate alone (the rest of the
 * chain is not part of the session), so a leaf issued by an intermediate CA would no longer
 * verify there: its connections would be refused on every resumption.
 *
 * Nothing here is a verdict. The leaf and its remembered intermediates are verified again like
 * any chain, against the CA bundle and the time of the request, so a session resumed after its
 * CA left the bundle or after its certificate expired is refused. Only a chain that verified is
 * remembered (a client without a valid certificate cannot fill the cache), keyed by the leaf:
 * intermediates only help build a path to a trusted root, so those one connection sent with a
 * leaf serve every session of that leaf. Bounded; a leaf no longer remembered is verified alone,
 * which fails closed.
 */
export class SessionChains {
  private readonly chains: LRUCache<string, readonly Buffer[]>;

  constructor(options: SessionChainsOptions = {}) {
    this.chains = new LRUCache<string, readonly Buffer[]>({
      max: options.maxEntries ?? DEFAULT_CACHE_SIZE,
      maxSize: options.maxBytes ?? DEFAULT_SESSION_CHAIN_BYTES,
      // Never empty: only a leaf sent with intermediates is remembered.
      sizeCalculation: (intermediates) => intermediates.reduce((sum, der) => sum + der.length, 0),
    });
  }

  /**
   * The certificates the client sent for this connection, leaf first: as the socket shows them,
   * or, on a resumed session that shows the leaf alone, the leaf and the intermediates it came
   * with on a full handshake.
   */
  certificates(socket: PeerSocket): Buffer[] {
    const sent = sentCertificates(socket);
    const leaf = sent[0];
    if (leaf === undefined || sent.length > 1 || socket.isSessionReused?.() !== true) return sent;
    const intermediates = this.chains.get(keyOf(leaf));
    return intermediates ? [leaf, ...intermediates] : sent;
  }

  /**
   * Remembers the intermediates that came after the leaf, once `sent` (as {@link certificates}
   * returned it for `socket`) has verified. A resumed session's certificates are not taken.
   */
  remember(socket: PeerSocket, sent: readonly Buffer[]): void {
    const leaf = sent[0];
    if (leaf === undefined || sent.length < 2 || socket.isSessionReused?.() === true) return;
    this.chains.set(keyOf(leaf), sent.slice(1));
  }
}

function keyOf(leaf: Buffer): string {
  return createHash('sha256').update(leaf).digest('base64');
}
