import { replaceHeader } from '../headers.js';
import type { AuthnOutcome, AuthRequest, RequestAuthenticator } from '../contracts.js';
import { NO_CREDENTIALS } from './request-authenticator.js';
import type { BearerTokenAuthenticator } from './token.js';
import { isWebSocketRequest, readProtocolToken } from './websocket-protocol.js';

/**
 * The kubelet's third authenticator: on a WebSocket upgrade, the bearer token carried in
 * `Sec-WebSocket-Protocol` (`base64url.bearer.authorization.k8s.io.<token>`), checked with the
 * same cached TokenReview as the `Authorization` header. On success the token's entry is removed
 * from the header the app sees; a malformed entry is a refusal (401), never anonymous.
 */
export class WebSocketTokenAuthenticator implements RequestAuthenticator {
  constructor(private readonly tokens: BearerTokenAuthenticator) {}

  authenticateRequest(req: AuthRequest): AuthnOutcome | Promise<AuthnOutcome> {
    if (!isWebSocketRequest(req)) return NO_CREDENTIALS;
    const found = readProtocolToken(req.headers['sec-websocket-protocol']);
    if (found.kind === 'none') return NO_CREDENTIALS;
    if (found.kind === 'error') return this.tokens.refuse(req, found.reason);
    return this.tokens.checkToken(req, found.token, (accepted) =>
      replaceProtocolHeader(accepted, found.remaining),
    );
  }
}

/** Leaves only the other subprotocols in the request (every view of its headers alike). */
function replaceProtocolHeader(req: AuthRequest, remaining: string): void {
  replaceHeader(req, 'sec-websocket-protocol', remaining);
}
