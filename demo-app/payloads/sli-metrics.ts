/**
 * `/metrics/slis`: component-base health-check SLIs for the kubelet's healthz checks.
 */
import type { MetricFamily } from './prometheus-text.js';
import { renderPrometheusText } from './prometheus-text.js';

/** The kubelet's healthz checks, in the order it installs them. */
export const HEALTHZ_CHECKS = ['ping', 'log', 'syncloop'] as const;
/** The same names as the metrics list them: client_golang sorts a family's series. */
const SERIES_ORDER = [...HEALTHZ_CHECKS].sort();

export function sliMetrics(startedAt: Date, now: Date): string {
  // Health is checked about every 10 s by the node's own liveness tooling.
  const checks = Math.floor(Math.max(0, now.getTime() - startedAt.getTime()) / 10_000);
  const families: MetricFamily[] = [
    {
      name: 'kubernetes_healthcheck',
      help: '[STABLE] This metric records the result of a single healthcheck.',
      type: 'gauge',
      samples: SERIES_ORDER.map((name) => ({ labels: { name, type: 'healthz' }, value: 1 })),
    },
    {
      name: 'kubernetes_healthchecks_total',
      help: '[STABLE] This metric records the results of all healthcheck.',
      type: 'counter',
      samples: SERIES_ORDER.flatMap((name) => [
        { labels: { name, status: 'error', type: 'healthz' }, value: 0 },
        { labels: { name, status: 'success', type: 'healthz' }, value: checks },
      ]),
    },
  ];
  return renderPrometheusText(families);
}
