import type { IncomingMessage, ServerResponse } from 'node:http';

/** How long a client gets to read an answer after the server closed its side, as Go's server waits. */
const LINGER_MS = 500;

/** Requests already given the close, so that a server-wide call and the package's own add one. */
const armed = new WeakSet<IncomingMessage>();

/**
 * Once the answer to `req` is finished, closes the connection if the request's body is still
 * arriving, instead of reading the rest of it (Node reads and drops a body nobody read, without
 * limit, to keep the connection): the client's side gets the answer, then the end of the
 * connection, and its socket goes half a second later. This is what the kubelet's Go server
 * does with a large body its handler did not read, so a refused client cannot make the server
 * take in an endless body. A body already in full keeps the connection. HTTP/1.x only: HTTP/2's
 * flow control already bounds what a stream may send.
 *
 * The package's own answers (401, 403, …) do this. Use it for every answer of a server with
 * `server.on('request', closeIfBodyUnread)`.
 */
export function closeIfBodyUnread(req: IncomingMessage, res: ServerResponse): void {
  if (req.httpVersionMajor !== 1 || req.complete || !hasBody(req) || armed.has(req)) return;
  armed.add(req);
  res.once('finish', () => {
    const socket = req.socket;
    if (req.complete) return;
    // Whatever is left on the wire must not be read as another request.
    req.pause();
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
