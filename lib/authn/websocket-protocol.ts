/**
 * The bearer token Kubernetes WebSocket clients send in `Sec-WebSocket-Protocol` (browsers
 * cannot set `Authorization` on a WebSocket), read as k8s.io/apiserver's `websocket` protocol
 * authenticator does.
 */

const PREFIX = 'base64url.bearer.authorization.k8s.io.';

/**
 * A WebSocket upgrade: `Upgrade: websocket` (any case) and a `Connection` header that lists
 * `upgrade` among its comma-separated tokens.
 */
export function isWebSocketRequest(req: {
  headers: Record<string, string | string[] | undefined>;
}): boolean {
  const upgrade = req.headers.upgrade;
  const connection = req.headers.connection;
  if (typeof upgrade !== 'string' || upgrade.toLowerCase() !== 'websocket') return false;
  const tokens = (
    Array.isArray(connection) ? connection.join(',') : (connection ?? '')
  ).toLowerCase();
  return tokens.split(',').some((t) => t.trim() === 'upgrade');
}

/** What the subprotocol header says: no token, a token (and the protocols left), or an error. */
export type ProtocolToken =
  | { kind: 'none' }
  | { kind: 'token'; token: string; remaining: string }
  | { kind: 'error'; reason: string };

/**
 * Reads the token from every `Sec-WebSocket-Protocol` value (comma-separated, trimmed): the entry
 * `base64url.bearer.authorization.k8s.io.<base64url, no padding>` carries it. Errors, as upstream:
 * more than one such entry; bad base64url; a token that is not UTF-8; a token with no other
 * subprotocol beside it. An empty decoded token is no token.
 */
export function readProtocolToken(value: string | string[] | undefined): ProtocolToken {
  if (value === undefined) return { kind: 'none' };
  // An empty entry (`a,,b`, a trailing comma) is another subprotocol, as upstream counts it.
  const entries = (Array.isArray(value) ? value : [value])
    .flatMap((v) => v.split(','))
    .map((e) => e.trim());
  const carrying = entries.filter((e) => e.startsWith(PREFIX));
  if (carrying.length === 0) return { kind: 'none' };
  if (carrying.length > 1) {
    return { kind: 'error', reason: 'multiple base64.bearer.authorization tokens specified' };
  }
  const encoded = (carrying[0] as string).slice(PREFIX.length);
  if (!/^[A-Za-z0-9_-]*$/.test(encoded) || encoded.length % 4 === 1) {
    return { kind: 'error', reason: 'invalid base64.bearer.authorization token encoding' };
  }
  const bytes = Buffer.from(encoded, 'base64url');
  let token: string;
  try {
    token = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { kind: 'error', reason: 'invalid base64.bearer.authorization token' };
  }
  if (token === '') return { kind: 'none' };
  // One other subprotocol must remain, to echo back once the token's entry is removed.
  const remaining = entries.filter((e) => !e.startsWith(PREFIX));
  if (remaining.length === 0) return { kind: 'error', reason: 'missing additional subprotocol' };
  return { kind: 'token', token, remaining: remaining.join(',') };
}
