import { toMilliseconds } from './duration.js';
import { KubeletAuthError } from './errors.js';
import type {
  AttributesFunction,
  DecisionListener,
  KubeletAuthorizationMode,
} from './contracts.js';
import {
  DEFAULT_CACHE_SIZE,
  DEFAULT_MAX_CONCURRENT_REVIEWS,
  DEFAULT_REVIEW_TIMEOUT_MS,
  KUBELET_CONFIGURATION_DEFAULTS,
  DEFAULT_FINE_GRAINED,
  DEFAULT_STALE_IF_ERROR_MS,
} from './defaults.js';
import type { KubeletAuthOptions, KubeletRequestHeader } from './options.js';
import type { KubeConfig } from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import type { ReviewClient } from './apiserver/reviews.js';
import type { StaticRule } from './authz/static-rules.js';
import type { IdentityHeaderNames } from './identity/identity-headers.js';
import { levelled, type Logger } from './logger.js';
import type { AuthMetrics } from './metrics/observer.js';
import { booleanOption, checkCount, checkNonEmptyStrings, invalidOption } from './option-errors.js';
import { checkOptionNames } from './option-names.js';
import { clusterAuthenticationOf } from './authn/cluster-authentication/kubelet-option.js';
import type { ClusterAuthenticationOptions } from './authn/cluster-authentication/options.js';
import { OIDC_OPTION_NAMES, type ResolvedOIDCOptions } from './authn/oidc/options.js';
import { resolveOIDCOptions } from './authn/oidc/resolve-options.js';
import { requestHeaderSettings } from './authn/request-header-settings.js';

/** {@link KubeletAuthOptions} with every default applied and every value checked. */
export interface ResolvedKubeletAuthConfig {
  /** `''` when `attributes` replaces the kubelet's. */
  nodeName: string;
  anonymous: boolean;
  tokenWebhook: boolean;
  tokenCacheTtlMs: number;
  clientCAFile: string;
  mode: KubeletAuthorizationMode;
  authorizedTtlMs: number;
  unauthorizedTtlMs: number;
  fineGrained: boolean;
  audiences: string[];
  timeoutMs: number;
  cacheSize: number;
  maxConcurrentReviews: number;
  staleIfErrorMs: number;
  alwaysAllowPaths: string[];
  alwaysAllowGroups: string[];
  /** Rules decided in process before the webhook; checked by the static authorizer. */
  staticRules: StaticRule[];
  /** Front-proxy authentication, when configured (its CA file checked to be given). */
  requestHeader: KubeletRequestHeader | undefined;
  /** Where and how to read the cluster's authentication ConfigMap, when on (checked). */
  clusterAuthentication: ClusterAuthenticationOptions | undefined;
  /** The identity headers written for the app on allowed requests, when on. */
  identityHeaders: IdentityHeaderNames | undefined;
  /** OIDC token authentication, when configured. */
  oidc: ResolvedOIDCOptions | undefined;
}

/** What {@link kubeletAuth} works with besides configuration: collaborators, checked. */
export interface KubeletAuthDependencies {
  logger: Required<Logger>;
  metrics: AuthMetrics | undefined;
  /** `onDecision` and the metrics' own listener, as one. */
  onDecision: DecisionListener | undefined;
  /** The review client given, if any. */
  reviewClient: ReviewClient | undefined;
  kubeConfig: KubeConfig | undefined;
  /** The attributes function given, replacing the kubelet's. */
  attributes: AttributesFunction | undefined;
}

/**
 * Applies defaults and validates, throwing an `ERR_INVALID_OPTION` naming the option (or the
 * kubelet's own start-up error) for anything wrong, so mistakes surface at start, never on a
 * request.
 */
