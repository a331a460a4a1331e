import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';

/** How long a client gets to read an answer after the server closed its side (Go's wait too). */
const LINGER_MS = 500;

/** How much more of a body nobody reads is taken off the wire to keep the connection (as Go)… */
const DRAIN_BYTES = 256 * 1024;

/** …and for how long (Go's is bounded by the server's read timeout). */
const DRAIN_MS = 1000;

/** How often the bytes read are checked while no body data comes (chunk sizes and extensions). */
const CHECK_MS = 20;

/** Requests already armed: with a server-wide listener and the package's own call, one is added. */
const armed = new WeakSet<IncomingMessage>();

/**
 * Once the answer to `req` is sent, bounds what is read of a request body still arriving and
 * read by no one, where Node reads the rest and drops it, without limit, to keep the connection.
 * As Go's server (the kubelet's) does, up to 256 KiB more is read off the wire (chunk sizes,
 * extensions and trailers included), so that a small body keeps the connection; here also for at
 * most a second. Past either, the connection is closed: the client gets the answer, then the
 * end of the connection, and its socket goes half a second later. Meanwhile nothing else is
 * written: no second answer (Node's 408 on its request timeout, or its 400 for a bad body). A
 * handler that reads the body itself after answering keeps it. Call it before the answer is
 * sent. HTTP/1.x only: over HTTP/2, Node resets the stream once the answer is sent.
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
    // A handler that answered first and reads on: the body is its own, as Node leaves it too.
    if (req.readableFlowing === true && req.listenerCount('data') > 0) return;
    drainOrClose(req);
  });
}

function drainOrClose(req: IncomingMessage): void {
  const socket = req.socket;
  const start = socket.bytesRead;
  const over = (): boolean => socket.bytesRead - start > DRAIN_BYTES;
  const check = (): void => {
    if (over()) close();
  };
  const every = setInterval(check, CHECK_MS);
  every.unref();
  const grace = setTimeout(() => close(), DRAIN_MS);
  grace.unref();
  // What Node would write meanwhile (a 408, a 400 for a bad body) stays here and is never sent.
  socket.cork();
  const stop = (): void => {
    clearInterval(every);
    clearTimeout(grace);
    req.off('data', check);
    req.off('end', ended);
    socket.off('close', stop);
  };
  const ended = (): void => {
    if (over()) return close();
    stop();
    socket.uncork();
  };
  let closing = false;
  const close = (): void => {
    if (closing) return;
    closing = true;
    stop();
    req.pause();
    socket.pause();
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once('close', () => {
      clearTimeout(timer);
      // A reader that came later gets an end, not a wait for ever.
      req.destroy();
    });
  };
  req.on('data', check);
  req.once('end', ended);
  socket.once('close', stop);
  // A request the app paused would otherwise be left to Node, which reads it to its end.
  req.resume();
}

/** Whether `req` announced a body: HTTP/2 by its frames, HTTP/1.x by its headers. */
export function hasBody(req: IncomingMessage | Http2ServerRequest): boolean {
  // HTTP/2 frames the body itself: there is one unless the headers ended the stream.
  if (req.httpVersionMajor === 2 && 'stream' in req) return !req.stream.endAfterHeaders;
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
