import { toMilliseconds } from './duration.js';
import { KubeletAuthError } from './errors.js';
import type { KubeletAuthorizationMode } from './contracts.js';
import {
  DEFAULT_CACHE_SIZE,
  DEFAULT_MAX_CONCURRENT_REVIEWS,
  DEFAULT_REVIEW_TIMEOUT_MS,
  KUBELET_CONFIGURATION_DEFAULTS,
} from './defaults.js';
import type { KubeletAuthOptions } from './options.js';
import { closest, invalidOption } from './option-errors.js';

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
}

const KNOWN: Record<string, readonly string[]> = {
  '': [
    'nodeName',
    'attributes',
    'kubeConfig',
    'reviewClient',
    'authentication',
    'authorization',
    'fineGrained',
    'audiences',
    'timeout',
    'cacheSize',
    'maxConcurrentReviews',
    'logger',
    'onDecision',
    'metrics',
    'staleIfError',
    'identityHeaders',
  ],
  authentication: ['x509', 'webhook', 'anonymous', 'requestHeader', 'clusterAuthentication'],
  'authentication.clusterAuthentication': ['namespace', 'name', 'tolerateLookupFailure', 'timeout'],
  'authentication.requestHeader': [
    'clientCAFile',
    'allowedNames',
    'usernameHeaders',
    'uidHeaders',
    'groupHeaders',
    'extraHeaderPrefixes',
  ],
  'authentication.x509': ['clientCAFile'],
  'authentication.webhook': ['enabled', 'cacheTTL'],
  'authentication.anonymous': ['enabled'],
  authorization: ['mode', 'webhook', 'alwaysAllowPaths', 'alwaysAllowGroups', 'static'],
  'authorization.webhook': ['cacheAuthorizedTTL', 'cacheUnauthorizedTTL'],
};

/**
 * Applies defaults and validates, throwing a `TypeError` that names the option (or the kubelet's
 * own start-up error) for anything wrong, so mistakes surface at start, never on a request.
 */
export function resolveKubeletAuthConfig(options: KubeletAuthOptions): ResolvedKubeletAuthConfig {
  if (typeof options !== 'object' || options === null) {
    throw invalidOption('kubeletAuth: options are required ({ nodeName, kubeConfig, … })');
  }
  checkKnownKeys(options, '');
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
    anonymous: bool(
      authentication.anonymous?.enabled,
      'authentication.anonymous.enabled',
      KUBELET_CONFIGURATION_DEFAULTS.anonymousEnabled,
    ),
    tokenWebhook: bool(
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
    fineGrained: bool(options.fineGrained, 'fineGrained', true),
    audiences: options.audiences ?? [],
    timeoutMs:
      options.timeout === undefined
        ? DEFAULT_REVIEW_TIMEOUT_MS
        : toMilliseconds(options.timeout, 'timeout'),
    cacheSize: options.cacheSize ?? DEFAULT_CACHE_SIZE,
    maxConcurrentReviews: options.maxConcurrentReviews ?? DEFAULT_MAX_CONCURRENT_REVIEWS,
    staleIfErrorMs: toMilliseconds(options.staleIfError ?? 0, 'staleIfError'),
    alwaysAllowPaths: list(authorization.alwaysAllowPaths, 'authorization.alwaysAllowPaths'),
    alwaysAllowGroups: list(authorization.alwaysAllowGroups, 'authorization.alwaysAllowGroups'),
  };
  if (typeof config.clientCAFile !== 'string') {
    throw invalidOption('authentication.x509.clientCAFile: expected a file path');
  }
  if (
    !Array.isArray(config.audiences) ||
    !config.audiences.every((a) => typeof a === 'string' && a !== '')
  ) {
    throw invalidOption('audiences: expected an array of non-empty strings');
  }
  if (!Number.isInteger(config.cacheSize) || config.cacheSize < 1) {
    throw invalidOption(
      `cacheSize: expected a whole number of entries ≥ 1, got ${String(options.cacheSize)}`,
    );
  }
  if (config.timeoutMs <= 0) throw invalidOption('timeout: must be more than zero');
  if (!Number.isInteger(config.maxConcurrentReviews) || config.maxConcurrentReviews < 1) {
    throw invalidOption(
      `maxConcurrentReviews: expected a whole number ≥ 1, got ${String(options.maxConcurrentReviews)}`,
    );
  }
  if (
    !config.anonymous &&
    !config.tokenWebhook &&
    config.clientCAFile === '' &&
    authentication.requestHeader === undefined &&
    !authentication.clusterAuthentication
  ) {
    throw new KubeletAuthError(
      'ERR_INVALID_OPTION',
      'authentication: no authentication method configured (enable anonymous, webhook, x509, requestHeader or clusterAuthentication)',
    );
  }
  return config;
}

function list(value: unknown, name: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw invalidOption(`${name}: expected a list of strings, got ${JSON.stringify(value)}`);
  }
  return [...(value as string[])];
}

function bool(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean')
    throw invalidOption(`${name}: expected true or false, got ${JSON.stringify(value)}`);
  return value;
}

/** Unknown option names throw, with the closest known name as a hint (typos fail loudly). */
function checkKnownKeys(value: object, path: string): void {
  const known = KNOWN[path];
  if (!known) return;
  for (const [key, child] of Object.entries(value)) {
    const name = path ? `${path}.${key}` : key;
    if (!known.includes(key)) {
      const hint = closest(key, known);
      throw invalidOption(
        `${name}: unknown option${hint ? ` (did you mean ${path ? `${path}.` : ''}${hint}?)` : ''}`,
      );
    }
    if (typeof child === 'object' && child !== null && KNOWN[name]) checkKnownKeys(child, name);
  }
}
