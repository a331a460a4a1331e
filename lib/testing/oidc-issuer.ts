/**
 * A stand-in OpenID Connect issuer for tests: discovery and a key set (JWKS) over real HTTPS
 * with its own CA, tokens minted on demand with jose, key rotation, request counts and faults,
 * so that OIDC authentication can be tested end to end without an identity provider.
 */
import { listeningSwitch } from './listening-switch.js';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { Socket } from 'node:net';
import type { CryptoKey, JWK } from 'jose';
import { importJose } from '../authn/oidc/jose.js';
import { createCA, mintServingCert } from './pki.js';
import { listenOnLoopback } from './loopback.js';

/** The algorithms an issuer's keys can sign with (those kube-apiserver allows). */
export type OidcSigningAlgorithm =
  'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';

/** Options of {@link startOidcIssuer}. */
export interface StandInOidcIssuerOptions {
  /** What the issuer's keys sign with. Default: `'RS256'`. */
  algorithm?: OidcSigningAlgorithm;
  /** The `aud` of minted tokens, unless their claims say otherwise. Default: `'kubernetes'`. */
  clientID?: string;
  /** A path after the host in the issuer URL, such as `'/realms/test'`. Default: none. */
  path?: string;
}

/** Options of {@link StandInOidcIssuer.mintToken}. */
export interface MintTokenOptions {
  /** Seconds from now to `exp`; negative for a token that has expired. Default: `3600`. */
  expiresIn?: number;
  /** The `kid` header. Default: the current key's. */
  kid?: string;
  /** The `alg` header; must suit the issuer's keys (`'RS384'` for RSA keys). Default: the issuer's algorithm. */
  alg?: string;
  /** Signed with a key the key set does not hold, under the current `kid` (a bad signature). Default: `false`. */
  forged?: boolean;
}

/** The issuer's two endpoints. */
export type OidcEndpoint = 'discovery' | 'jwks';

/**
 * A failure to inject. `on` picks the endpoint (absent: both); `times` limits it to the next N
 * requests it applies to (absent: until cleared).
 */
export type OidcIssuerFault =
  /**
   * The issuer stops listening and drops its connections, so connections are refused until
   * the fault is cleared or replaced. Await `setFault` for this fault and the call that ends it.
   */
  | { type: 'refuse' }
  /** No answer at all (until the client gives up or the issuer closes). */
  | { type: 'hang'; on?: OidcEndpoint; times?: number }
  /** The right answer, `delayMs` late. */
  | { type: 'slow'; delayMs: number; on?: OidcEndpoint; times?: number }
  /** 200 with a body that is not JSON. */
  | { type: 'malformed'; on?: OidcEndpoint; times?: number }
  /** This HTTP status, with a short text body. */
  | { type: 'status'; status: number; on?: OidcEndpoint; times?: number };

/** A running stand-in issuer. */
export interface StandInOidcIssuer {
  /** The issuer URL (`https://127.0.0.1:<port>` and the path): `iss`, and `issuerURL` to configure. */
  readonly url: string;
  /** PEM of the CA that signed the issuer's serving certificate: the `ca` to configure. */
  readonly ca: string;
  /** The default `aud` of minted tokens: the `clientID` to configure. */
  readonly clientID: string;
  /** The ID of the key tokens are signed with now. */
  readonly kid: string;
  /** Requests received so far, by endpoint (faulted ones included). */
  readonly requests: { readonly discovery: number; readonly jwks: number };
  /** Sets both counts back to zero. */
  resetRequests(): void;
  /**
   * A signed JWT: `iss`, `aud`, `sub` (`'test-user'`), `iat` and `exp` by default, overridden by
   * `claims` (a claim set to `undefined` is left out).
   *
   * @example await issuer.mintToken({ sub: 'alice', groups: ['devs'] })
   */
  mintToken(claims?: Record<string, unknown>, options?: MintTokenOptions): Promise<string>;
  /**
   * A new signing key with a new ID; the key set then holds only it, or also the previous
   * one with `keepPrevious`. Returns the new key ID.
   */
  rotateKeys(options?: { keepPrevious?: boolean }): Promise<string>;
  /** Injects a fault, or clears it when called without one. */
  setFault(fault?: OidcIssuerFault): Promise<void>;
  /** Stops listening and destroys every connection, hung ones included. */
  close(): Promise<void>;
}

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

