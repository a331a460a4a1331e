/**
 * The package's shared interfaces, as k8s.io/apiserver keeps `authenticator`, `authorizer` and
 * `user` apart from their implementations: features implement them, and caches, metrics and
 * unions depend on them alone, never on a concrete feature. Imports nothing but leaf modules.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeUser } from './user.js';

export type { KubeUser };

// Authentication.

/** What every strategy reads from a request: plain `node:http` fields, so Connect apps work too. */
export interface AuthRequest {
  headers: Record<string, string | string[] | undefined>;
  rawHeaders?: string[];
  socket?: unknown;
}

/**
 * What one authenticator says about a request, as k8s.io/apiserver's authenticators do: no
 * credentials of its kind (`none`: try the next one), who the caller is (`user`), or credentials
 * that were refused or could not be checked (`refused`: 401, never anonymous).
 */
export type AuthnOutcome =
  | { kind: 'none' }
  | { kind: 'user'; user: KubeUser }
  /**
   * `error`: the credentials could not be checked (the review failed), rather than refused.
   * `attempted: false`: the request did not try this kind of authentication (a certificate that
   * is not a front proxy's, sent without a user name header); the refusal still keeps it from
   * becoming anonymous, but it is not this authenticator's failed attempt (metrics, 401 reason).
   */
  | { kind: 'refused'; reason: string; error?: boolean; attempted?: false };

/**
 * Authenticates one request. Answers synchronously when it can (a certificate already verified
 * for this connection, a cached token) and with a promise when it must ask the API server.
 * Each of the package's passport strategies is one.
 */
export interface RequestAuthenticator {
  authenticateRequest(req: AuthRequest): AuthnOutcome | Promise<AuthnOutcome>;
}

/** The outcome of checking one bearer token. Errors (the token could not be checked) reject. */
export type TokenResult =
  { authenticated: true; user: KubeUser; audiences?: string[] } | { authenticated: false };

/**
 * Checks bearer tokens. The TokenReview implementation is `webhookTokenAuthenticator`;
 * `cachedTokenAuthenticator` wraps any implementation with a cache of the same type.
 */
export interface TokenAuthenticator {
  /**
   * Resolves who `token` belongs to, or `{ authenticated: false }`; rejects when it cannot tell.
   * `connection` (the request's socket) is the connection the token came on, when known: a cache
   * may reuse work done for the same token on it.
   */
  authenticateToken(token: string, connection?: object): Promise<TokenResult>;
  /** The audiences asked for (part of cache keys). */
  readonly audiences?: readonly string[];
  /** A result already at hand for `token` (a cache hit), without waiting; else `undefined`. */
  peekToken?(token: string, connection?: object): TokenResult | undefined;
}

/** A verdict and how long it holds, as a verifier returns it. */
export interface Verified<V> {
  value: V;
  /** Verification is redone after this time (the chain's earliest expiry). */
  validUntil: number;
}

// Authorization.

/**
 * One authorization question, shaped like k8s.io/apiserver's `authorizer.Attributes`. The kubelet
 * asks about `nodes/<subresource>` of its own Node object; other apps may ask anything.
 */
export interface Attributes {
  user: KubeUser;
  /** The API verb (`get`, `create`, …); `''` for methods the kubelet does not map. */
  verb: string;
  namespace: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  name: string;
  /** `true` for resource attributes; `false` sends `nonResourceAttributes` (path + verb). */
  resourceRequest: boolean;
  /** The decoded request path (sent only for non-resource requests). */
  path: string;
}

/**
 * Records that must *all* be allowed (`{ allOf }`), unlike a plain list, where the first
 * `Allow` is enough. An empty list of either kind allows nothing (403).
 */
export interface AllOf {
  allOf: Attributes[];
}

/**
 * A request an attributes function will not have authorized: a router could serve it under
 * another rule than the one it would be asked as. Answered 400, nothing asked; `refused` says
 * why (for `onDecision`, not for the client).
 */
export interface PathRefused {
  refused: string;
}

/**
 * Derives the attribute records to ask about, in order: a list, where the first `Allow` lets the
 * request in (the kubelet's way), or `{ allOf }`, where every record must be allowed; or
 * `{ refused }` for a path it will not authorize (400).
 */
export type AttributesFunction = (
  req: IncomingMessage & { originalUrl?: string },
  user: KubeUser,
  path: string,
) => Attributes[] | AllOf | PathRefused;

/** An authorizer's verdict, as k8s.io/apiserver's `authorizer.Decision`. */
export type Decision = 'Allow' | 'Deny' | 'NoOpinion';

