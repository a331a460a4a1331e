/**
 * `/metrics/resource`: the stable resource metrics metrics-server scrapes (node, pod and
 * container CPU and working set, with timestamps, and `resource_scrape_error`).
 */
import type { NodeModel } from './node-model.js';
import type { MetricFamily } from './prometheus-text.js';
import { renderPrometheusText } from './prometheus-text.js';
import { containerUsage, nodeUsage, podUsage } from './usage.js';

export function resourceMetrics(model: NodeModel, now: Date): string {
  const ts = now.getTime();
  const node = nodeUsage(model, now);
  const containers = model.pods.flatMap((pod) =>
    pod.containers.map((container) => ({
      labels: { container: container.name, namespace: pod.namespace, pod: pod.name },
      usage: containerUsage(container, pod, now),
      startedAt: pod.startedAt,
    })),
  );
  const pods = model.pods.map((pod) => ({
    labels: { namespace: pod.namespace, pod: pod.name },
    usage: podUsage(pod, now),
  }));
  const families: MetricFamily[] = [
    {
      name: 'container_cpu_usage_seconds_total',
      help: '[STABLE] Cumulative cpu time consumed by the container in core-seconds',
      type: 'counter',
      samples: containers.map((c) => ({
        labels: c.labels,
        value: c.usage.usageCoreNanoSeconds / 1e9,
        timestampMs: ts,
      })),
    },
    {
      name: 'container_memory_working_set_bytes',
      help: '[STABLE] Current working set of the container in bytes',
      type: 'gauge',
      samples: containers.map((c) => ({
        labels: c.labels,
        value: c.usage.workingSetBytes,
        timestampMs: ts,
      })),
    },
    {
      name: 'container_start_time_seconds',
      help: '[STABLE] Start time of the container since unix epoch in seconds',
      type: 'gauge',
      samples: containers.map((c) => ({
        labels: c.labels,
        value: c.startedAt.getTime() / 1000,
        timestampMs: ts,
      })),
    },
    {
      name: 'node_cpu_usage_seconds_total',
      help: '[STABLE] Cumulative cpu time consumed by the node in core-seconds',
      type: 'counter',
      samples: [{ value: node.usageCoreNanoSeconds / 1e9, timestampMs: ts }],
    },
    {
      name: 'node_memory_working_set_bytes',
      help: '[STABLE] Current working set of the node in bytes',
      type: 'gauge',
      samples: [{ value: node.workingSetBytes, timestampMs: ts }],
    },
    {
      name: 'pod_cpu_usage_seconds_total',
      help: '[STABLE] Cumulative cpu time consumed by the pod in core-seconds',
      type: 'counter',
      samples: pods.map((p) => ({
        labels: p.labels,
        value: p.usage.usageCoreNanoSeconds / 1e9,
        timestampMs: ts,
      })),
    },
    {
      name: 'pod_memory_working_set_bytes',
      help: '[STABLE] Current working set of the pod in bytes',
      type: 'gauge',
      samples: pods.map((p) => ({
        labels: p.labels,
        value: p.usage.workingSetBytes,
        timestampMs: ts,
      })),
    },
    {
      name: 'resource_scrape_error',
      help: '[STABLE] 1 if there was an error while getting container metrics, 0 otherwise',
      type: 'gauge',
      samples: [{ value: 0 }],
    },
  ];
  return renderPrometheusText(families);
}
