/**
 * `/configz`: `{"kubeletconfig": {...}}`, the effective KubeletConfiguration in v1beta1 field
 * names (without kind/apiVersion, as the kubelet serves it). The auth-related fields are the
 * real effective values; the rest are a typical node's, for clients that expect them. Nothing
 * secret appears: only file paths, never certificate, key or kubeconfig contents.
 */
import { formatGoDuration } from 'express-kubelet-auth/kubelet';
import type { Settings } from '../settings.js';

type Json = Record<string, unknown>;

export function kubeletConfigz(settings: Settings): Json {
  return {
    kubeletconfig: {
      enableServer: true,
      syncFrequency: '1m0s',
      fileCheckFrequency: '20s',
      httpCheckFrequency: '20s',
      address: settings.address,
      port: settings.port,
      // The mock serves no read-only port, whatever the kubelet's legacy default (10255) says.
      readOnlyPort: 0,
      tlsCertFile: settings['tls-cert-file'],
      tlsPrivateKeyFile: settings['tls-private-key-file'],
      rotateCertificates: false,
      serverTLSBootstrap: false,
      authentication: {
        x509: { clientCAFile: settings['client-ca-file'] },
        webhook: {
          enabled: settings['authentication-token-webhook'],
          cacheTTL: formatGoDuration(settings['authentication-token-webhook-cache-ttl']),
        },
        anonymous: { enabled: settings['anonymous-auth'] },
      },
      authorization: {
        mode: settings['authorization-mode'],
        webhook: {
          cacheAuthorizedTTL: formatGoDuration(
            settings['authorization-webhook-cache-authorized-ttl'],
          ),
          cacheUnauthorizedTTL: formatGoDuration(
            settings['authorization-webhook-cache-unauthorized-ttl'],
          ),
        },
      },
      registryPullQPS: 5,
      registryBurst: 10,
      eventRecordQPS: 50,
      eventBurst: 100,
      enableDebuggingHandlers: true,
      healthzPort: 10248,
      healthzBindAddress: '127.0.0.1',
      oomScoreAdj: -999,
      clusterDomain: 'cluster.local',
      clusterDNS: ['10.96.0.10'],
      streamingConnectionIdleTimeout: '4h0m0s',
      nodeStatusUpdateFrequency: '10s',
      nodeStatusReportFrequency: '5m0s',
      imageMinimumGCAge: '2m0s',
      imageGCHighThresholdPercent: 85,
      imageGCLowThresholdPercent: 80,
      volumeStatsAggPeriod: '1m0s',
      cgroupsPerQOS: true,
      cgroupDriver: 'systemd',
      cpuManagerPolicy: 'none',
      memoryManagerPolicy: 'None',
      topologyManagerPolicy: 'none',
      runtimeRequestTimeout: '2m0s',
      hairpinMode: 'promiscuous-bridge',
      maxPods: 110,
      podPidsLimit: -1,
      resolvConf: '/run/systemd/resolve/resolv.conf',
      cpuCFSQuota: true,
      cpuCFSQuotaPeriod: '100ms',
      maxOpenFiles: 1000000,
      contentType: 'application/vnd.kubernetes.protobuf',
      kubeAPIQPS: 50,
      kubeAPIBurst: 100,
      serializeImagePulls: true,
      evictionHard: {
        'imagefs.available': '15%',
        'memory.available': '100Mi',
        'nodefs.available': '10%',
        'nodefs.inodesFree': '5%',
      },
      evictionPressureTransitionPeriod: '5m0s',
      enableControllerAttachDetach: true,
      makeIPTablesUtilChains: true,
      failSwapOn: true,
      containerLogMaxSize: '10Mi',
      containerLogMaxFiles: 5,
      configMapAndSecretChangeDetectionStrategy: 'Watch',
      featureGates: { ...settings['feature-gates'] },
      enforceNodeAllocatable: ['pods'],
      volumePluginDir: '/usr/libexec/kubernetes/kubelet-plugins/volume/exec/',
      logging: {
        format: 'text',
        flushFrequency: '5s',
        verbosity: 0,
        options: { json: { infoBufferSize: '0' } },
      },
      enableSystemLogHandler: true,
      enableSystemLogQuery: false,
      shutdownGracePeriod: '0s',
      shutdownGracePeriodCriticalPods: '0s',
      enableProfilingHandler: true,
      enableDebugFlagsHandler: true,
      seccompDefault: false,
      memoryThrottlingFactor: 0.9,
      registerNode: true,
      localStorageCapacityIsolation: true,
      containerRuntimeEndpoint: 'unix:///run/containerd/containerd.sock',
    },
  };
}
