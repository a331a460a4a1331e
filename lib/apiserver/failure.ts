/**
 * What is known of a review that failed, in facts every client-node major gives: the HTTP
 * status of the answer, the code of a network error (Node's `ECONNREFUSED`, node-fetch's
 * `ERR_STREAM_PREMATURE_CLOSE`, undici's `UND_ERR_SOCKET`, found on the error or its `cause`),
 * and whether our own deadline passed.
 */
export interface ReviewFailure {
  /** The HTTP status of the API server's answer, when a whole answer came. */
  status?: number;
  /** Whether that answer carried `Retry-After`. */
  retryAfter?: boolean;
  /** The code of the error that ended the request below HTTP, when there is one. */
  networkCode?: string;
  /** Our deadline passed before an answer came. */
  timedOut?: boolean;
}

/** What a failed review allows: another attempt, and an expired cache entry in its place. */
export interface FailureClass {
  /** Worth another attempt, as upstream's `DefaultShouldRetry`. */
  retryable: boolean;
  /**
   * No answer came from the API server, or it said it cannot answer now: the only failures
   * stale-if-error may cover. Anything else is an answer and must replace a cached one.
   */
  unavailable: boolean;
}

/** Statuses upstream retries: 429 TooManyRequests, 500 InternalError, 504 Timeout. */
const RETRYABLE_STATUS = new Set([429, 500, 504]);

/** The connection reset or lost: upstream retries these (`IsConnectionReset`, HTTP/2 lost). */
const RESET_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_GOAWAY_SESSION',
]);

/**
 * Network failures in which no answer came: the connection could not be made (refused,
 * unreachable, the name not resolved, the system's connect timeout), or it broke before the
 * answer was whole (reset, closed early, HTTP/2 session lost). A TLS failure is not here: an
 * API server whose certificate is not trusted has not been reached, but serving old answers
 * would hide a trust problem rather than ride out an outage.
 */
const NO_ANSWER_CODES = new Set([
  ...RESET_CODES,
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_HTTP2_SESSION_ERROR',
  'ERR_HTTP2_STREAM_CANCEL',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/**
 * Classifies a failed review, for retries and for stale-if-error alike.
 *
 * Unavailable (an expired entry may be served): our deadline passed; a network failure in
 * which no answer came; HTTP 5xx; HTTP 429. Everything else is an answer, and a definite one
 * is never overridden by an expired "yes": a 2xx that cannot be read or carries an error, and
 * every other 4xx — 401 or 403 to our own credentials included, since refusing the node's
 * credentials is how an administrator cuts off a node, and a stale "yes" would keep it
 * authorizing. A failure this function cannot place is treated as an answer (fail closed).
 * A network error ends the request before the answer was whole, so it counts whatever status
 * line came before it.
 *
 * @example classifyFailure({ status: 503 }) // { retryable: false, unavailable: true }
 */
export function classifyFailure(failure: ReviewFailure): FailureClass {
  if (failure.timedOut) return { retryable: false, unavailable: true };
  if (failure.networkCode !== undefined) {
    return {
      retryable: RESET_CODES.has(failure.networkCode),
      unavailable: NO_ANSWER_CODES.has(failure.networkCode),
    };
  }
  const status = failure.status;
  if (status !== undefined) {
    return {
      retryable: RETRYABLE_STATUS.has(status) || failure.retryAfter === true,
      unavailable: status === 429 || (status >= 500 && status <= 599),
    };
  }
  return { retryable: false, unavailable: false };
}

/** More failures of the connection: TLS (OpenSSL's verification codes, Node's own), HTTP parsing. */
const CONNECTION_CODE =
  /^(ERR_TLS_|ERR_SSL_|ERR_OSSL_|EPROTO$|CERT_|UNABLE_TO_|SELF_SIGNED_|DEPTH_ZERO_|INVALID_(CA|PURPOSE)$|HOSTNAME_MISMATCH$|PATH_LENGTH_EXCEEDED$|ERROR_IN_CERT_|UNSPECIFIED$|HPE_|ERR_SOCKET_CONNECTION_TIMEOUT$|ENETRESET$|EADDRNOTAVAIL$)/;

/**
 * Whether `code` names a failure of the connection to the API server (a network or TLS error),
 * whose message names the host, never the request: only such an error is kept as a cause. An
 * error thrown while the request was built can quote what went into it (a header value, an exec
 * plugin's arguments), and carries codes of its own (`ENOENT`, `ERR_HTTP_INVALID_HEADER_VALUE`).
 */
export function isConnectionCode(code: string): boolean {
  return NO_ANSWER_CODES.has(code) || code.startsWith('UND_ERR_') || CONNECTION_CODE.test(code);
}
