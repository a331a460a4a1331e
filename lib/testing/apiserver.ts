/**
 * A stand-in kube-apiserver for tests: real HTTPS on 127.0.0.1 with its own CA, callers
 * authenticated the way kube-apiserver does (client certificate or bearer token), and the two
 * review APIs a kubelet-style authenticator/authorizer calls — TokenReview and
 * SubjectAccessReview — in their exact wire format, plus ConfigMaps to get, list and watch (the
 * cluster's authentication configuration). Faults can be injected at any time.
 */
import { listeningSwitch } from './listening-switch.js';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { KubeConfig } from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import { stringify } from 'yaml';
import { importClientNode, requireClientNode } from '../apiserver/client-node.js';
import type { ReviewClient } from '../apiserver/reviews.js';
import { createCA, mintClientCert, mintServingCert } from './pki.js';
import type { CertificateAuthority } from './pki.js';
import { CompiledPolicy } from './policy.js';
import type { PolicyDecision, StandInPolicy, SubjectAccessReviewSpec } from './policy.js';
import {
  invalidMessage,
  reviewDecodeError,
  subjectAccessReviewCauses,
} from './review-validation.js';
import { standInReviewClient, type StandInReviewClientOptions } from './review-client.js';
import { HttpError, sendJson, sendRaw, sendStatus } from './http-replies.js';
import { ConfigMapStore, type ConfigMapAuthorizer, type ConfigMapRequest } from './config-maps.js';
import { listenOnLoopback } from './loopback.js';

/** The user a token stands for, as TokenReview's `status.user` reports it. */
export interface StandInUser {
  username: string;
  uid?: string;
  /** Reported exactly as given (kube-apiserver would add `system:authenticated`; add it if needed). */
  groups?: string[];
  extra?: Record<string, string[]>;
  /**
   * Audiences the token is valid for. Absent: any audience. Present: the review succeeds only
   * when they intersect the requested audiences (or the server's), and reports the intersection.
   */
  audiences?: string[];
}

/** A token's entry: the user it authenticates, or the error TokenReview should report for it. */
export type StandInToken = StandInUser | { error: string };

/** Options of {@link startApiServer}. */
export interface StandInApiServerOptions {
  /** Bearer tokens TokenReview knows, by token text. */
  tokens?: Record<string, StandInToken>;
  /** What SubjectAccessReview allows. Default: nothing. */
  policy?: StandInPolicy;
  /** The server's own audiences, used when a TokenReview names none. */
  apiAudiences?: string[];
  /** CN of the client certificate in {@link StandInApiServer.kubeConfig}. Default `system:node:node-a`. */
  callerUser?: string;
  /** O attributes of that certificate. Default `['system:nodes']`. */
  callerGroups?: string[];
  /** The bearer token the server accepts from its callers. Default: random. */
  callerToken?: string;
  /**
   * Authorize the callers' ConfigMap reads (get, list, watch) with `policy`, as kube-apiserver's
   * RBAC does: a caller needs, for the cluster's authentication ConfigMap, the Role
   * `extension-apiserver-authentication-reader` in kube-system bound to it (`policy.defaults`
   * loads the Role), or gets 403. Reviews stay open to every authenticated caller.
   * Default: `false`, every authenticated caller may read every ConfigMap.
   */
  authorizeReads?: boolean;
}

/** A TokenReview request body (`authentication.k8s.io/v1`). */
export interface TokenReviewBody {
  apiVersion?: string;
  kind?: string;
  metadata?: Record<string, unknown>;
  spec: { token?: string; audiences?: string[] };
}

/** A SubjectAccessReview request body (`authorization.k8s.io/v1`). */
export interface SubjectAccessReviewBody {
  apiVersion?: string;
  kind?: string;
  metadata?: Record<string, unknown>;
  spec: SubjectAccessReviewSpec;
}

/**
 * A failure to inject. `times` limits it to the next N reviews it applies to (absent: until
 * cleared). Faults that only make sense for one review kind leave the other kind alone (and are
 * not used up by it). A fault hits reviews that were authenticated and parsed, which are
 * recorded in `reviews` as usual; a 401 or a 400 for a bad body comes first.
 */