/**
 * What an authorizer answers. `error` set means it could not decide (the middleware answers 500
 * whatever the decision); `cacheable: false` keeps a cache from remembering the answer.
 */
export interface AuthorizationResult {
  decision: Decision;
  reason?: string;
  error?: Error;
  cacheable?: boolean;
}

/**
 * Decides one attribute record. May reject; a rejection counts as `NoOpinion` with that error.
 * The kubelet's records are frozen (a repeated request shares them): copy one to change it.
 */
export interface Authorizer {
  authorize(attributes: Attributes): Promise<AuthorizationResult>;
  /**
   * The answer already at hand (a cache hit, a constant), without waiting; `undefined` when it
   * must be worked out with `authorize`. Optional: lets a request whose answer is known be
   * decided without waiting.
   */
  peek?(attributes: Attributes): AuthorizationResult | undefined;
}

/** Runs an authorizer, turning a rejection into `NoOpinion` plus that error. */
export async function authorizeSafely(
  authorizer: Authorizer,
  attributes: Attributes,
): Promise<AuthorizationResult> {
  try {
    return await authorizer.authorize(attributes);
  } catch (error) {
    return {
      decision: 'NoOpinion',
      error: error instanceof Error ? error : new Error(String(error)),
    };
  }
}

/** The authorization modes the kubelet knows (case-sensitive). */
export type KubeletAuthorizationMode = 'AlwaysAllow' | 'Webhook';

// The API server client.

/**
 * The backoff the kubelet's webhooks use (`DefaultAuthWebhookRetryBackoff` in k8s.io/apiserver):
 * 500 ms, ×1.5 per step, 20 % jitter, at most 5 attempts. A retry never outlives the deadline.
 */
export interface RetryBackoff {
  /** First wait, in ms. Default: 500. */
  initialMs: number;
  /** Growth per attempt. Default: 1.5. */
  factor: number;
  /** Up to this fraction is added at random to each wait. Default: 0.2. */
  jitter: number;
  /** Attempts in all, the first included. Default: 5. */
  attempts: number;
}

/**
 * How a watch of the API server is started again after failures, as client-go's reflector backs
 * off: the first wait, multiplied by `factor` after each failure in a row up to `maxMs`, plus up
 * to `jitter` times as much at random.
 */
export interface WatchBackoff {
  /** First wait, in ms. Default: 800. */
  initialMs: number;
  /** Longest wait before the jitter, in ms. Default: 30000. */
  maxMs: number;
  /** Growth per failure in a row. Default: 2. */
  factor: number;
  /** Up to this fraction of the wait is added at random. Default: 1. */
  jitter: number;
}

// The middleware and what it reports.

/** The package's own answer to a request, in place of the app's: a status and the exact body. */
export interface Reply {
  readonly kind: 'reply';
  readonly status: number;
  readonly body: string;
}

/** The client left, or someone else answered, while a review ran: nothing to write or run. */
export interface Gone {
  readonly kind: 'gone';
}

/** Authorization's verdict on a request whose user is known. */
export type AuthzVerdict = { readonly kind: 'allowed' } | Reply | Gone;

/** The verdict on a whole request: on to the app as `user`, the package's reply, or nothing. */
export type Verdict = { readonly kind: 'user'; readonly user: KubeUser } | Reply | Gone;

/** A Connect/Express middleware. */
export type Middleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/** How a request ended at the auth layer. */
export type DecisionOutcome = 'allowed' | 'forbidden' | 'error' | 'unauthenticated' | 'bad-request';

/**
 * One request's auth outcome, for audit logs and metrics (`onDecision`). Carries who and what,
 * never a credential: no token, no certificate, no header.
 */
export interface DecisionEvent {
  decision: DecisionOutcome;
  method: string;
  /**
   * The decoded path; for a target refused before its path was accepted, the path as sent
   * (still encoded), never its query or an absolute-form `user:password@host`.
   */
  path: string;
  /** The authenticated user; absent for `unauthenticated` and `bad-request`. */
  user?: KubeUser;
  /**
   * The attribute records derived for the request, in the order they are asked (frozen, for the
   * kubelet's).
   */
  attributes: readonly Attributes[];
  /** The record that decided: the one allowed, or the one whose review failed. */
  decidedBy?: Attributes;
  /** The authorizer's reason, the error's message, or why authentication failed. */
  reason?: string;
  /** Time spent deciding, in ms (authentication and authorization, API calls included). */
  latencyMs: number;
}

/** Receives every {@link DecisionEvent}; what it throws is logged and otherwise ignored. */
export type DecisionListener = (event: DecisionEvent) => void;
