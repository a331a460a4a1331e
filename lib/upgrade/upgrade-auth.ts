import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Middleware } from '../contracts.js';
import { socketResponse } from './socket-response.js';

/**
 * Guards HTTP upgrades (WebSocket `exec`, `attach`, `portForward`), which Express middleware
 * never sees, with the same middleware as ordinary requests (e.g. the one `kubeletAuth` returns):
 * same authentication — including the WebSocket subprotocol token —, same attributes, same
 * SubjectAccessReviews. A refused upgrade is answered on the raw socket (401/403/…, the kubelet's
 * bodies) before any handshake, and the socket is closed; the promise then resolves `false`, as
 * it does when the client goes away first. When allowed, it resolves `true` with `req.user` set,
 * and the handshake is yours to do.
 *
 * Node removes its own `'error'` listener from upgrade sockets, so a client's reset would be an
 * uncaught exception. Call the guard synchronously in the `'upgrade'` listener: it adds a
 * listener that destroys the socket on error and stays for the socket's whole life, the
 * handshake after an allowed review included.
 *
 * @example
 * const guard = kubeletUpgradeAuth(auth);
 * server.on('upgrade', async (req, socket, head) => {
 *   if (await guard(req, socket)) wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
 * });
 */
export function kubeletUpgradeAuth(
  middleware: Middleware,
): (req: IncomingMessage, socket: Duplex) => Promise<boolean> {
  return function guardUpgrade(req, socket) {
    if (!socket.listeners('error').includes(destroyOnError)) socket.on('error', destroyOnError);
    // A client already gone gets no review and no answer.
    if (socket.destroyed) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const res = socketResponse(socket);
      let settled = false;
      const done = (allowed: boolean): void => {
        if (settled) return;
        settled = true;
        socket.off('close', refused);
        socket.off('finish', refused);
        // Allowed, but the client left while the last review ran: nothing to hand over.
        resolve(allowed && !socket.destroyed);
      };
      // Answered on the socket (401/403/400/500), or the client went away while reviews ran.
      const refused = (): void => done(false);
      socket.once('close', refused);
      socket.once('finish', refused);
      try {
        middleware(req, res, (error?: unknown) => {
          if (error === undefined) return done(true);
          res.statusCode = 500;
          res.end('Internal Server Error');
          done(false);
        });
      } catch {
        res.statusCode = 500;
        res.end('Internal Server Error');
        done(false);
      }
      if (res.headersSent) done(false);
    });
  };
}

/** A reset or a failed write: the socket is of no further use, and the error is no one's to handle. */
function destroyOnError(this: Duplex): void {
  this.destroy();
}
