/**
 * The field names of a `kubelet.config.k8s.io/v1beta1` KubeletConfiguration, as its JSON tags
 * spell them (case matters), nested the way the file nests them. The mock reads only a few of
 * these; the rest are listed so that a real kubelet's config file loads, while a name the
 * kubelet does not know is refused as its strict decoder refuses it.
 */

/**
 * What a field holds: `'value'` for a scalar, a list of scalars or a map with free keys (resource
 * lists, feature gates, eviction thresholds), whose keys are not field names; an object's own
 * fields; or, made by `listOf`, a list of objects with the given fields.
 */
export type FieldSchema = 'value' | ObjectSchema | ListSchema;
export interface ObjectSchema {
  readonly [field: string]: FieldSchema;
}
// A symbol key, so a list can never be mistaken for an object with a field of that name.
const ITEMS = Symbol('items');
export interface ListSchema {
  readonly [ITEMS]: ObjectSchema;
}

/** A list whose items are objects with these fields. */
function listOf(items: ObjectSchema): ListSchema {
  return { [ITEMS]: items };
}

/** The fields of an object, or of each item of a list of objects. */
export function objectFields(schema: ObjectSchema | ListSchema): ObjectSchema {
  return ITEMS in schema ? schema[ITEMS] : schema;
}

const V = 'value';

// The pieces a kubelet config file borrows from other API groups: component-base's logging and
// tracing configuration and core/v1's Taint.
const OUTPUT_ROUTING: ObjectSchema = { splitStream: V, infoBufferSize: V };
const LOGGING: ObjectSchema = {
  format: V,
  flushFrequency: V,
  verbosity: V,
  vmodule: listOf({ filePattern: V, verbosity: V }),
  options: { text: OUTPUT_ROUTING, json: OUTPUT_ROUTING },
};
const TRACING: ObjectSchema = { endpoint: V, samplingRatePerMillion: V };
const TAINT: ObjectSchema = { key: V, value: V, effect: V, timeAdded: V };

export const KUBELET_CONFIGURATION_FIELDS: ObjectSchema = {
  apiVersion: V,
  kind: V,
  enableServer: V,
  staticPodPath: V,
  podLogsDir: V,
  syncFrequency: V,
  fileCheckFrequency: V,
  httpCheckFrequency: V,
  staticPodURL: V,
  staticPodURLHeader: V,
  address: V,
  port: V,
  readOnlyPort: V,
  tlsCertFile: V,
  tlsPrivateKeyFile: V,
  tlsCipherSuites: V,
  tlsCurvePreferences: V,
  tlsMinVersion: V,
  rotateCertificates: V,
  serverTLSBootstrap: V,
  authentication: {
    x509: { clientCAFile: V },
    webhook: { enabled: V, cacheTTL: V },
    anonymous: { enabled: V },
  },
  authorization: {
    mode: V,
    webhook: { cacheAuthorizedTTL: V, cacheUnauthorizedTTL: V },
  },
  registryPullQPS: V,
  registryBurst: V,
  imagePullCredentialsVerificationPolicy: V,
  preloadedImagesVerificationAllowlist: V,
  eventRecordQPS: V,
  eventBurst: V,
  enableDebuggingHandlers: V,
  enableContentionProfiling: V,
  healthzPort: V,
  healthzBindAddress: V,
  oomScoreAdj: V,
  clusterDomain: V,
  clusterDNS: V,
  streamingConnectionIdleTimeout: V,
  nodeStatusUpdateFrequency: V,
  nodeStatusReportFrequency: V,
  nodeLeaseDurationSeconds: V,
  imageMinimumGCAge: V,
  imageMaximumGCAge: V,
  imageGCHighThresholdPercent: V,
  imageGCLowThresholdPercent: V,
  volumeStatsAggPeriod: V,
  kubeletCgroups: V,
  systemCgroups: V,
  cgroupRoot: V,
  cgroupsPerQOS: V,
  cgroupDriver: V,
  cpuManagerPolicy: V,
  singleProcessOOMKill: V,
  cpuManagerPolicyOptions: V,
  cpuManagerReconcilePeriod: V,
  memoryManagerPolicy: V,
  topologyManagerPolicy: V,
  topologyManagerScope: V,
  topologyManagerPolicyOptions: V,
  qosReserved: V,
  runtimeRequestTimeout: V,
  hairpinMode: V,
  maxPods: V,
  podCIDR: V,
  podPidsLimit: V,
  resolvConf: V,
  runOnce: V,
  cpuCFSQuota: V,
  cpuCFSQuotaPeriod: V,
  nodeStatusMaxImages: V,
  maxOpenFiles: V,
  contentType: V,
  kubeAPIQPS: V,
  kubeAPIBurst: V,
  serializeImagePulls: V,
  maxParallelImagePulls: V,
  evictionHard: V,
  evictionSoft: V,
  evictionSoftGracePeriod: V,
  evictionPressureTransitionPeriod: V,
  evictionMaxPodGracePeriod: V,
  evictionMinimumReclaim: V,
  mergeDefaultEvictionSettings: V,
  podsPerCore: V,
  enableControllerAttachDetach: V,
  protectKernelDefaults: V,
  makeIPTablesUtilChains: V,
  iptablesMasqueradeBit: V,
  iptablesDropBit: V,
  featureGates: V,
  failSwapOn: V,
  memorySwap: { swapBehavior: V },
  containerLogMaxSize: V,
  containerLogMaxFiles: V,
  containerLogMaxWorkers: V,
  containerLogMonitorInterval: V,
  configMapAndSecretChangeDetectionStrategy: V,
  systemReserved: V,
  kubeReserved: V,
  reservedSystemCPUs: V,
  showHiddenMetricsForVersion: V,
  systemReservedCgroup: V,
  kubeReservedCgroup: V,
  enforceNodeAllocatable: V,
  allowedUnsafeSysctls: V,
  defaultPodSysctls: V,
  volumePluginDir: V,
  providerID: V,
  kernelMemcgNotification: V,
  logging: LOGGING,
  enableSystemLogHandler: V,
  enableSystemLogQuery: V,
  shutdownGracePeriod: V,
  shutdownGracePeriodCriticalPods: V,
  shutdownGracePeriodByPodPriority: listOf({ priority: V, shutdownGracePeriodSeconds: V }),
  crashLoopBackOff: { maxContainerRestartPeriod: V },
  reservedMemory: listOf({ numaNode: V, limits: V }),
  enableProfilingHandler: V,
  enableDebugFlagsHandler: V,
  seccompDefault: V,
  memoryThrottlingFactor: V,
  memoryReservationPolicy: V,
  registerWithTaints: listOf(TAINT),
  registerNode: V,
  tracing: TRACING,
  localStorageCapacityIsolation: V,
  containerRuntimeEndpoint: V,
  imageServiceEndpoint: V,
  failCgroupV1: V,
  userNamespaces: { idsPerPod: V },
};
