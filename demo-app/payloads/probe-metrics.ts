/**
 * `/metrics/probes`: the prober's counters, one series per container probe and result. Probes
 * run every 10 s (the default period) and always succeed on this healthy node.
 */
import type { NodeModel } from './node-model.js';
import type { MetricFamily } from './prometheus-text.js';
import { renderPrometheusText } from './prometheus-text.js';

const PERIOD_SECONDS = 10;

export function probeMetrics(model: NodeModel, now: Date): string {
  const samples = model.pods.flatMap((pod) => {
    const runs = Math.floor(
      Math.max(0, now.getTime() - pod.startedAt.getTime()) / 1000 / PERIOD_SECONDS,
    );
    return pod.containers.flatMap((container) =>
      container.probes.flatMap((probeType) =>
        (['failed', 'successful', 'unknown'] as const).map((result) => ({
          labels: {
            container: container.name,
            namespace: pod.namespace,
            pod: pod.name,
            pod_uid: pod.uid,
            probe_type: probeType,
            result,
          },
          value: result === 'successful' ? runs : 0,
        })),
      ),
    );
  });
  const families: MetricFamily[] = [
    {
      name: 'prober_probe_total',
      help: '[BETA] Cumulative number of a liveness, readiness or startup probe for a container by result.',
      type: 'counter',
      samples,
    },
  ];
  return renderPrometheusText(families);
}
