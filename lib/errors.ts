/** Every condition the package reports as an error, by code. */
export type KubeletAuthErrorCode =
  | 'ERR_INVALID_OPTION'
  | 'ERR_NO_API_SERVER'
  | 'ERR_UNSUPPORTED_RUNTIME'
  | 'ERR_MISSING_PEER'
  | 'ERR_TOKEN_REVIEW_FAILED'
  | 'ERR_TOKEN_REVIEW_ERROR'
  | 'ERR_SUBJECT_ACCESS_REVIEW_FAILED'
  | 'ERR_SUBJECT_ACCESS_REVIEW_ERROR'
  | 'ERR_REVIEW_TIMEOUT'
  | 'ERR_OIDC_TOKEN_INVALID'
  | 'ERR_OIDC_UNAVAILABLE'
  | 'ERR_CLUSTER_AUTHENTICATION';

/**
 * The base of the package's errors. `message` never carries a token, a key, a certificate or
 * the API server's raw response; `cause` keeps the underlying error for debugging.
 */
export class KubeletAuthError extends Error {
  readonly code: KubeletAuthErrorCode;
  constructor(code: KubeletAuthErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KubeletAuthError';
    this.code = code;
  }
}

/**
 * A review the API server could not answer (transport failure, HTTP error, timeout, malformed
 * reply). Never cached. `status` is the HTTP status when the API server answered.
 *
 * `unavailable` is true only when no answer came (connection refused or reset, timeout) or the
 * API server said it cannot answer now (5xx, 429): the only failures a stale cache entry may
 * stand in for. Default: `false`, so an error that says nothing keeps the caches failing
 * closed. A custom `ReviewClient`, token authenticator or authorizer that wants
 * stale-if-error to cover its outages throws this error with `unavailable: true`.
 */
export class ReviewFailedError extends KubeletAuthError {
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly unavailable: boolean;
  constructor(
    code: KubeletAuthErrorCode,
    message: string,
    details: { status?: number; retryable: boolean; unavailable?: boolean; cause?: unknown },
  ) {
    super(code, message, { cause: details.cause });
    this.name = 'ReviewFailedError';
    this.status = details.status;
    this.retryable = details.retryable;
    this.unavailable = details.unavailable ?? false;
  }
}

/**
 * Whether `error` says no answer came from the API server: a `ReviewFailedError` marked
 * `unavailable`, or an `AggregateError` (a union of authorizers) made only of such errors.
 * Any other error is an answer, or cannot be told from one.
 */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof ReviewFailedError) return error.unavailable;
  if (error instanceof AggregateError) {
    return error.errors.length > 0 && error.errors.every(isUnavailable);
  }
  return false;
}
