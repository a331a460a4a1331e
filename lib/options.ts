import type { KubeConfig } from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import type { ReviewClient } from './apiserver/reviews.js';
import type { Duration } from './duration.js';
import type { Logger } from './logger.js';
import type { AuthMetrics } from './metrics/observer.js';
import type {
  AttributesFunction,
  DecisionListener,
  KubeletAuthorizationMode,
} from './contracts.js';
import type { StaticRule } from './authz/static-rules.js';
import type { IdentityHeaderNames } from './identity/identity-headers.js';
import type { ClusterAuthenticationOptions } from './authn/cluster-authentication/options.js';
import type { OIDCOptions } from './authn/oidc/options.js';

export type { KubeletAuthorizationMode };

/** `authentication` of a KubeletConfiguration (`kubelet.config.k8s.io/v1beta1`), camelCase. */
export interface KubeletAuthentication {
  /** Client certificate authentication. */
  x509?: {
    /**
     * PEM bundle of the CAs that sign client certificates; empty or absent turns x509 off.
     * The file is re-read when it changes. Default: `''` (off).
     */
    clientCAFile?: string;
  };
  /** Bearer token authentication through the API server's TokenReview. */
  webhook?: {
    /** Default: `true` (the KubeletConfiguration default; the kubelet's flag default is false). */
    enabled?: boolean;
    /** How long token review results, positive and negative, are cached. Default: `'2m'`. */
    cacheTTL?: Duration;
  };
  /**
   * Front-proxy ("request-header") authentication, as aggregated API servers have it: a client
   * certificate signed by this CA (and with an allowed CN) may assert the user in
   * `X-Remote-User`/`-Group`/`-Uid`/`-Extra-*`. Asked before every other method.
   * Not the kubelet's behaviour. Default: off.
   */
  requestHeader?: KubeletRequestHeader;
  /**
   * Read the client CA and the front-proxy configuration from the cluster, as aggregated API
   * servers do: the ConfigMap `kube-system/extension-apiserver-authentication`, read with
   * `kubeConfig` and watched, so that changes take effect without a restart (`true`, or
   * `{ namespace?, name?, tolerateLookupFailure?, timeout? }`). What is set here wins, as
   * upstream: `x509.clientCAFile` over its `client-ca-file`, `requestHeader` over its
   * `requestheader-*` keys. The middleware's `ready` settles with the first read. Needs the Role
   * `extension-apiserver-authentication-reader` in kube-system. Not the kubelet's behaviour.
   * Default: off (upstream's `--authentication-skip-lookup`).
   */
  clusterAuthentication?:
    | boolean
    | Pick<
        ClusterAuthenticationOptions,
        'namespace' | 'name' | 'tolerateLookupFailure' | 'timeout'
      >;
  /**
   * Bearer JWTs from an OpenID Connect issuer, checked in process (kube-apiserver's `--oidc-*`),
   * tried before TokenReview; a token of another issuer goes on to TokenReview. The logger is
   * the middleware's. Not the kubelet's behaviour. Default: off.
   */
  oidc?: Omit<OIDCOptions, 'logger' | 'now'>;
  /** Requests without credentials become `system:anonymous`. */
  anonymous?: {
    /** Default: `false` (the KubeletConfiguration default; the kubelet's flag default is true). */
    enabled?: boolean;
  };
}

/** Front-proxy authentication settings (`authentication.requestHeader`). */
export interface KubeletRequestHeader {
  /** PEM bundle of the front-proxy CA (`--requestheader-client-ca-file`), never the client CA. Required. */
  clientCAFile: string;
  /** CNs a front proxy's certificate may have (`--requestheader-allowed-names`). Default: any. */
  allowedNames?: string[];
  /** Default: `['X-Remote-User']`. */
  usernameHeaders?: string[];
  /** Default: `['X-Remote-Uid']`. */
  uidHeaders?: string[];
  /** Default: `['X-Remote-Group']`. */
  groupHeaders?: string[];
  /** Default: `['X-Remote-Extra-']`. */
  extraHeaderPrefixes?: string[];
}

/** `authorization` of a KubeletConfiguration, camelCase. */
export interface KubeletAuthorization {
  /** Default: `'Webhook'` (the KubeletConfiguration default; the kubelet's flag default is AlwaysAllow). */
  mode?: KubeletAuthorizationMode;
  webhook?: {
    /** How long an allowed decision is cached. Default: `'5m'`. */
    cacheAuthorizedTTL?: Duration;
    /** How long a denied (or no-opinion) decision is cached. Default: `'30s'`. */
    cacheUnauthorizedTTL?: Duration;
  };
  /**
   * Paths allowed without a review, once authenticated (k8s.io/apiserver's
   * `--authorization-always-allow-paths`): exact decoded paths, or a prefix ending in `*`
   * (`'/healthz'`, `'/debug/*'`). Not the kubelet's behaviour. Default: none.
   */
  alwaysAllowPaths?: string[];
  /**
   * Groups allowed everything without a review (k8s.io/apiserver's
   * `--authorization-always-allow-groups`, e.g. `'system:masters'`). Default: none.
   */
  alwaysAllowGroups?: string[];
  /**
   * Rules decided in process before the webhook (kube-rbac-proxy's static authorization),
   * written like RBAC rules with their users and groups. Default: none.
   */
  static?: StaticRule[];
}

