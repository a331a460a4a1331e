import type { KubeConfig } from '@kubernetes/client-node';
import { levelled, type Logger } from '../../logger.js';
import { invalidOption } from '../../option-errors.js';
import type { CABundle } from '../ca-bundle.js';
import type { RequestHeaderSettingsSource } from '../request-header-settings.js';
import { ClusterAuthentication } from './cluster-authentication.js';
import { checkClusterAuthentication, type ClusterAuthenticationOptions } from './options.js';

/** `authentication.clusterAuthentication` of `kubeletAuth`: `true`, or where and how to read. */
export type ClusterAuthenticationOption =
  | boolean
  | Pick<ClusterAuthenticationOptions, 'namespace' | 'name' | 'tolerateLookupFailure' | 'timeout'>;

/** The parts of the cluster's configuration `kubeletAuth` takes, and its life. */
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
 * Starts reading the cluster's configuration for `kubeletAuth`, when `option` asks for it and a
 * part is not set locally: as k8s.io/apiserver, a client CA file given wins over `client-ca-file`,
 * and a request-header configuration given wins over the `requestheader-*` keys (all of them).
 * With both set locally the ConfigMap is not read at all (upstream does not look it up).
 */
export function kubeletClusterAuthentication(
  option: ClusterAuthenticationOption | undefined,
  local: { clientCAFile: boolean; requestHeader: boolean },
  context: { kubeConfig: KubeConfig | undefined; logger: Logger },
): KubeletClusterAuthentication | undefined {
  if (option === undefined || option === false) return undefined;
  if (option !== true && (typeof option !== 'object' || option === null)) {
    throw invalidOption(
      `${WHERE}: expected true, false or { namespace?, name?, tolerateLookupFailure?, timeout? }`,
    );
  }
  const given = option === true ? {} : option;
  const checked = checkClusterAuthentication(given, WHERE);
  if (local.clientCAFile && local.requestHeader) {
    levelled(context.logger).info(
      `${WHERE}: configmap ${checked.namespace}/${checked.name} not read: x509.clientCAFile and requestHeader are set here, and win over it`,
    );
    return undefined;
  }
  const cluster = new ClusterAuthentication({
    ...given,
    ...(context.kubeConfig ? { kubeConfig: context.kubeConfig } : {}),
    logger: context.logger,
  });
  return {
    ready: cluster.ready,
    close: () => cluster.close(),
    ...(local.clientCAFile ? {} : { clientCA: cluster.clientCA }),
    ...(local.requestHeader
      ? {}
      : { requestHeader: { bundle: cluster.requestHeaderCA, settings: cluster.requestHeader } }),
  };
}