export type Fault =
  | { type: 'status'; status: number; retryAfterSeconds?: number; times?: number }
  /**
   * Headers and part of the body, then the connection is destroyed. `framing` (default
   * `'chunked'`) picks how the cut-short body was announced: client-node 1.4's node-fetch 2
   * notices a cut in a chunked body (the call rejects with "Premature close"), but with
   * `'content-length'` its call never settles, which is what a client's own timeout is for.
   * With `'none'` nothing of an answer is sent: the connection is reset (TCP RST) as soon as the
   * request is read, and the client sees `ECONNRESET`.
   */
  | { type: 'reset'; framing?: 'chunked' | 'content-length' | 'none'; times?: number }
  /**
   * The server stops listening and drops its open connections, so every connection attempt is
   * refused (`ECONNREFUSED`) until the fault is cleared or replaced, when it listens again on the
   * same port. Await `setFault` for this fault and for the call that ends it.
   */
  | { type: 'refuse' }
  /** No answer at all (until the client gives up or the server closes). */
  | { type: 'hang'; times?: number }
  /** 201 with a body that is not JSON. */
  | { type: 'malformed'; times?: number }
  /** SubjectAccessReview only: `{allowed: true, denied: true}`. */
  | { type: 'both-allowed-and-denied'; times?: number }
  /** SubjectAccessReview only: `{allowed: false, evaluationError}`. */
  | { type: 'evaluation-error'; times?: number }
  /**
   * TokenReview only: `{authenticated: false, error}` whatever the token, as kube-apiserver
   * answers (HTTP 201) for a service-account token that was invalidated or has expired.
   */
  | { type: 'token-error'; error?: string; times?: number }
  /** TokenReview only: `{authenticated: true}` with no user. */
  | { type: 'authenticated-without-user'; times?: number }
  /**
   * TokenReview only: the token's user, but `status.audiences` naming only `audience`, none of
   * those asked for (a webhook that ignores `spec.audiences`).
   */
  | { type: 'foreign-audiences'; audience?: string; times?: number };

/** A running stand-in API server. */
export interface StandInApiServer {
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** PEM of the server's CA (it signs both the serving certificate and accepted client certs). */
  readonly ca: string;
  /** The CA itself, to mint further client certificates the server accepts. */
  readonly authority: CertificateAuthority;
  /** The bearer token the server accepts from its callers. */
  readonly callerToken: string;
  /**
   * A KubeConfig for this server: its CA, and a client certificate it accepts. Built with
   * `@kubernetes/client-node`, which is ESM-only: where it cannot be loaded (CommonJS Jest
   * without --experimental-vm-modules) reading this throws, and {@link reviewClient} serves.
   */
  readonly kubeConfig: KubeConfig;
  /**
   * A review client for this server that needs no `@kubernetes/client-node` (plain
   * `node:https`, the same client certificate): pass it as `reviewClient` to `kubeletAuth`,
   * `TokenReviewStrategy` or `webhookAuthorizer`. Closed with the server.
   *
   * @example kubeletAuth({ nodeName: 'node-a', reviewClient: api.reviewClient() })
   */
  reviewClient(options?: StandInReviewClientOptions): ReviewClient;
  /** The same as kubeconfig YAML (`*-data` fields), with a client certificate or the token. */
  kubeconfigYaml(auth?: 'cert' | 'token'): string;
  /** Every review received (after authentication and parsing), in arrival order, as sent. */
  readonly reviews: {
    tokenReviews: TokenReviewBody[];
    subjectAccessReviews: SubjectAccessReviewBody[];
  };
  /** Empties both lists in place. */
  resetReviews(): void;
  /** HTTP requests received, of any kind and outcome. */
  readonly requestCount: number;
  /** TLS connections accepted so far (a client that keeps connections alive opens few). */
  readonly connectionCount: number;
  /**
   * Injects a fault, or clears it when called without one. Resolves once the fault is in
   * effect: at once, except when the server stops or starts listening (`'refuse'`).
   */
  setFault(fault?: Fault): Promise<void>;
  /** Replaces the policy; throws a `TypeError` when it is malformed (and keeps the old one). */
  setPolicy(policy: StandInPolicy): void;
  /** Replaces the known tokens. */
  setTokens(tokens: Record<string, StandInToken>): void;
  /**
   * Creates or replaces a ConfigMap (its `data`), with a new resourceVersion: open watches get
   * ADDED or MODIFIED. For the cluster's authentication configuration, see
   * `extensionApiserverAuthentication()`.
   */
  setConfigMap(namespace: string, name: string, data: Record<string, string>): void;
  /** Deletes a ConfigMap (later reads get 404); open watches get DELETED. Returns whether it existed. */
  deleteConfigMap(namespace: string, name: string): boolean;
  /**
   * Ends every open ConfigMap watch, as an API server restart does; clients watch again from
   * the last resourceVersion they saw. With `expired`, each watch first gets a 410 `Expired`
   * event and every older resourceVersion is forgotten, so clients must list again.
   * Returns how many watches were ended.
   */
  dropWatches(options?: { expired?: boolean }): number;
  /** Resolves with the next ConfigMap watch request, once its past events are sent. */
  nextWatch(): Promise<ConfigMapRequest>;
  /** ConfigMap watches open now. */
  readonly openWatches: number;
  /** Every ConfigMap request received (after authentication), in arrival order. */
  readonly configMapRequests: ConfigMapRequest[];
  /** Stops listening and destroys every connection, hung ones included. */
  close(): Promise<void>;
}

