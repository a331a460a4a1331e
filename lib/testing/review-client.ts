import type { IncomingMessage } from 'node:http';
import { Agent, request } from 'node:https';
import { classifyFailure } from '../apiserver/failure.js';
import type {
  ReviewClient,
  SubjectAccessReviewSpec,
  SubjectAccessReviewStatus,
  TokenReviewSpec,
  TokenReviewStatus,
} from '../apiserver/reviews.js';
import { ReviewFailedError, type KubeletAuthErrorCode } from '../errors.js';

/** Where and how {@link standInReviewClient} reaches an API server. */
export interface StandInReviewTarget {
  /** `https://host:port`. */
  url: string;
  /** PEM of the CA that signed the server's certificate. */
  ca: string;
  /** PEM of the client certificate the server accepts, and its key. */
  cert: string;
  key: string;
}

/** Options of `StandInApiServer.reviewClient()`. */
export interface StandInReviewClientOptions {
  /** Longest time one review may take, in ms. Default: 10000. */
  timeoutMs?: number;
}

const TOKEN_REVIEW_PATH = '/apis/authentication.k8s.io/v1/tokenreviews';
const SAR_PATH = '/apis/authorization.k8s.io/v1/subjectaccessreviews';
const MAX_ANSWER_BYTES = 3 * 1024 * 1024;

/**
 * A `ReviewClient` that sends TokenReviews and SubjectAccessReviews over real HTTPS with
 * `node:https`, without `@kubernetes/client-node`: for tests where client-node cannot be loaded
 * (CommonJS Jest; client-node is ESM-only). One attempt per review, no retries; failures are
 * `ReviewFailedError`s classified as the client-node review client classifies them, so caches
 * and stale-if-error behave the same.
 */
export function standInReviewClient(
  target: StandInReviewTarget,
  options: StandInReviewClientOptions = {},
): ReviewClient {
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new TypeError(`timeoutMs: expected a number of ms above zero, got ${String(timeoutMs)}`);
  }
  const agent = new Agent({ ca: target.ca, cert: target.cert, key: target.key, keepAlive: true });

  /** POSTs one review and resolves with the `status` of the answer. */
  function review(kind: 'TokenReview' | 'SubjectAccessReview', body: object): Promise<unknown> {
    const code: KubeletAuthErrorCode =
      kind === 'TokenReview' ? 'ERR_TOKEN_REVIEW_FAILED' : 'ERR_SUBJECT_ACCESS_REVIEW_FAILED';
    const path = kind === 'TokenReview' ? TOKEN_REVIEW_PATH : SAR_PATH;
    const payload = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      let timedOut = false;
      let settled = false;
      const settle = (error: ReviewFailedError | undefined, status?: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(status);
      };
      /** The request ended below HTTP: our deadline, or a network error. */
      const broken = (error: NodeJS.ErrnoException): void => {
        if (timedOut) {
          settle(
            new ReviewFailedError('ERR_REVIEW_TIMEOUT', `${kind} timed out after ${timeoutMs} ms`, {
              ...classifyFailure({ timedOut: true }),
            }),
          );
          return;
        }
        const networkCode = typeof error.code === 'string' ? error.code : undefined;
        settle(
          new ReviewFailedError(code, `${kind} failed: ${networkCode ?? error.name}`, {
            ...classifyFailure(networkCode === undefined ? {} : { networkCode }),
            cause: error,
          }),
        );
      };
      const req = request(new URL(path, target.url), {
        method: 'POST',
        agent,
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json',
          'Content-Length': Buffer.byteLength(payload),
        },
      });
      const timer = setTimeout(() => {
        timedOut = true;
        req.destroy();
      }, timeoutMs);
      req.on('error', broken);
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('error', broken);
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          chunks.push(chunk);
          if (size > MAX_ANSWER_BYTES) {
            settle(
              new ReviewFailedError(code, `${kind} failed: the API server's answer is too large`, {
                ...classifyFailure({}),
              }),
            );
            req.destroy();
          }
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) {
            const retryAfter = res.headers['retry-after'] !== undefined;
            settle(
              new ReviewFailedError(
                code,
                `${kind} failed: the API server answered HTTP ${status}`,
                {
                  status,
                  ...classifyFailure({ status, retryAfter }),
                },
              ),
            );
            return;
          }
          let answer: { status?: unknown };
          try {
            answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { status?: unknown };
          } catch {
            settle(
              new ReviewFailedError(
                code,
                `${kind} failed: the API server's answer is not valid JSON`,
                classifyFailure({}),
              ),
            );
            return;
          }
          settle(undefined, answer.status);
        });
      });
      req.end(payload);
    });
  }

  return {
    async tokenReview(spec: TokenReviewSpec): Promise<TokenReviewStatus> {
      const status = await review('TokenReview', {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec,
      });
      return isObject(status) ? (status as TokenReviewStatus) : {};
    },
    async subjectAccessReview(spec: SubjectAccessReviewSpec): Promise<SubjectAccessReviewStatus> {
      const status = await review('SubjectAccessReview', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec,
      });
      if (!isObject(status) || typeof status['allowed'] !== 'boolean') {
        throw new ReviewFailedError(
          'ERR_SUBJECT_ACCESS_REVIEW_FAILED',
          'SubjectAccessReview failed: the API server answered without status.allowed',
          { retryable: false },
        );
      }
      return status as unknown as SubjectAccessReviewStatus;
    },
    close(): void {
      agent.destroy();
    },
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
