import type { KubeConfig } from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import { DEFAULT_CLUSTER_AUTHENTICATION } from '../../defaults.js';
import type { Logger } from '../../logger.js';
import { invalidOption } from '../../option-errors.js';
import type { CABundle } from '../ca-bundle.js';
import type { RequestHeaderSettingsSource } from '../request-header-settings.js';
import { ClusterAuthentication } from './cluster-authentication.js';
import { checkClusterAuthentication, type ClusterAuthenticationOptions } from './options.js';

/** `authentication.clusterAuthentication` of `kubeletAuth`, checked: where and how to read. */
export type ClusterAuthenticationLookup = Pick<
  ClusterAuthenticationOptions,
  'namespace' | 'name' | 'tolerateLookupFailure' | 'timeout'
>;

/** The parts of the cluster's configuration `kubeletAuth` takes, and their life. */
export interface KubeletClusterAuthentication {
  /** Settles as `ClusterAuthentication.ready`. */
  ready: Promise<void>;
  close(): void;
  /** The client CA, unless `x509.clientCAFile` is set. */
  clientCA?: CABundle;
  /** The front-proxy CA and settings, unless `requestHeader` is set. */
  requestHeader?: { bundle: CABundle; settings: RequestHeaderSettingsSource };
}

const WHERE = 'authentication.clusterAuthentication';

/**
 * `authentication.clusterAuthentication` checked, at start-up like every option: `undefined`
 * when off, `{}` for `true`. Throws `ERR_INVALID_OPTION` naming the option.
 */
export function clusterAuthenticationOf(value: unknown): ClusterAuthenticationLookup | undefined {
  if (value === undefined || value === false) return undefined;
  if (value !== true && (typeof value !== 'object' || value === null)) {
    throw invalidOption(
      `${WHERE}: expected true, false or { namespace?, name?, tolerateLookupFailure?, timeout? }`,
    );
  }
  const lookup: ClusterAuthenticationLookup =
    value === true ? {} : { ...(value as ClusterAuthenticationLookup) };
  checkClusterAuthentication(lookup, WHERE);
  return lookup;
}

/**
 * Starts reading the cluster's configuration for `kubeletAuth`, when it is on and a part is not
 * set locally: as k8s.io/apiserver, a client CA file given wins over `client-ca-file`, and a
 * request-header configuration given wins over the `requestheader-*` keys (all of them). With
 * both set locally the ConfigMap is not read at all (upstream does not look it up).
 */
export function kubeletClusterAuthentication(
  config: {
    clusterAuthentication: ClusterAuthenticationLookup | undefined;
    clientCAFile: string;
    requestHeader: object | undefined;
  },
  deps: { kubeConfig: KubeConfig | undefined; logger: Required<Logger> },
): KubeletClusterAuthentication | undefined {
  const lookup = config.clusterAuthentication;
  if (lookup === undefined) return undefined;
  const localClientCA = config.clientCAFile !== '';
  const localRequestHeader = config.requestHeader !== undefined;
  if (localClientCA && localRequestHeader) {
    const { namespace = DEFAULT_CLUSTER_AUTHENTICATION.namespace } = lookup;
    const { name = DEFAULT_CLUSTER_AUTHENTICATION.name } = lookup;
    deps.logger.info(
      `${WHERE}: configmap ${namespace}/${name} not read: x509.clientCAFile and requestHeader are set here, and win over it`,
    );
    return undefined;
  }
  const cluster = new ClusterAuthentication({
    ...lookup,
    ...(deps.kubeConfig ? { kubeConfig: deps.kubeConfig } : {}),
    logger: deps.logger,
  });
  return {
    ready: cluster.ready,
    close: () => cluster.close(),
    ...(localClientCA ? {} : { clientCA: cluster.clientCA }),
    ...(localRequestHeader
      ? {}
      : { requestHeader: { bundle: cluster.requestHeaderCA, settings: cluster.requestHeader } }),
  };
}
