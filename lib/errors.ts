/** Every condition the package reports as an error, by code. */
export type KubeletAuthErrorCode =
  | 'ERR_INVALID_OPTION'
  | 'ERR_NO_API_SERVER'
  | 'ERR_UNSUPPORTED_RUNTIME'
  | 'ERR_TOKEN_REVIEW_FAILED'
  | 'ERR_TOKEN_REVIEW_ERROR'
  | 'ERR_SUBJECT_ACCESS_REVIEW_FAILED'
  | 'ERR_SUBJECT_ACCESS_REVIEW_ERROR'
  | 'ERR_REVIEW_TIMEOUT';

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
 */
export class ReviewFailedError extends KubeletAuthError {
  readonly status: number | undefined;
  readonly retryable: boolean;
  constructor(
    code: KubeletAuthErrorCode,
    message: string,
    details: { status?: number; retryable: boolean; cause?: unknown },
  ) {
    super(code, message, { cause: details.cause });
    this.name = 'ReviewFailedError';
    this.status = details.status;
    this.retryable = details.retryable;
  }
}