/** Starts a stand-in OpenID Connect issuer on 127.0.0.1 (free port). */
export async function startOidcIssuer(
  options: StandInOidcIssuerOptions = {},
): Promise<StandInOidcIssuer> {
  const jose = await importJose();
  const algorithm = options.algorithm ?? 'RS256';
  const clientID = options.clientID ?? 'kubernetes';
  const path = (options.path ?? '').replace(/\/+$/, '');
  if (path !== '' && !path.startsWith('/')) {
    throw new TypeError('startOidcIssuer: path must start with "/"');
  }
  const newKey = async (): Promise<SigningKey> => {
    const { publicKey, privateKey } = await jose.generateKeyPair(algorithm, { extractable: true });
    const kid = randomUUID();
    return {
      kid,
      privateKey,
      jwk: { ...(await jose.exportJWK(publicKey)), kid, alg: algorithm, use: 'sig' },
    };
  };
  let published: SigningKey[] = [await newKey()];
  let forgery: SigningKey | undefined;

  const authority = await createCA({ commonName: 'stand-in OIDC issuer CA' });
  const serving = await mintServingCert({
    ca: authority,
    hosts: ['127.0.0.1', 'localhost'],
    commonName: 'oidc-issuer',
  });

  const requests = { discovery: 0, jwks: 0 };
  let fault: OidcIssuerFault | undefined;
  let faultRemaining = Infinity;
  const takeFault = (endpoint: OidcEndpoint): OidcIssuerFault | undefined => {
    if (!fault || fault.type === 'refuse' || (fault.on && fault.on !== endpoint)) return undefined;
    const taken = fault;
    faultRemaining -= 1;
    if (faultRemaining <= 0) fault = undefined;
    return taken;
  };

  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer({ key: serving.key, cert: serving.cert }, (req, res) =>
    handle(req, res),
  );
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', () => undefined);

  const port = await listenOnLoopback(server);
  const url = `https://127.0.0.1:${port}${path}`;
  const discoveryPath = `${path}/.well-known/openid-configuration`;
  const jwksPath = `${path}/keys`;

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const requested = (req.url ?? '/').split('?')[0];
    const endpoint: OidcEndpoint | undefined =
      requested === discoveryPath ? 'discovery' : requested === jwksPath ? 'jwks' : undefined;
    if (endpoint === undefined || req.method !== 'GET') {
      send(res, 404, 'text/plain', 'not found');
      return;
    }
    requests[endpoint] += 1;
    // What the endpoint serves now, when it is answered (a slow answer has the keys of then).
    const body = (): string =>
      endpoint === 'discovery'
        ? JSON.stringify({
            issuer: url,
            jwks_uri: `https://127.0.0.1:${port}${jwksPath}`,
            response_types_supported: ['id_token'],
            subject_types_supported: ['public'],
            id_token_signing_alg_values_supported: [algorithm],
          })
        : JSON.stringify({ keys: published.map((key) => key.jwk) });
    const injected = takeFault(endpoint);
    switch (injected?.type) {
      case 'hang':
        return;
      case 'malformed':
        return send(res, 200, 'application/json', '{"issuer":"https://');
      case 'status':
        return send(
          res,
          injected.status,
          'text/plain',
          `stand-in fault: status ${injected.status}`,
        );
      case 'slow': {
        const timer = setTimeout(() => {
          timers.delete(timer);
          send(res, 200, 'application/json', body());
        }, injected.delayMs);
        timers.add(timer);
        return;
      }
      default:
        send(res, 200, 'application/json', body());
    }
  }

  let closing: Promise<void> | undefined;
  const listen = listeningSwitch(server, port, sockets, () => closing !== undefined);

  return {
    url,
    ca: authority.cert,
    clientID,
    get kid() {
      return (published.at(-1) as SigningKey).kid;
    },
    get requests() {
      return { ...requests };
    },
    resetRequests() {
      requests.discovery = 0;
      requests.jwks = 0;
    },
    async mintToken(claims = {}, mint = {}) {
      const current = published.at(-1) as SigningKey;
      forgery ??= mint.forged ? await newKey() : undefined;
      const signer = mint.forged ? (forgery as SigningKey) : current;
      const now = Math.floor(Date.now() / 1000);
      const payload = {
        iss: url,
        aud: clientID,
        sub: 'test-user',
        iat: now,
        exp: now + (mint.expiresIn ?? 3600),
        ...claims,
      };
      const alg = mint.alg ?? algorithm;
      // WebCrypto keys are bound to one hash: another algorithm needs the key imported for it.
      const key =
        alg === algorithm
          ? signer.privateKey
          : await jose.importJWK(await jose.exportJWK(signer.privateKey), alg);
      return new jose.SignJWT(payload)
        .setProtectedHeader({ alg, kid: mint.kid ?? current.kid, typ: 'JWT' })
        .sign(key);
    },
    async rotateKeys(rotation = {}) {
      const next = await newKey();
      published = rotation.keepPrevious ? [...published, next] : [next];
      return next.kid;
    },
    setFault(next?: OidcIssuerFault) {
      fault = next;
      faultRemaining = next !== undefined && 'times' in next ? (next.times ?? Infinity) : Infinity;
      return listen(next?.type !== 'refuse');
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
