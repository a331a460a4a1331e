/**
 * Prometheus text exposition format 0.0.4, the format every kubelet `/metrics*` endpoint serves
 * (and what Prometheus and metrics-server parse).
 */

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface Sample {
  /** Appended to the family name (`_bucket`, `_sum`, `_count` of a histogram). */
  suffix?: string;
  labels?: Record<string, string>;
  value: number;
  /** Milliseconds since the epoch; cAdvisor and resource metrics carry one. */
  timestampMs?: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram' | 'untyped';
  samples: Sample[];
}

export function renderPrometheusText(families: readonly MetricFamily[]): string {
  let out = '';
  for (const family of families) {
    out += `# HELP ${family.name} ${family.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n`;
    out += `# TYPE ${family.name} ${family.type}\n`;
    for (const sample of family.samples) {
      const labels = Object.entries(sample.labels ?? {})
        .map(([key, value]) => `${key}="${escapeLabelValue(value)}"`)
        .join(',');
      out += `${family.name}${sample.suffix ?? ''}${labels ? `{${labels}}` : ''} ${formatValue(sample.value)}`;
      out += sample.timestampMs === undefined ? '\n' : ` ${Math.round(sample.timestampMs)}\n`;
    }
  }
  return out;
}

/**
 * The samples of one histogram series: cumulative `_bucket`s for `bounds` plus `+Inf`, `_sum`
 * and `_count`. `counts[i]` is how many observations fell at or below `bounds[i]`.
 */
export function histogramSamples(
  labels: Record<string, string>,
  bounds: readonly number[],
  counts: readonly number[],
  total: { count: number; sum: number },
): Sample[] {
  return [
    ...bounds.map((le, i) => ({
      suffix: '_bucket',
      labels: { ...labels, le: formatValue(le) },
      value: Math.min(counts[i] ?? total.count, total.count),
    })),
    { suffix: '_bucket', labels: { ...labels, le: '+Inf' }, value: total.count },
    { suffix: '_sum', labels, value: total.sum },
    { suffix: '_count', labels, value: total.count },
  ];
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
