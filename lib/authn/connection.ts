import type { AuthRequest } from '../contracts.js';

/**
 * The connection `req` came on, for what is remembered per connection (a token's key, a client
 * certificate's verdict): the HTTP/2 session of a compatibility request, whose `socket` is a new
 * proxy for each stream, else the socket.
 */
export function connectionOf(req: AuthRequest): object | undefined {
  const { session } = (req as { stream?: { session?: unknown } }).stream ?? {};
  if (typeof session === 'object' && session !== null) return session;
  const { socket } = req;
  return typeof socket === 'object' && socket !== null ? socket : undefined;
}