/** Options shared by everything that talks to the API server. */
export interface ApiServerOptions {
  /**
   * The API server to send TokenReviews and SubjectAccessReviews to.
   * Default: `KubeConfig.loadFromDefault()` ($KUBECONFIG, ~/.kube/config, then in-cluster);
   * a start-up error when that finds no API server. Ignored with `reviewClient`.
   */
  kubeConfig?: KubeConfig;
  /**
   * Send the reviews through this client instead of one built from `kubeConfig` with
   * `@kubernetes/client-node`: your own, or in tests the stand-in API server's
   * `api.reviewClient()`, which works where client-node cannot be loaded (CommonJS Jest).
   * `timeout` and `maxConcurrentReviews` are then the client's business, and `close()` leaves
   * it open. Default: a client-node review client for `kubeConfig`.
   */
  reviewClient?: ReviewClient;
  /**
   * Longest time one review may take, retries included; past it the request gets the
   * kubelet's failure answer (401 for a token, 500 for authorization). Default: `'10s'`.
   */
  timeout?: Duration;
}

/** Options of {@link kubeletAuth}: a KubeletConfiguration's auth sections plus the node's name. */
export interface KubeletAuthOptions extends ApiServerOptions {
  /**
   * The node name sent as the SubjectAccessReview's `resourceAttributes.name`. Required, unless
   * `attributes` replaces the kubelet's attributes.
   */
  nodeName?: string;
  /**
   * What to ask the authorizer for each request, for apps that are not kubelets:
   * `nonResourceAttributes()`, `pathRules({ … })` or your own function.
   * Default: the kubelet's (`nodes/<subresource>` of `nodeName`).
   */
  attributes?: AttributesFunction;
  /** Default: anonymous off, token webhook on (2m), no x509. */
  authentication?: KubeletAuthentication;
  /** Default: mode Webhook, 5m / 30s cache TTLs. */
  authorization?: KubeletAuthorization;
  /**
   * Fine-grained kubelet authorization (feature gate `KubeletFineGrainedAuthz`): `/pods` asks
   * for `nodes/pods` before `nodes/proxy`, and so on. Default: `true`, as upstream since v1.33.
   */
  fineGrained?: boolean;
  /** TokenReview `spec.audiences`. Default: none sent, as the kubelet. */
  audiences?: string[];
  /** Most entries in each cache (tokens, decisions, client certificate chains). Default: `10000`. */
  cacheSize?: number;
  /** Most reviews in flight to the API server at once; more wait (within `timeout`). Default: `64`. */
  maxConcurrentReviews?: number;
  /** Where failures are reported, and refusals at debug. Default: `stderrLogger` (warn and above). */
  logger?: Logger;
  /**
   * Called once per request with its outcome — allowed, forbidden, error, unauthenticated,
   * bad-request — the user, the attributes, the reason and the latency; never a credential.
   * For audit logs and metrics. What it throws is logged, never passed to the request.
   */
  onDecision?: DecisionListener;
  /**
   * Where counts and latencies go: `prometheusMetrics()` from `express-kubelet-auth/metrics`,
   * or your own {@link AuthMetrics}. Default: none.
   */
  metrics?: AuthMetrics;
  /**
   * Stale-if-error: when no answer comes from the API server (connection refused or reset,
   * timeout, HTTP 5xx or 429), accept a cached token result or authorization decision that
   * expired at most this long ago instead of failing (401/500). Any answer replaces the cached
   * one, an error answer included (a TokenReview `status.error`, a SubjectAccessReview both
   * allowed and denied or with an `evaluationError`, any other 4xx): a token or permission
   * revoked while the API server is up is never served from the past. Each stale answer is
   * logged and counted (`stale`). Default: `0` (off, as the kubelet).
   */
  staleIfError?: Duration;
  /**
   * For apps that proxy onward: allowed requests reach the app with every inbound
   * `X-Remote-User`/`-Group`/`-Uid`/`-Extra-*` removed and the authenticated user written in
   * their place (`true`, or your header names). Default: `false` (headers left as sent).
   */
  identityHeaders?: boolean | IdentityHeaderNames;
}
