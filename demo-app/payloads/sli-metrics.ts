/**
 * `/metrics/slis`: component-base health-check SLIs for the kubelet's healthz checks.
 */
import type { MetricFamily } from './prometheus-text.js';
import { renderPrometheusText } from './prometheus-text.js';

export const HEALTHZ_CHECKS = ['log', 'ping', 'syncloop'] as const;

export function sliMetrics(startedAt: Date, now: Date): string {
  // Health is checked about every 10 s by the node's own liveness tooling.
  const checks = Math.floor(Math.max(0, now.getTime() - startedAt.getTime()) / 10_000);
  const families: MetricFamily[] = [
    {
      name: 'kubernetes_healthcheck',
      help: '[STABLE] This metric records the result of a single healthcheck.',
      type: 'gauge',
      samples: HEALTHZ_CHECKS.map((name) => ({ labels: { name, type: 'healthz' }, value: 1 })),
    },
    {
      name: 'kubernetes_healthchecks_total',
      help: '[STABLE] This metric records the results of all healthcheck.',
      type: 'counter',
      samples: HEALTHZ_CHECKS.flatMap((name) => [
        { labels: { name, status: 'error', type: 'healthz' }, value: 0 },
        { labels: { name, status: 'success', type: 'healthz' }, value: checks },
      ]),
    },
  ];
  return renderPrometheusText(families);
}
