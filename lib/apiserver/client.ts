import type {
  AuthenticationV1Api,
  AuthorizationV1Api,
  ConfigurationOptions,
  KubeConfig,
} from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import { perCallOptions, type Seen } from './per-call.js';
import { ReviewFailedError, type KubeletAuthErrorCode } from '../errors.js';
import { importClientNode, type ClientNode } from './client-node.js';
import type { AuthMetrics, ReviewKind } from '../metrics/observer.js';
import { KeepAliveAgents } from './keep-alive.js';
import { Limiter } from './limiter.js';
import { classifyFailure, isConnectionCode } from './failure.js';
import type { RetryBackoff } from '../contracts.js';
import {
  DEFAULT_MAX_CONCURRENT_REVIEWS,
  DEFAULT_RETRY_BACKOFF,
  DEFAULT_REVIEW_TIMEOUT_MS,
} from '../defaults.js';
import { withRetry } from './retry.js';
import type {
  ReviewClient,
  SubjectAccessReviewSpec,
  SubjectAccessReviewStatus,
  TokenReviewSpec,
  TokenReviewStatus,
} from './reviews.js';
import { checkCount, checkKnownKeys, optionNames } from '../option-errors.js';
import { checkKubeConfig, resolveKubeConfig } from './kube-config.js';
import { toMilliseconds, type Duration } from '../duration.js';

/** Options of {@link createReviewClient}. */
export interface ReviewClientOptions {
  /** Longest time one review may take, retries included, in ms. Default: 10000. */
  timeoutMs?: number;
  /** Retry policy for transient failures. Default: upstream's (500 ms ×1.5, 5 attempts). */
  backoff?: RetryBackoff;
  /**
   * Most reviews in flight to the API server at once; more wait their turn (within their
   * timeout). Default: 64.
   */
  maxConcurrent?: number;
  /** Told of each review request sent and how it ended (e.g. `prometheusMetrics()`). */
  metrics?: AuthMetrics;
}

const REVIEW_CLIENT_OPTIONS = optionNames<ReviewClientOptions>({
  timeoutMs: true,
  backoff: true,
  maxConcurrent: true,
  metrics: true,
});

/**
 * The review client a public factory was given, else one built for its kubeconfig (client-node's
 * default when none), with its `timeout` (default 10 s); `needs` names the feature in the error
 * for a missing API server.
 */
export function reviewClientFor(
  options: {
    kubeConfig?: KubeConfig;
    reviewClient?: ReviewClient;
    timeout?: Duration;
    metrics?: AuthMetrics;
  },
  needs: string,
): ReviewClient {
  if (options.reviewClient) return options.reviewClient;
  return createReviewClient(resolveKubeConfig(options.kubeConfig, needs), {
    timeoutMs: toMilliseconds(options.timeout ?? DEFAULT_REVIEW_TIMEOUT_MS, 'timeout'),
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });
}

/**
 * The package's one edge to the API server: TokenReview and SubjectAccessReview through
 * `@kubernetes/client-node`, with a deadline per review and upstream's retry policy. Failures
 * become `ReviewFailedError`s whose messages carry no token and no raw API response.
 * client-node's API classes are loaded with the first review, so building a client loads
 * nothing.
 */