const TOKEN_REVIEW_PATH = '/apis/authentication.k8s.io/v1/tokenreviews';
const SAR_PATH = '/apis/authorization.k8s.io/v1/subjectaccessreviews';
const MAX_BODY_BYTES = 3 * 1024 * 1024; // kube-apiserver's own request size limit
const DEFAULT_AUDIENCES = ['https://kubernetes.default.svc'];

type ReviewKind = 'token' | 'sar';

/** Starts a stand-in API server on 127.0.0.1 (free port). */
export async function startApiServer(
  options: StandInApiServerOptions = {},
): Promise<StandInApiServer> {
  let policy = new CompiledPolicy(options.policy ?? {});
  let tokens = tokenMap(options.tokens ?? {});
  const apiAudiences = options.apiAudiences ?? DEFAULT_AUDIENCES;
  const callerToken = options.callerToken ?? randomBytes(24).toString('base64url');

  const authority = await createCA({ commonName: 'stand-in kube-apiserver CA' });
  const [serving, client] = await Promise.all([
    mintServingCert({
      ca: authority,
      hosts: ['127.0.0.1', 'localhost'],
      commonName: 'kube-apiserver',
    }),
    mintClientCert({
      ca: authority,
      user: options.callerUser ?? 'system:node:node-a',
      groups: options.callerGroups ?? ['system:nodes'],
    }),
  ]);

  const reviews = {
    tokenReviews: [] as TokenReviewBody[],
    subjectAccessReviews: [] as SubjectAccessReviewBody[],
  };
  let requestCount = 0;
  let connectionCount = 0;
  let fault: Fault | undefined;
  let faultRemaining = Infinity;

  // Returns the fault to apply to this review, using up one of its `times`.
  const takeFault = (kind: ReviewKind): Fault | undefined => {
    if (!fault || faultRemaining <= 0 || !faultApplies(fault, kind)) return undefined;
    const taken = fault;
    faultRemaining -= 1;
    if (faultRemaining <= 0) fault = undefined;
    return taken;
  };

  const configMaps = new ConfigMapStore();
  const authorizeRead: ConfigMapAuthorizer = (req, request) => {
    if (!options.authorizeReads) return;
    const caller = callerOf(req, options);
    const { verb, namespace, name } = request;
    const decision = policy.evaluate({
      user: caller.username,
      groups: caller.groups,
      resourceAttributes: {
        namespace,
        verb,
        group: '',
        version: 'v1',
        resource: 'configmaps',
        ...(name !== undefined ? { name } : {}),
      },
    });
    if (decision.allowed) return;
    throw new HttpError(
      403,
      `configmaps${name !== undefined ? ` "${name}"` : ''} is forbidden: User "${caller.username}" cannot ${verb} resource "configmaps" in API group "" in the namespace "${namespace}"`,
      { ...(name !== undefined ? { name } : {}), kind: 'configmaps' },
    );
  };

  const sockets = new Set<Socket>();
  const server = createServer(
    {
      key: serving.key,
      cert: serving.cert,
      ca: [authority.cert],
      // Like kube-apiserver: ask for a certificate, but let the request through without one
      // (or with a bad one) so that a bearer token can still authenticate it.
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      requestCount += 1;
      handle(req, res).catch((err: unknown) => {
        if (err instanceof HttpError) {
          sendStatus(res, err.code, err.message, err.details);
        } else {
          sendStatus(res, 500, err instanceof Error ? err.message : String(err));
        }
      });
    },
  );
  server.on('connection', (socket: Socket) => {
    connectionCount += 1;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // A TLS socket cannot send a TCP reset; the TCP socket under it, found by the peer's address
  // and port (the same connection), can.
  const resetConnection = (res: ServerResponse): void => {
    const tls = res.socket;
    for (const socket of sockets) {
      if (socket.remotePort === tls?.remotePort && socket.remoteAddress === tls?.remoteAddress) {
        socket.resetAndDestroy();
        return;
      }
    }
    tls?.destroy();
  };
  // A client that gives up mid-handshake must not crash the test process.
  server.on('tlsClientError', () => undefined);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!authenticated(req, callerToken)) {
      throw new HttpError(401, 'Unauthorized');
    }
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (ConfigMapStore.serves(path)) return configMaps.handle(req, res, path, authorizeRead);
    const kind: ReviewKind | undefined =
      path === TOKEN_REVIEW_PATH ? 'token' : path === SAR_PATH ? 'sar' : undefined;
    if (!kind) {
      throw new HttpError(404, 'the server could not find the requested resource');
    }
    if (req.method !== 'POST') {
      throw new HttpError(405, `the server does not allow this method on the requested resource`);
    }
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
    if (contentType !== 'application/json') {
      throw new HttpError(
        415,
        `the body of the request was in an unknown format - accepted media types include: application/json`,
      );
    }
    const body = parseReview(await readBody(req), kind);
    if (kind === 'token') {
      reviews.tokenReviews.push(body as unknown as TokenReviewBody);
    } else {
      reviews.subjectAccessReviews.push(body as unknown as SubjectAccessReviewBody);
    }

    const injected = takeFault(kind);
    if (injected && injectFault(injected, res)) return;

    let status: Record<string, unknown>;
    if (kind === 'token') {
      const spec: TokenReviewBody['spec'] = isObject(body['spec']) ? body['spec'] : {};
      if (typeof spec.token !== 'string' || spec.token === '') {
        throw new HttpError(400, 'token is required for TokenReview in authentication');
      }
      status =
        injected?.type === 'authenticated-without-user'
          ? { authenticated: true }
          : injected?.type === 'token-error'
            ? {
                authenticated: false,
                error: injected.error ?? 'stand-in fault: token has been invalidated',
              }
            : reviewToken(tokens, spec, apiAudiences);
      if (injected?.type === 'foreign-audiences' && status.authenticated) {
        status = { ...status, audiences: [injected.audience ?? 'https://elsewhere.example'] };
      }
    } else {
      validateSar(body);
      const spec = body['spec'] as SubjectAccessReviewSpec;
      if (injected?.type === 'both-allowed-and-denied') {
        status = { allowed: true, denied: true, reason: 'stand-in fault: allowed and denied' };
      } else if (injected?.type === 'evaluation-error') {
        status = { allowed: false, evaluationError: 'stand-in fault: injected evaluation error' };
      } else {
        status = decisionStatus(policy.evaluate(spec));
      }
    }
    const metadata = isObject(body['metadata']) ? body['metadata'] : {};
    sendJson(res, 201, { ...body, metadata: { ...metadata, creationTimestamp: null }, status });
  }

  // Faults that replace the whole answer; returns false for those that only alter the status.
  function injectFault(f: Fault, res: ServerResponse): boolean {
    switch (f.type) {
      case 'status': {
        const headers: Record<string, string> = {};
        if (f.retryAfterSeconds !== undefined) headers['Retry-After'] = String(f.retryAfterSeconds);
        const details =
          f.retryAfterSeconds !== undefined
            ? { retryAfterSeconds: f.retryAfterSeconds }
            : undefined;
        sendStatus(res, f.status, `stand-in fault: status ${f.status}`, details, headers);
        return true;
      }
      case 'reset': {
        if (f.framing === 'none') {
          resetConnection(res);
          return true;
        }
        const full = JSON.stringify({ kind: 'Status', apiVersion: 'v1', padding: 'x'.repeat(256) });
        res.writeHead(
          201,
          f.framing === 'content-length'
            ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(full) }
            : { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
        );
        // Let the headers and half the body reach the client before the connection dies.
        res.write(full.slice(0, full.length >> 1), () => res.socket?.destroy());
        return true;
      }
      case 'hang':
        // Never answered: close() (or the client giving up) destroys the connection.
        return true;
      case 'refuse':
        // Only a connection made before the server stopped listening gets here: drop it.
        resetConnection(res);
        return true;
      case 'malformed':
        sendRaw(
          res,
          201,
          '{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","status":{"authen',
        );
        return true;
      default:
        return false;
    }
  }

  const port = await listenOnLoopback(server);
  const url = `https://127.0.0.1:${port}`;

  const kubeconfigYaml = (auth: 'cert' | 'token' = 'cert'): string =>
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'stand-in',
          cluster: { server: url, 'certificate-authority-data': base64(authority.cert) },
        },
      ],
      users: [
        {
          name: 'stand-in-caller',
          user:
            auth === 'token'
              ? { token: callerToken }
              : {
                  'client-certificate-data': base64(client.cert),
                  'client-key-data': base64(client.key),
                },
        },
      ],
      contexts: [{ name: 'stand-in', context: { cluster: 'stand-in', user: 'stand-in-caller' } }],
      'current-context': 'stand-in',
      preferences: {},
    });
  // Loaded now, while waiting is possible, so that `kubeConfig` can be read synchronously even
  // where only `import()` can load client-node; where nothing can, reading it says why.
  await importClientNode().catch(() => undefined);
  let kubeConfig: KubeConfig | undefined;
  const reviewClients = new Set<ReviewClient>();

  let closing: Promise<void> | undefined;
  const listen = listeningSwitch(server, port, sockets, () => closing !== undefined);

  return {
    url,
    port,
    ca: authority.cert,
    authority,
    callerToken,
    get kubeConfig() {
      if (kubeConfig === undefined) {
        const made = new (requireClientNode().KubeConfig)();
        made.loadFromString(kubeconfigYaml('cert'));
        kubeConfig = made;
      }
      return kubeConfig;
    },
    reviewClient(clientOptions?: StandInReviewClientOptions) {
      const reviewClient = standInReviewClient(
        { url, ca: authority.cert, cert: client.cert, key: client.key },
        clientOptions,
      );
      reviewClients.add(reviewClient);
      return reviewClient;
    },
    kubeconfigYaml,
    reviews,
    resetReviews() {
      reviews.tokenReviews.length = 0;
      reviews.subjectAccessReviews.length = 0;
    },
    get requestCount() {
      return requestCount;
    },
    get connectionCount() {
      return connectionCount;
    },
    setFault(next?: Fault) {
      fault = next;
      faultRemaining = next !== undefined && 'times' in next ? (next.times ?? Infinity) : Infinity;
      return listen(next?.type !== 'refuse');
    },
    setPolicy(next: StandInPolicy) {
      policy = new CompiledPolicy(next);
    },
    setTokens(next: Record<string, StandInToken>) {
      tokens = tokenMap(next);
    },
    setConfigMap(namespace: string, name: string, data: Record<string, string>) {
      configMaps.set(namespace, name, data);
    },
    deleteConfigMap(namespace: string, name: string) {
      return configMaps.delete(namespace, name);
    },
    dropWatches(dropOptions?: { expired?: boolean }) {
      return configMaps.dropWatches(dropOptions);
    },
    nextWatch() {
      return configMaps.nextWatch();
    },
    get openWatches() {
      return configMaps.openWatches;
    },
    configMapRequests: configMaps.requests,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const reviewClient of reviewClients) reviewClient.close?.();
        configMaps.close();
        server.close(() => resolve());
        // Keep-alive and hung connections would otherwise hold close() (and Jest) open.
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

