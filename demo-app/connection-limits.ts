/**
 * Bounds on how long a connection may hold the mock kubelet's resources without doing its part,
 * so that unauthenticated clients cannot pile up idle or half-sent connections. Node's own
 * timers start only at a request's first byte, it invites every `Expect: 100-continue` body
 * before any check, and after an answer it reads an unread request body to its end; the
 * kubelet's Go server does none of these.
 */
import type { IncomingMessage } from 'node:http';
import type { Server } from 'node:https';
import { closeIfBodyUnread, continueWhenBodyRead } from 'express-kubelet-auth';

/** Connection timeouts, in milliseconds. */
export interface ConnectionTimeouts {
  /** A TLS handshake must finish within this of the TCP connection. Default: 10 s. */
  handshakeMs?: number;
  /**
   * A connection with no request in progress — after its handshake, before its first request's
   * headers are in, or between two requests — is closed after this. Default: 90 s, the
   * kubelet's `IdleTimeout`.
   */
  idleMs?: number;
  /** A request's headers must be in within this of its first byte. Default: 60 s. */
  headersMs?: number;
  /** A whole request, body included, must be in within this of its first byte. Default: 5 min. */
  requestMs?: number;
}

export const DEFAULT_CONNECTION_TIMEOUTS: Readonly<Required<ConnectionTimeouts>> = {
  handshakeMs: 10_000,
  idleMs: 90_000,
  headersMs: 60_000,
  requestMs: 300_000,
};

/** The defaults with `given` applied; throws a `TypeError` naming a bad value. */
export function resolveConnectionTimeouts(
  given: ConnectionTimeouts = {},
): Required<ConnectionTimeouts> {
  const timeouts = { ...DEFAULT_CONNECTION_TIMEOUTS };
  for (const key of Object.keys(timeouts) as (keyof ConnectionTimeouts)[]) {
    const value = given[key];
    if (value === undefined) continue;
    if (!Number.isFinite(value) || value <= 0) {
      throw new TypeError(`${key}: expected a number of milliseconds above zero, got ${value}`);
    }
    timeouts[key] = value;
  }
  if (timeouts.headersMs > timeouts.requestMs) {
    throw new TypeError('headersMs: must not exceed requestMs');
  }
  return timeouts;
}

/** The `https.createServer` options that carry the timeouts Node applies itself. */
export function serverTimeoutOptions(timeouts: Required<ConnectionTimeouts>): {
  handshakeTimeout: number;
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
} {
  return {
    handshakeTimeout: timeouts.handshakeMs,
    headersTimeout: timeouts.headersMs,
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.idleMs,
  };
}

/**
 * Closes connections that send no request within `idleMs` of their handshake, and connections
 * whose answer went out while their request body was still arriving (never a second answer,
 * such as Node's 408 once `requestMs` has passed, and no reading of a body nobody wants). Sends
 * `100 Continue` only to a request whose body a handler reads.
 */
export function limitConnections(server: Server, timeouts: Required<ConnectionTimeouts>): void {
  server.keepAliveTimeout = timeouts.idleMs;
  const waiting = new WeakMap<object, NodeJS.Timeout>();
  server.on('secureConnection', (socket) => {
    const timer = setTimeout(() => socket.destroy(), timeouts.idleMs);
    timer.unref();
    waiting.set(socket, timer);
    socket.once('close', () => clearTimeout(timer));
  });
  const started = (req: IncomingMessage): void => {
    clearTimeout(waiting.get(req.socket));
    waiting.delete(req.socket);
  };
  server.prependListener('request', started);
  server.prependListener('upgrade', started);
  server.on('request', closeIfBodyUnread);
  continueWhenBodyRead(server);
}