export function createReviewClient(
  kubeConfig: KubeConfig,
  options: ReviewClientOptions = {},
): ReviewClient {
  checkKubeConfig(kubeConfig, 'createReviewClient');
  checkKnownKeys('createReviewClient', options, REVIEW_CLIENT_OPTIONS);
  const timeoutMs = options.timeoutMs ?? DEFAULT_REVIEW_TIMEOUT_MS;
  const backoff = options.backoff ?? DEFAULT_RETRY_BACKOFF;
  const maxConcurrent = options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT_REVIEWS;
  checkCount(maxConcurrent, 'maxConcurrent');
  const limiter = new Limiter(maxConcurrent);
  const agents = new KeepAliveAgents(kubeConfig);
  const metrics = options.metrics;
  let apis: Promise<ReviewApis> | undefined;

  /**
   * client-node's review APIs for `kubeConfig`, made on the first review: client-node is
   * loaded only when a review needs it (an unloadable one is tried again next time).
   */
  function reviewApis(): Promise<ReviewApis> {
    apis ??= importClientNode().then(
      (k8s) => ({
        k8s,
        authentication: kubeConfig.makeApiClient(k8s.AuthenticationV1Api),
        authorization: kubeConfig.makeApiClient(k8s.AuthorizationV1Api),
      }),
      (error: unknown) => {
        apis = undefined;
        throw error;
      },
    );
    return apis;
  }

  /** One request to the API server, reported to `metrics` with its status code and duration. */
  async function observed<T>(
    k8s: ClientNode,
    kind: ReviewKind,
    seen: Seen,
    send: () => Promise<T>,
  ): Promise<T> {
    if (!metrics) return send();
    seen.status = 0;
    metrics.reviewStarted?.(kind);
    const startedAt = performance.now();
    let code = '<error>';
    try {
      const result = await send();
      code = String(seen.status || 201);
      return result;
    } catch (error) {
      // An answer cut short or unreadable is no answer: `<error>`, whatever its status line said.
      if (error instanceof k8s.ApiException && typeof error.code === 'number')
        code = String(error.code);
      throw error;
    } finally {
      metrics.reviewFinished?.(kind, code, (performance.now() - startedAt) / 1000);
    }
  }

  async function call<T>(
    kind: ReviewKind,
    send: (apis: ReviewApis, options: ConfigurationOptions) => Promise<T>,
  ): Promise<T> {
    const loaded = await reviewApis();
    const { k8s } = loaded;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const deadline = Date.now() + timeoutMs;
    const seen: Seen = { status: 0 };
    const perCall = perCallOptions(k8s, controller.signal, agents, seen);
    const timedOut = (): ReviewFailedError => toReviewFailed(k8s, kind, undefined, true, timeoutMs);
    // The first attempt the API server answered (upstream retries a 4xx with Retry-After): a
    // retry that then gets no answer must not turn that answer into an outage.
    let answered: ReviewFailedError | undefined;
    try {
      return await withRetry(
        async () => {
          try {
            // One slot per attempt: a retry's backoff does not hold a slot.
            return await limiter.run(
              () => observed(k8s, kind, seen, () => send(loaded, perCall)),
              controller.signal,
              timedOut,
            );
          } catch (error) {
            const failed = toReviewFailed(k8s, kind, error, controller.signal.aborted, timeoutMs);
            if (!failed.unavailable) answered ??= failed;
            throw failed;
          }
        },
        {
          backoff,
          deadline,
          signal: controller.signal,
          isRetryable: (error) => error instanceof ReviewFailedError && error.retryable,
        },
      );
    } catch (error) {
      throw answered ?? error;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async tokenReview(spec: TokenReviewSpec): Promise<TokenReviewStatus> {
      const review = await call('TokenReview', ({ authentication }, perCall) =>
        authentication.createTokenReview(
          { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec } },
          perCall,
        ),
      );
      return review.status ?? {};
    },
    async subjectAccessReview(spec: SubjectAccessReviewSpec): Promise<SubjectAccessReviewStatus> {
      const review = await call('SubjectAccessReview', ({ authorization }, perCall) =>
        authorization.createSubjectAccessReview(
          { body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec } },
          perCall,
        ),
      );
      const status = review.status;
      if (!status || typeof status.allowed !== 'boolean') {
        throw new ReviewFailedError(
          'ERR_SUBJECT_ACCESS_REVIEW_FAILED',
          'SubjectAccessReview failed: the API server answered without status.allowed',
          { retryable: false },
        );
      }
      return status;
    },
    close(): void {
      agents.destroy();
    },
  };
}

/** client-node and the two API classes a review client sends through. */
interface ReviewApis {
  k8s: ClientNode;
  authentication: AuthenticationV1Api;
  authorization: AuthorizationV1Api;
}

/** The HTTP status of the latest answer (0 before one came), for metrics. */
/**
 * Maps whatever client-node threw to a `ReviewFailedError`, retryable and unavailable as
 * {@link classifyFailure} says from the facts read here: the answer's status and `Retry-After`,
 * a network error's code, our deadline. An answer that came counts even when the deadline
 * passed as it arrived. The API server's body and headers are left out of the message
 * (client-node's own message embeds both), and so is the request: only a failure of the
 * connection is kept as the cause.
 */
function toReviewFailed(
  k8s: ClientNode,
  kind: ReviewKind,
  error: unknown,
  timedOut: boolean,
  timeoutMs: number,
): ReviewFailedError {
  const code: KubeletAuthErrorCode =
    kind === 'TokenReview' ? 'ERR_TOKEN_REVIEW_FAILED' : 'ERR_SUBJECT_ACCESS_REVIEW_FAILED';
  if (error instanceof ReviewFailedError) return error;
  if (error instanceof k8s.ApiException) {
    const status = typeof error.code === 'number' ? error.code : undefined;
    const headers: Record<string, string> = isStringRecord(error.headers) ? error.headers : {};
    const retryAfter = Object.keys(headers).some((h) => h.toLowerCase() === 'retry-after');
    return new ReviewFailedError(
      code,
      `${kind} failed: the API server answered HTTP ${status ?? 'with an unknown status'}`,
      { status, ...classifyFailure({ status, retryAfter }) },
    );
  }
  if (timedOut) {
    return new ReviewFailedError('ERR_REVIEW_TIMEOUT', `${kind} timed out after ${timeoutMs} ms`, {
      ...classifyFailure({ timedOut }),
    });
  }
  if (error instanceof SyntaxError) {
    return new ReviewFailedError(
      code,
      `${kind} failed: the API server's answer is not valid JSON`,
      classifyFailure({}),
    );
  }
  const networkCode = errorCode(error);
  const reason = networkCode ?? (error instanceof Error ? error.name : 'unknown error');
  // Any other error was thrown while the request was built, and its message or properties may
  // hold what went into it (node-fetch quotes a header value it refuses, a spawn error keeps an
  // exec plugin's arguments): it is not kept.
  const connectionFailed = networkCode !== undefined && isConnectionCode(networkCode);
  return new ReviewFailedError(code, `${kind} failed: ${reason}`, {
    ...classifyFailure(networkCode === undefined ? {} : { networkCode }),
    cause: connectionFailed ? error : undefined,
  });
}

/** node-fetch's FetchError and Node's system errors carry `code` (or `errno`) strings. */
function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, errno, cause } = error as { code?: unknown; errno?: unknown; cause?: unknown };
  if (typeof code === 'string') return code;
  if (typeof errno === 'string') return errno;
  return cause === undefined || cause === error ? undefined : errorCode(cause);
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null;
}