function faultApplies(fault: Fault, kind: ReviewKind): boolean {
  switch (fault.type) {
    case 'both-allowed-and-denied':
    case 'evaluation-error':
      return kind === 'sar';
    case 'authenticated-without-user':
    case 'foreign-audiences':
    case 'token-error':
      return kind === 'token';
    default:
      return true;
  }
}

function authenticated(req: IncomingMessage, callerToken: string): boolean {
  // socket.authorized: the client presented a certificate that chains to the server's CA.
  if ((req.socket as TLSSocket).authorized) return true;
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] === callerToken;
}

/** Who a caller is: its client certificate's CN and O values, or the caller token's user. */
function callerOf(
  req: IncomingMessage,
  options: StandInApiServerOptions,
): { username: string; groups: string[] } {
  const socket = req.socket as TLSSocket;
  if (socket.authorized) {
    const subject = socket.getPeerCertificate().subject as Record<string, string | string[]>;
    const list = (value: string | string[] | undefined): string[] =>
      value === undefined ? [] : Array.isArray(value) ? value : [value];
    return {
      username: list(subject['CN']).at(-1) ?? '',
      groups: [...list(subject['O']), 'system:authenticated'],
    };
  }
  return {
    username: options.callerUser ?? 'system:node:node-a',
    groups: [...(options.callerGroups ?? ['system:nodes']), 'system:authenticated'],
  };
}

