import type { IncomingMessage, ServerResponse } from 'node:http';

/** How long a client gets to read an answer after the server closed its side (Go's wait too). */
const LINGER_MS = 500;

/** How much more of an unread body is read to keep the connection (Go's server reads as much)… */
const DRAIN_BYTES = 256 * 1024;

/** …and for how long (Go's is bounded by the server's read timeout). */
const DRAIN_MS = 1000;

/** Requests already armed: with a server-wide listener and the package's own call, one is added. */
const armed = new WeakSet<IncomingMessage>();

/**
 * Once the answer to `req` is sent, bounds what is read of a request body still arriving, where
 * Node reads the rest and drops it, without limit, to keep the connection. As Go's server (the
 * kubelet's) does, up to 256 KiB more is read, so that a small body keeps the connection; here
 * also for at most a second. Past either, the connection is closed: the client gets the answer,
 * then the end of the connection, and its socket goes half a second later. (So a slow body never
 * meets Node's request timeout, which would answer a second time, with a 408.) Call it before the answer is sent. HTTP/1.x only: over
 * HTTP/2, Node resets the stream once the answer is sent.
 *
 * The package's own answers (401, 403, …) do this already; a server-wide listener does it for
 * every answer, the app's own and passport's included.
 *
 * @example
 * https.createServer(tlsOptions, app).on('request', closeIfBodyUnread);
 * // Fastify: fastify.server.on('request', closeIfBodyUnread);
 */
export function closeIfBodyUnread(req: IncomingMessage, res: ServerResponse): void {
  if (req.httpVersionMajor !== 1 || req.complete || !hasBody(req) || armed.has(req)) return;
  armed.add(req);
  // Before Node's own listener, which would read the rest without limit.
  res.prependListener('finish', () => {
    if (req.complete) return;
    let drained = 0;
    const count = (chunk: Buffer): void => {
      drained += chunk.length;
      if (drained > DRAIN_BYTES) close();
    };
    const grace = setTimeout(() => close(), DRAIN_MS);
    grace.unref();
    const stop = (): void => {
      clearTimeout(grace);
      req.off('data', count);
    };
    const close = (): void => {
      stop();
      req.pause();
      // Whatever is left on the wire must not be read as another request.
      const socket = req.socket;
      socket.end();
      const timer = setTimeout(() => socket.destroy(), LINGER_MS);
      timer.unref();
      socket.once('close', () => clearTimeout(timer));
    };
    req.on('data', count);
    req.once('end', stop);
  });
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
