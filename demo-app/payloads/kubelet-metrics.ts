/**
 * `/metrics`: the kubelet's own metrics (component-base registry), a plausible subset with the
 * real names and labels: build info, feature gates, node name, running pods and containers,
 * PLEG relists and pod start durations, process metrics.
 */
import type { FeatureGates } from '../feature-gates.js';
import { KUBELET_VERSION } from './build-info.js';
import type { NodeModel } from './node-model.js';
import type { MetricFamily } from './prometheus-text.js';
import { histogramSamples, renderPrometheusText } from './prometheus-text.js';

const GATE_STAGE: Record<keyof FeatureGates, string> = {
  KubeletFineGrainedAuthz: '', // GA: component-base reports an empty stage
  ContainerCheckpoint: 'BETA',
};

export function kubeletMetrics(model: NodeModel, featureGates: FeatureGates, now: Date): string {
  const uptime = Math.max(0, (now.getTime() - model.kubeletStartedAt.getTime()) / 1000);
  const containers = model.pods.reduce((n, pod) => n + pod.containers.length, 0);
  // PLEG relists once a second; almost all finish within 10 ms.
  const relists = Math.floor(uptime);
  const families: MetricFamily[] = [
    {
      name: 'kubernetes_build_info',
      help: "A metric with a constant '1' value labeled by major, minor, git version, git commit, git tree state, build date, Go version, and compiler from which Kubernetes was built, and platform on which it is running.",
      type: 'gauge',
      samples: [
        {
          labels: {
            build_date: KUBELET_VERSION.buildDate,
            compiler: 'gc',
            git_commit: KUBELET_VERSION.gitCommit,
            git_tree_state: 'clean',
            git_version: KUBELET_VERSION.gitVersion,
            go_version: KUBELET_VERSION.goVersion,
            major: KUBELET_VERSION.major,
            minor: KUBELET_VERSION.minor,
            platform: KUBELET_VERSION.platform,
          },
          value: 1,
        },
      ],
    },
    {
      name: 'kubernetes_feature_enabled',
      help: '[BETA] This metric records the data about the stage and enablement of a k8s feature.',
      type: 'gauge',
      samples: (Object.keys(featureGates) as (keyof FeatureGates)[]).sort().map((name) => ({
        labels: { name, stage: GATE_STAGE[name] },
        value: featureGates[name] ? 1 : 0,
      })),
    },
    {
      name: 'kubelet_node_name',
      help: "[ALPHA] The node's name. The count is always 1.",
      type: 'gauge',
      samples: [{ labels: { node: model.nodeName }, value: 1 }],
    },
    {
      name: 'kubelet_running_pods',
      help: '[ALPHA] Number of pods that have a running pod sandbox',
      type: 'gauge',
      samples: [{ value: model.pods.length }],
    },
    {
      name: 'kubelet_running_containers',
      help: '[ALPHA] Number of containers currently running',
      type: 'gauge',
      samples: [
        { labels: { container_state: 'created' }, value: 0 },
        { labels: { container_state: 'exited' }, value: 0 },
        { labels: { container_state: 'running' }, value: containers },
      ],
    },
    {
      name: 'kubelet_started_pods_total',
      help: '[ALPHA] Cumulative number of pods started',
      type: 'counter',
      samples: [{ value: model.pods.length }],
    },
    {
      name: 'kubelet_started_containers_total',
      help: '[ALPHA] Cumulative number of containers started',
      type: 'counter',
      samples: [{ labels: { container_type: 'container' }, value: containers }],
    },
    {
      name: 'kubelet_pod_start_duration_seconds',
      help: '[ALPHA] Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run',
      type: 'histogram',
      samples: histogramSamples(
        {},
        [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60],
        [0, 0, 2, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4],
        { count: model.pods.length, sum: 9.71 },
      ),
    },
    {
      name: 'kubelet_pleg_relist_duration_seconds',
      help: '[ALPHA] Duration in seconds for relisting pods in PLEG.',
      type: 'histogram',
      samples: histogramSamples(
        {},
        [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        [Math.floor(relists * 0.9), relists],
        { count: relists, sum: Number((relists * 0.0043).toFixed(6)) },
      ),
    },
    {
      name: 'process_start_time_seconds',
      help: 'Start time of the process since unix epoch in seconds.',
      type: 'gauge',
      samples: [{ value: model.kubeletStartedAt.getTime() / 1000 }],
    },
    {
      name: 'process_resident_memory_bytes',
      help: 'Resident memory size in bytes.',
      type: 'gauge',
      samples: [{ value: process.memoryUsage().rss }],
    },
  ];
  return renderPrometheusText(families);
}