function tokenMap(tokens: Record<string, StandInToken>): Map<string, StandInToken> {
  if (typeof tokens !== 'object' || tokens === null) {
    throw new TypeError('tokens must be an object mapping token text to a user or { error }');
  }
  return new Map(Object.entries(tokens));
}

function reviewToken(
  tokens: Map<string, StandInToken>,
  spec: TokenReviewBody['spec'],
  apiAudiences: string[],
): Record<string, unknown> {
  const entry = tokens.get(spec.token ?? '');
  if (!entry) return { authenticated: false };
  if ('error' in entry) return { authenticated: false, error: entry.error };
  const requested =
    Array.isArray(spec.audiences) && spec.audiences.length > 0 ? spec.audiences : apiAudiences;
  let audiences = requested;
  if (entry.audiences) {
    audiences = requested.filter((a) => entry.audiences?.includes(a));
    if (audiences.length === 0) {
      return {
        authenticated: false,
        error: `[invalid bearer token, token audiences ${JSON.stringify(entry.audiences)} is invalid for the target audiences ${JSON.stringify(requested)}]`,
      };
    }
  }
  const user: Record<string, unknown> = { username: entry.username };
  if (entry.uid !== undefined) user['uid'] = entry.uid;
  if (entry.groups !== undefined) user['groups'] = entry.groups;
  if (entry.extra !== undefined) user['extra'] = entry.extra;
  return { authenticated: true, user, audiences };
}

