import type { KubeConfig } from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import { resolveKubeConfig } from '../../apiserver/kube-config.js';
import { DEFAULT_CLUSTER_AUTHENTICATION, DEFAULT_REVIEW_TIMEOUT_MS } from '../../defaults.js';
import { toMilliseconds, type Duration } from '../../duration.js';
import { levelled, type Logger } from '../../logger.js';
import { checkKnownKeys, invalidOption } from '../../option-errors.js';

/** Options of `ClusterAuthentication`, named after k8s.io/apiserver's delegated authentication. */
export interface ClusterAuthenticationOptions {
  /**
   * The API server to read the ConfigMap from (`--authentication-kubeconfig`). Default:
   * `KubeConfig.loadFromDefault()`; a start-up error when that finds no API server.
   */
  kubeConfig?: KubeConfig;
  /** The ConfigMap's namespace. Default: `'kube-system'`. */
  namespace?: string;
  /** The ConfigMap's name. Default: `'extension-apiserver-authentication'`. */
  name?: string;
  /**
   * `--authentication-tolerate-lookup-failure`: when the first read fails (forbidden, the API
   * server unreachable, …), log a warning and carry on (`ready` resolves) rather than fail
   * (`ready` rejects). Either way client certificates and front proxies are refused until the
   * ConfigMap is read, and reading goes on in the background. Default: `false`.
   */
  tolerateLookupFailure?: boolean;
  /**
   * Longest time one read of the ConfigMap may take; also how long a watch waits for its answer
   * to begin. Default: `'10s'`.
   */
  timeout?: Duration;
  /** Where loads (info), problems (warn) and a failed start (error) are told. Default: `stderrLogger`. */
  logger?: Logger;
}

/** {@link ClusterAuthenticationOptions} checked, with every default applied. */
export interface ResolvedClusterAuthentication {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
  tolerateLookupFailure: boolean;
  timeoutMs: number;
  logger: Required<Logger>;
}

const OPTION_NAMES = [
  'kubeConfig',
  'namespace',
  'name',
  'tolerateLookupFailure',
  'timeout',
  'logger',
] as const;

/** Upstream's names for the same options, pointed at ours. */
export const CLUSTER_AUTHENTICATION_ALIASES: Readonly<Record<string, string>> = {
  tolerateInClusterLookupFailure: 'tolerateLookupFailure',
  authenticationTolerateLookupFailure: 'tolerateLookupFailure',
  authenticationKubeconfig: 'kubeConfig',
  configMapName: 'name',
  configMapNamespace: 'namespace',
};

/** A DNS-1123 subdomain (a ConfigMap's name) or label (a namespace), as the API server checks them. */
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Checks `options` (all but `kubeConfig`), throwing `ERR_INVALID_OPTION` naming `where` and the
 * option; returns them with every default applied.
 */
export function checkClusterAuthentication(
  options: ClusterAuthenticationOptions,
  where: string,
): Omit<ResolvedClusterAuthentication, 'kubeConfig'> {
  if (typeof options !== 'object' || options === null) {
    throw invalidOption(`${where}: options are required ({ kubeConfig, tolerateLookupFailure? })`);
  }
  checkKnownKeys(where, options, OPTION_NAMES, { aliases: CLUSTER_AUTHENTICATION_ALIASES });
  const { namespace = DEFAULT_CLUSTER_AUTHENTICATION.namespace } = options;
  const { name = DEFAULT_CLUSTER_AUTHENTICATION.name } = options;
  if (typeof namespace !== 'string' || namespace.length > 63 || !LABEL.test(namespace)) {
    throw invalidOption(`${where}: namespace: not a namespace name: ${JSON.stringify(namespace)}`);
  }
  if (typeof name !== 'string' || name.length > 253 || !SUBDOMAIN.test(name)) {
    throw invalidOption(`${where}: name: not a ConfigMap name: ${JSON.stringify(name)}`);
  }
  const tolerate =
    options.tolerateLookupFailure ?? DEFAULT_CLUSTER_AUTHENTICATION.tolerateLookupFailure;
  if (typeof tolerate !== 'boolean') {
    throw invalidOption(
      `${where}: tolerateLookupFailure: expected true or false, got ${JSON.stringify(tolerate)}`,
    );
  }
  const timeoutMs =
    options.timeout === undefined
      ? DEFAULT_REVIEW_TIMEOUT_MS
      : toMilliseconds(options.timeout, `${where}: timeout`);
  if (timeoutMs <= 0) throw invalidOption(`${where}: timeout: must be more than zero`);
  const logger = levelled(options.logger);
  return { namespace, name, tolerateLookupFailure: tolerate, timeoutMs, logger };
}

/**
 * {@link checkClusterAuthentication}, then the API server: `ERR_NO_API_SERVER` when none is
 * configured.
 */
export function resolveClusterAuthentication(
  options: ClusterAuthenticationOptions,
  where: string,
): ResolvedClusterAuthentication {
  const checked = checkClusterAuthentication(options, where);
  const kubeConfig = resolveKubeConfig(
    options.kubeConfig,
    `reading the ${checked.namespace}/${checked.name} ConfigMap`,
  );
  return { ...checked, kubeConfig };
}
