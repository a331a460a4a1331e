import type { KubeConfig } from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import { KubeletAuthError } from '../errors.js';
import { invalidOption } from '../option-errors.js';
import { requireClientNode } from './client-node.js';

/**
 * The KubeConfig to reach the API server with: the one given, else client-node's
 * `loadFromDefault()` ($KUBECONFIG, then ~/.kube/config, then the in-cluster service account).
 * client-node silently falls back to `http://localhost:8080` when it finds nothing; that is a
 * start-up error here, because an auth layer must not quietly talk to an unauthenticated port.
 */
export function resolveKubeConfig(given: KubeConfig | undefined, needs: string): KubeConfig {
  if (given !== undefined) checkKubeConfig(given, 'kubeConfig');
  const kubeConfig = given ?? loadDefault();
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster || !cluster.server || (given === undefined && isClientNodeFallback(kubeConfig))) {
    throw new KubeletAuthError(
      'ERR_NO_API_SERVER',
      `kubeConfig: ${needs} needs an API server, and none is configured (pass a KubeConfig, set $KUBECONFIG, or run in a cluster)`,
    );
  }
  return kubeConfig;
}

/**
 * Throws `ERR_INVALID_OPTION` unless `value` looks like client-node's `KubeConfig` (a path or the
 * YAML text is a common mistake: load it with `kubeConfig.loadFromFile()` first).
 */
export function checkKubeConfig(value: unknown, where: string): void {
  const methods = value as Partial<Record<'getCurrentCluster' | 'makeApiClient', unknown>> | null;
  if (
    typeof methods !== 'object' ||
    methods === null ||
    typeof methods.getCurrentCluster !== 'function' ||
    typeof methods.makeApiClient !== 'function'
  ) {
    const got = value === null ? 'null' : typeof value;
    throw invalidOption(
      `${where}: expected a KubeConfig from @kubernetes/client-node, got ${got} (for a file, use new KubeConfig() and loadFromFile(path))`,
    );
  }
}

function loadDefault(): KubeConfig {
  const kubeConfig = new (requireClientNode().KubeConfig)();
  try {
    kubeConfig.loadFromDefault();
  } catch (error) {
    throw new KubeletAuthError(
      'ERR_NO_API_SERVER',
      `kubeConfig: the default kubeconfig could not be loaded (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  return kubeConfig;
}

/** The exact cluster/user pair client-node invents when it found no configuration at all. */
function isClientNodeFallback(kubeConfig: KubeConfig): boolean {
  const cluster = kubeConfig.getCurrentCluster();
  return (
    cluster?.name === 'cluster' &&
    cluster.server === 'http://localhost:8080' &&
    kubeConfig.getCurrentUser()?.name === 'user'
  );
}
