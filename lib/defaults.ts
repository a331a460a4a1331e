/**
 * Every default the package's factories and `resolveKubeletAuthConfig` fall back on, in one
 * place, so a default is stated once and no options module reaches into a feature for it.
 */
import type { KubeletAuthorizationMode, RetryBackoff, WatchBackoff } from './contracts.js';

/** The KubeletConfiguration (v1beta1) defaults; the kubelet's command-line defaults differ. */
export const KUBELET_CONFIGURATION_DEFAULTS = Object.freeze({
  anonymousEnabled: false,
  webhookEnabled: true,
  cacheTTL: '2m',
  mode: 'Webhook' as KubeletAuthorizationMode,
  cacheAuthorizedTTL: '5m',
  cacheUnauthorizedTTL: '30s',
});

/** Fine-grained kubelet authorization (`nodes/pods` before `nodes/proxy`, …): on, as since v1.33. */
export const DEFAULT_FINE_GRAINED = true;

/** Stale-if-error, in ms: off, as the kubelet. */
export const DEFAULT_STALE_IF_ERROR_MS = 0;

/** Default bound of every cache in the package, in entries. */
export const DEFAULT_CACHE_SIZE = 10_000;

/** Longest time one review may take, retries included, in ms. */
export const DEFAULT_REVIEW_TIMEOUT_MS = 10_000;

/** Most reviews in flight to the API server at once. */
export const DEFAULT_MAX_CONCURRENT_REVIEWS = 64;

/** The backoff the kubelet's webhooks use (`DefaultAuthWebhookRetryBackoff` in k8s.io/apiserver). */
export const DEFAULT_RETRY_BACKOFF: Readonly<RetryBackoff> = {
  initialMs: 500,
  factor: 1.5,
  jitter: 0.2,
  attempts: 5,
};

/** Most bytes of intermediate certificates kept for resumed TLS sessions, all leaves together. */
export const DEFAULT_SESSION_CHAIN_BYTES = 32 * 1024 * 1024;

/** How often a CA bundle file is checked for changes when it cannot be watched, in ms. */
export const DEFAULT_CA_POLL_INTERVAL_MS = 5_000;

/** The identity header names Kubernetes front proxies send (as kubeadm sets `--requestheader-*`). */
export const FRONT_PROXY_HEADERS = Object.freeze({
  username: 'X-Remote-User',
  uid: 'X-Remote-Uid',
  group: 'X-Remote-Group',
  extraPrefix: 'X-Remote-Extra-',
});

/**
 * The front-proxy header names used when none are given in code (`--requestheader-*` as kubeadm
 * sets them). Settings read from the cluster's ConfigMap have no defaults: a key left out there
 * is an empty list, as upstream reads it.
 */
export const DEFAULT_REQUEST_HEADERS = Object.freeze({
  allowedNames: Object.freeze([]) as readonly string[],
  usernameHeaders: Object.freeze([FRONT_PROXY_HEADERS.username]) as readonly string[],
  uidHeaders: Object.freeze([FRONT_PROXY_HEADERS.uid]) as readonly string[],
  groupHeaders: Object.freeze([FRONT_PROXY_HEADERS.group]) as readonly string[],
  extraHeaderPrefixes: Object.freeze([FRONT_PROXY_HEADERS.extraPrefix]) as readonly string[],
});

/** The ConfigMap k8s.io/apiserver reads the cluster's authentication configuration from. */
export const DEFAULT_CLUSTER_AUTHENTICATION = Object.freeze({
  namespace: 'kube-system',
  name: 'extension-apiserver-authentication',
  tolerateLookupFailure: false,
});

/**
 * How a watch of the API server is started again after a failure, as client-go's reflector does:
 * 800 ms, doubled each time up to 30 s, plus up to as much again at random; a watch that ran
 * well resets it.
 */
export const DEFAULT_WATCH_BACKOFF: Readonly<WatchBackoff> = Object.freeze({
  initialMs: 800,
  maxMs: 30_000,
  factor: 2,
  jitter: 1,
});

/**
 * The defaults of OIDC (JWT) token authentication. The claim and algorithm defaults are
 * kube-apiserver's `--oidc-*` flags'; the JWKS timings are jose's `createRemoteJWKSet` defaults.
 */
export const OIDC_DEFAULTS = Object.freeze({
  usernameClaim: 'sub',
  signingAlgs: Object.freeze(['RS256']) as readonly string[],
  /** Leeway on `exp` and `nbf`, in ms. */
  clockSkewMs: 10_000,
  /** Longest time one discovery or JWKS request may take, in ms. */
  timeoutMs: 5_000,
  /** Longest bearer token looked at, in characters; longer ones are not OIDC tokens here. */
  maxTokenSize: 16 * 1024,
  /** Most bytes read of a discovery document or key set. */
  maxDocumentBytes: 1024 * 1024,
  /** Least time between two key set fetches caused by unknown key IDs, in ms. */
  jwksCooldownMs: 30_000,
  /** Age after which the key set is fetched again in the background, in ms. */
  jwksMaxAgeMs: 10 * 60_000,
  /** Waits before the second, third, … attempt after consecutive failed fetches, in ms. */
  retryInitialMs: 1_000,
  retryMaxMs: 10_000,
});
