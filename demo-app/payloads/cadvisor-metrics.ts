/**
 * `/metrics/cadvisor`: cAdvisor's container metrics as the kubelet exposes them: one series for
 * the root cgroup (`id="/"`, empty labels), one per pod cgroup and one per container, with
 * sample timestamps, as cAdvisor writes them.
 */
import type { DemoPod, NodeModel } from './node-model.js';
import type { MetricFamily, Sample } from './prometheus-text.js';
import { renderPrometheusText } from './prometheus-text.js';
import type { Usage } from './usage.js';
import { containerUsage, nodeNetwork, nodeUsage, podNetwork, podUsage } from './usage.js';

interface Series {
  labels: Record<string, string>;
  usage: Usage;
  startedAt: Date;
  network?: { rxBytes: number; txBytes: number };
}

export function cadvisorMetrics(model: NodeModel, now: Date): string {
  const ts = now.getTime();
  const series = allSeries(model, now);
  const each = (value: (s: Series) => number | undefined, withNetwork = false): Sample[] =>
    series.flatMap((s) => {
      const v = value(s);
      if (v === undefined) return [];
      const labels = withNetwork ? { ...s.labels, interface: 'eth0' } : s.labels;
      return [{ labels, value: v, timestampMs: ts }];
    });
  const machine = {
    boot_id: model.bootID,
    machine_id: model.machineID,
    system_uuid: model.systemUUID,
  };
  const families: MetricFamily[] = [
    {
      name: 'cadvisor_version_info',
      help: "A metric with a constant '1' value labeled by kernel version, OS version, docker version, cadvisor version & cadvisor revision.",
      type: 'gauge',
      samples: [
        {
          labels: {
            cadvisorRevision: '',
            cadvisorVersion: '',
            dockerVersion: '',
            kernelVersion: '6.8.0-57-generic',
            osVersion: 'Ubuntu 24.04.2 LTS',
          },
          value: 1,
        },
      ],
    },
    {
      name: 'container_cpu_usage_seconds_total',
      help: 'Cumulative cpu time consumed in seconds.',
      type: 'counter',
      samples: each((s) => s.usage.usageCoreNanoSeconds / 1e9),
    },
    {
      name: 'container_memory_working_set_bytes',
      help: 'Current working set in bytes.',
      type: 'gauge',
      samples: each((s) => s.usage.workingSetBytes),
    },
    {
      name: 'container_memory_rss',
      help: 'Size of RSS in bytes.',
      type: 'gauge',
      samples: each((s) => s.usage.rssBytes),
    },
    {
      name: 'container_network_receive_bytes_total',
      help: 'Cumulative count of bytes received',
      type: 'counter',
      samples: each((s) => s.network?.rxBytes, true),
    },
    {
      name: 'container_network_transmit_bytes_total',
      help: 'Cumulative count of bytes transmitted',
      type: 'counter',
      samples: each((s) => s.network?.txBytes, true),
    },
    {
      name: 'container_start_time_seconds',
      help: 'Start time of the container since unix epoch in seconds.',
      type: 'gauge',
      samples: each((s) => Math.floor(s.startedAt.getTime() / 1000)),
    },
    {
      name: 'machine_cpu_cores',
      help: 'Number of logical CPU cores.',
      type: 'gauge',
      samples: [{ labels: machine, value: model.cpuCores }],
    },
    {
      name: 'machine_memory_bytes',
      help: 'Amount of memory installed on the machine.',
      type: 'gauge',
      samples: [{ labels: machine, value: model.memoryCapacityBytes }],
    },
  ];
  return renderPrometheusText(families);
}

function allSeries(model: NodeModel, now: Date): Series[] {
  const empty = { container: '', id: '/', image: '', name: '', namespace: '', pod: '' };
  const series: Series[] = [
    {
      labels: empty,
      usage: nodeUsage(model, now),
      startedAt: model.bootTime,
      network: nodeNetwork(model, now),
    },
  ];
  for (const pod of model.pods) {
    const podCgroup = cgroup(pod);
    series.push({
      labels: { ...empty, id: podCgroup, namespace: pod.namespace, pod: pod.name },
      usage: podUsage(pod, now),
      startedAt: pod.startedAt,
      network: podNetwork(pod, now),
    });
    for (const container of pod.containers) {
      const id = container.containerID.replace(/^containerd:\/\//, '');
      series.push({
        labels: {
          container: container.name,
          id: `${podCgroup}/${id}`,
          image: container.image,
          name: id,
          namespace: pod.namespace,
          pod: pod.name,
        },
        usage: containerUsage(container, pod, now),
        startedAt: pod.startedAt,
      });
    }
  }
  return series;
}

function cgroup(pod: DemoPod): string {
  const qos = pod.qosClass === 'Guaranteed' ? '' : `/${pod.qosClass.toLowerCase()}`;
  return `/kubepods${qos}/pod${pod.uid}`;
}
