import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { invalidOption } from './option-errors.js';
import { hasBody } from './unread-body.js';

/** A server that emits `'checkContinue'`: Node's HTTP and HTTPS servers, and HTTP/2's. */
export interface ContinueServer<Req, Res> {
  on(event: 'checkContinue', listener: (req: Req, res: Res) => void): unknown;
  on(event: 'newListener', listener: (event: string | symbol) => void): unknown;
  emit(event: 'request', req: Req, res: Res): boolean;
  listeners(event: 'checkContinue'): unknown[];
}

/** The listener each server was given, to tell it from others and to find it gone. */
const given = new WeakMap<object, unknown>();

/**
 * Makes `server` send `100 Continue`, to a request that asks for it (`Expect: 100-continue`),
 * only once something starts reading the request's body, as Go's server (the kubelet's) does.
 * Node sends it at once, before any middleware runs, so a client about to be refused is invited
 * to upload its body first. With this, a client refused at once (the package's own 401 and 403)
 * gets its answer without the invitation, and over HTTP/1.1 the connection is closed after it
 * (`Connection: close`), as Go closes it.
 *
 * Reading means adding a `'data'` or `'readable'` listener (a body parser, `pipe`, `for await`)
 * or resuming the request to drain it. Handlers that read get the body as before, unless they
 * set the answer's headers first (`writeHead`, `flushHeaders`, a first `write`): no invitation
 * can follow those, so only a client that stops waiting sends the body. Read first, then
 * answer. Express's and Connect's default error handler (and their 404) drains the body before
 * it answers, so a refusal passed to `next(error)` invites the upload, as without this. A
 * request without a body gets `100 Continue` at once, as Node sends it.
 *
 * It is independent of {@link express-kubelet-auth!closeIfBodyUnread}, which bounds what is
 * read of a client that sends its body anyway: use both. Call it once, when the server is made;
 * calling it again on the same server does nothing (or puts its listener back, if it was
 * removed). It is the server's `'checkContinue'` listener: it throws a `KubeletAuthError`
 * (`ERR_INVALID_OPTION`) if the server has another one, and so does the `on` that adds another
 * later, since each would emit `'request'` and the app would answer twice.
 *
 * @example
 * continueWhenBodyRead(https.createServer(tlsOptions, app));
 * // Fastify: continueWhenBodyRead(fastify.server);
 */
export function continueWhenBodyRead<
  Req extends IncomingMessage | Http2ServerRequest,
  Res extends ServerResponse | Http2ServerResponse,
>(server: ContinueServer<Req, Res>): void {
  const ours = (): boolean => server.listeners('checkContinue').includes(given.get(server));
  if (ours()) return;
  if (server.listeners('checkContinue').length > 0) throw secondListener();
  if (!given.has(server)) {
    // One added next to it would emit 'request' too: its `on` throws instead.
    server.on('newListener', (event) => {
      if (event === 'checkContinue' && ours()) throw secondListener();
    });
  }
  const listener = (req: Req, res: Res): void => {
    if (hasBody(req)) continueOnRead(req, res);
    else res.writeContinue();
    server.emit('request', req, res);
  };
  given.set(server, listener);
  server.on('checkContinue', listener);
}

function secondListener(): Error {
  return invalidOption(
    "continueWhenBodyRead: the server has its own 'checkContinue' listener; keep one of the two",
  );
}

/** Sends `100 Continue` once something starts reading `req`, unless its answer has begun. */
function continueOnRead(
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
): void {
  const invite = (): void => {
    req.off('newListener', reading);
    req.off('resume', invite);
    // Once the answer's headers are set, an invitation would come after them (Node.js 24
    // throws): the body is then drained, or read by a client that stops waiting.
    if (!res.headersSent) res.writeContinue();
  };
  const reading = (event: string | symbol): void => {
    if (event === 'data' || event === 'readable') invite();
  };
  req.on('newListener', reading);
  req.on('resume', invite);
}