function decisionStatus(decision: PolicyDecision): Record<string, unknown> {
  const status: Record<string, unknown> = { allowed: decision.allowed };
  if (decision.reason) status['reason'] = decision.reason;
  return status;
}

// kube-apiserver's SubjectAccessReview validation; its failures are 422 Invalid.
function validateSar(body: Record<string, unknown>): void {
  const causes = subjectAccessReviewCauses(body);
  if (causes.length === 0) return;
  throw new HttpError(422, invalidMessage('SubjectAccessReview.authorization.k8s.io', causes), {
    group: 'authorization.k8s.io',
    kind: 'SubjectAccessReview',
    causes,
  });
}

const EXPECTED = {
  token: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview' },
  sar: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview' },
} as const;

function parseReview(text: string, kind: ReviewKind): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `error decoding request body: ${(err as Error).message}`);
  }
  if (!isObject(body)) throw new HttpError(400, 'request body must be a JSON object');
  const expected = EXPECTED[kind];
  // Like kube-apiserver, a missing apiVersion/kind is defaulted from the URL; a wrong one is not.
  if (body['apiVersion'] !== undefined && body['apiVersion'] !== expected.apiVersion) {
    throw new HttpError(
      400,
      `the API version in the data (${String(body['apiVersion'])}) does not match the expected API version (${expected.apiVersion})`,
    );
  }
  if (body['kind'] !== undefined && body['kind'] !== expected.kind) {
    throw new HttpError(
      400,
      `${String(body['kind'])} in version "v1" cannot be handled as a ${expected.kind}`,
    );
  }
  // Fields of the wrong JSON type fail decoding, before any validation.
  const decodeError = reviewDecodeError(expected.kind, body);
  if (decodeError) throw new HttpError(400, decodeError);
  // A missing spec decodes as an empty one, which validation then refuses.
  return body;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, 'request entity too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function base64(text: string): string {
  return Buffer.from(text).toString('base64');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
