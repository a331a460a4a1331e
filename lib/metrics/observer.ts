import type { DecisionEvent } from '../contracts.js';

/** The authenticator that produced an authentication result. */
export type AuthenticationMethod =
  'x509' | 'oidc' | 'token' | 'websocket' | 'requestheader' | 'anonymous';

/**
 * As the API server's `authentication_attempts`: `success`; `failure` (credentials refused);
 * `error` (they could not be checked: the TokenReview failed). What counts as an attempt of
 * each method: {@link AuthMetrics.authentication}.
 */
export type AuthenticationResult = 'success' | 'failure' | 'error';

/** The two reviews the package sends. */
export type ReviewKind = 'TokenReview' | 'SubjectAccessReview';

/** A cache lookup: found, not found, or an expired entry served because the API server failed. */
export type CacheStatus = 'hit' | 'miss' | 'stale';

/**
 * What the package reports as it works, for metrics. Every method is optional and is called
 * synchronously on the request path, so it must be cheap and must not throw (what it throws is
 * not caught). `prometheusMetrics()` from `express-kubelet-auth/metrics` implements it with
 * prom-client; anything else (StatsD, OpenTelemetry) can too.
 */
export interface AuthMetrics {
  /**
   * One authenticator's verdict on a request that tried its kind of authentication, reported
   * as the request is authenticated (`authentication_attempts{method,result}` in Prometheus).
   * Authenticators are asked in order until one succeeds, so one request may count as a
   * failure of one method and a success of the next, and later methods are not counted once
   * one succeeded. An attempt, by method:
   * - `requestheader`: a client certificate sent with a user name header (`X-Remote-User` or
   *   the configured ones). `success`: the certificate is a front proxy's; `failure`: it is not
   *   (or its CN is not allowed). A request without a user name header made no front-proxy
   *   attempt and is not counted, whatever its certificate: ordinary client-certificate
   *   traffic never shows up as front-proxy failures.
   * - `x509`: a client certificate; `failure` when it does not verify against the client CA
   *   or its subject cannot be used. One without a CN is not counted (no user in it).
   * - `oidc`: an `Authorization: Bearer` JWT whose `iss` is the OIDC issuer; `failure` when it
   *   does not verify, `error` when it could not be checked (issuer unreachable, no keys). A
   *   token of another issuer is not counted.
   * - `token`: an `Authorization: Bearer` token; `failure` when the TokenReview does not
   *   authenticate it, `error` when it could not be reviewed.
   * - `websocket`: a bearer token in `Sec-WebSocket-Protocol` on an upgrade, as `token`.
   * - `anonymous`: `success` for each request that proceeded as anonymous.
   */
  authentication?(
    method: AuthenticationMethod,
    result: AuthenticationResult,
    seconds: number,
  ): void;
  /** A review request is about to be sent to the API server (one per attempt, retries included). */
  reviewStarted?(review: ReviewKind): void;
  /**
   * A review request ended: `code` is the HTTP status as a string (`'201'`, `'500'`), or
   * `'<error>'` when no answer came (as client-go's request metrics say).
   */
  reviewFinished?(review: ReviewKind, code: string, seconds: number): void;
  /** A token (`token`) or authorization (`authorization`) cache lookup. */
  cacheLookup?(cache: 'token' | 'authorization', status: CacheStatus): void;
  /** Every request's outcome, as `onDecision` receives it. */
  decision?(event: DecisionEvent): void;
}