export function resolveKubeletAuthConfig(options: KubeletAuthOptions): ResolvedKubeletAuthConfig {
  if (typeof options !== 'object' || options === null) {
    throw invalidOption('kubeletAuth: options are required ({ nodeName, kubeConfig, … })');
  }
  checkOptionNames(options);
  const { authentication = {}, authorization = {} } = options;
  if (options.attributes !== undefined && typeof options.attributes !== 'function') {
    throw invalidOption('attributes: expected a function (req, user, path) => Attributes[]');
  }
  const nodeName = options.nodeName ?? '';
  if (typeof nodeName !== 'string' || (nodeName === '' && !options.attributes)) {
    throw invalidOption('nodeName: required, the name of the Node this kubelet serves');
  }
  const mode = authorization.mode ?? KUBELET_CONFIGURATION_DEFAULTS.mode;
  if ((mode as string) === '') {
    throw invalidOption('authorization.mode: no authorization mode specified');
  }
  if (mode !== 'AlwaysAllow' && mode !== 'Webhook') {
    throw invalidOption(
      `authorization.mode: unknown authorization mode ${String(mode)} (expected AlwaysAllow or Webhook)`,
    );
  }
  const config: ResolvedKubeletAuthConfig = {
    nodeName,
    anonymous: booleanOption(
      authentication.anonymous?.enabled,
      'authentication.anonymous.enabled',
      KUBELET_CONFIGURATION_DEFAULTS.anonymousEnabled,
    ),
    tokenWebhook: booleanOption(
      authentication.webhook?.enabled,
      'authentication.webhook.enabled',
      KUBELET_CONFIGURATION_DEFAULTS.webhookEnabled,
    ),
    tokenCacheTtlMs: toMilliseconds(
      authentication.webhook?.cacheTTL ?? KUBELET_CONFIGURATION_DEFAULTS.cacheTTL,
      'authentication.webhook.cacheTTL',
    ),
    clientCAFile: authentication.x509?.clientCAFile ?? '',
    mode,
    authorizedTtlMs: toMilliseconds(
      authorization.webhook?.cacheAuthorizedTTL ??
        KUBELET_CONFIGURATION_DEFAULTS.cacheAuthorizedTTL,
      'authorization.webhook.cacheAuthorizedTTL',
    ),
    unauthorizedTtlMs: toMilliseconds(
      authorization.webhook?.cacheUnauthorizedTTL ??
        KUBELET_CONFIGURATION_DEFAULTS.cacheUnauthorizedTTL,
      'authorization.webhook.cacheUnauthorizedTTL',
    ),
    fineGrained: booleanOption(options.fineGrained, 'fineGrained', DEFAULT_FINE_GRAINED),
    audiences: options.audiences ?? [],
    timeoutMs:
      options.timeout === undefined
        ? DEFAULT_REVIEW_TIMEOUT_MS
        : toMilliseconds(options.timeout, 'timeout'),
    cacheSize: options.cacheSize ?? DEFAULT_CACHE_SIZE,
    maxConcurrentReviews: options.maxConcurrentReviews ?? DEFAULT_MAX_CONCURRENT_REVIEWS,
    staleIfErrorMs: toMilliseconds(
      options.staleIfError ?? DEFAULT_STALE_IF_ERROR_MS,
      'staleIfError',
    ),
    alwaysAllowPaths: list(authorization.alwaysAllowPaths, 'authorization.alwaysAllowPaths'),
    alwaysAllowGroups: list(authorization.alwaysAllowGroups, 'authorization.alwaysAllowGroups'),
    staticRules: authorization.static ?? [],
    requestHeader: requestHeaderOf(authentication.requestHeader),
    clusterAuthentication: clusterAuthenticationOf(authentication.clusterAuthentication),
    identityHeaders: identityHeadersOf(options.identityHeaders),
    oidc:
      authentication.oidc === undefined
        ? undefined
        : resolveOIDCOptions(authentication.oidc, 'authentication.oidc', OIDC_OPTION_NAMES),
  };
  if (typeof config.clientCAFile !== 'string') {
    throw invalidOption('authentication.x509.clientCAFile: expected a file path');
  }
  checkNonEmptyStrings(config.audiences, 'audiences');
  checkCount(config.cacheSize, 'cacheSize', 'entries');
  if (config.timeoutMs <= 0) throw invalidOption('timeout: must be more than zero');
  checkCount(config.maxConcurrentReviews, 'maxConcurrentReviews');
  if (
    !config.anonymous &&
    !config.tokenWebhook &&
    config.clientCAFile === '' &&
    authentication.requestHeader === undefined &&
    authentication.oidc === undefined &&
    config.clusterAuthentication === undefined
  ) {
    throw new KubeletAuthError(
      'ERR_INVALID_OPTION',
      'authentication: no authentication method configured (enable anonymous, webhook, x509, requestHeader, oidc or clusterAuthentication)',
    );
  }
  return config;
}

/** The collaborators in `options`, checked; `onDecision` combined with the metrics' listener. */
export function resolveKubeletAuthDependencies(
  options: KubeletAuthOptions,
): KubeletAuthDependencies {
  const { metrics } = options;
  return {
    logger: levelled(options.logger),
    metrics,
    onDecision: combineListeners(options.onDecision, metrics?.decision?.bind(metrics)),
    reviewClient:
      options.reviewClient === undefined ? undefined : checkedReviewClient(options.reviewClient),
    kubeConfig: options.kubeConfig,
    attributes: options.attributes,
  };
}

function requestHeaderOf(value: unknown): KubeletRequestHeader | undefined {
  if (value === undefined) return undefined;
  if (
    typeof value !== 'object' ||
    value === null ||
    !(value as KubeletRequestHeader).clientCAFile
  ) {
    throw invalidOption(
      'authentication.requestHeader.clientCAFile: required, the front-proxy CA bundle',
    );
  }
  const given = value as KubeletRequestHeader;
  // Its lists are checked now, named as this option, before any CA file is read.
  requestHeaderSettings(given, { where: 'authentication.requestHeader', defaults: true });
  return { ...given };
}

function identityHeadersOf(value: unknown): IdentityHeaderNames | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return {};
  if (typeof value !== 'object' || value === null) {
    throw invalidOption(
      `identityHeaders: expected true, false or the header names, got ${JSON.stringify(value)}`,
    );
  }
  return { ...(value as IdentityHeaderNames) };
}

/** `reviewClient` as given, once it is known to have both review methods. */
function checkedReviewClient(client: ReviewClient): ReviewClient {
  if (
    typeof client !== 'object' ||
    client === null ||
    typeof client.tokenReview !== 'function' ||
    typeof client.subjectAccessReview !== 'function'
  ) {
    throw invalidOption(
      'reviewClient: expected an object with tokenReview() and subjectAccessReview() (a ReviewClient)',
    );
  }
  return client;
}

/** Both listeners, or the one given. */
function combineListeners(
  a: DecisionListener | undefined,
  b: DecisionListener | undefined,
): DecisionListener | undefined {
  if (!a || !b) return a ?? b;
  return (event) => {
    try {
      a(event);
    } finally {
      b(event);
    }
  };
}

function list(value: unknown, name: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw invalidOption(`${name}: expected a list of strings, got ${JSON.stringify(value)}`);
  }
  return [...(value as string[])];
}
