/**
 * `/stats/summary`: the kubelet Summary API (`k8s.io/kubelet/pkg/apis/stats/v1alpha1`), the
 * shape metrics-server and `kubectl top` consumers parse. `only_cpu_and_memory=true` trims it to
 * what metrics-server asks for, as the kubelet does.
 */
import type { DemoPod, NodeModel } from './node-model.js';
import { rfc3339 } from './time-format.js';
import type { NetworkUsage, Usage } from './usage.js';
import {
  allPodsUsage,
  containerUsage,
  nodeNetwork,
  nodeUsage,
  podNetwork,
  podUsage,
  usage,
} from './usage.js';

type Json = Record<string, unknown>;

const GiB = 2 ** 30;

export function statsSummary(
  model: NodeModel,
  now: Date,
  options: { onlyCpuAndMemory?: boolean } = {},
): Json {
  const time = rfc3339(now);
  const full = !options.onlyCpuAndMemory;
  const node = nodeUsage(model, now);
  return {
    node: {
      nodeName: model.nodeName,
      systemContainers: systemContainers(model, now).map(([name, startTime, use]) => ({
        name,
        startTime: rfc3339(startTime),
        cpu: cpu(use, time),
        memory: memory(use, time, undefined),
      })),
      startTime: rfc3339(model.bootTime),
      cpu: cpu(node, time),
      memory: memory(node, time, model.memoryCapacityBytes - node.workingSetBytes),
      ...(full
        ? {
            network: networkStats(nodeNetwork(model, now), time, 'eth0'),
            fs: fs(time, model.filesystemCapacityBytes, 31 * GiB),
            runtime: {
              imageFs: fs(time, model.filesystemCapacityBytes, 7 * GiB),
              containerFs: fs(time, model.filesystemCapacityBytes, 7 * GiB),
            },
            rlimit: { time, maxpid: 4194304, curproc: 412 },
          }
        : {}),
    },
    pods: model.pods.map((pod) => podStats(pod, now, time, full)),
  };
}

function podStats(pod: DemoPod, now: Date, time: string, full: boolean): Json {
  const usage = podUsage(pod, now);
  return {
    podRef: { name: pod.name, namespace: pod.namespace, uid: pod.uid },
    startTime: rfc3339(pod.createdAt),
    containers: pod.containers.map((container) => {
      const cu = containerUsage(container, pod, now);
      return {
        name: container.name,
        startTime: rfc3339(pod.startedAt),
        cpu: cpu(cu, time),
        memory: memory(cu, time, undefined),
        ...(full
          ? {
              rootfs: fs(time, 100 * GiB, 48 * 1024, 9),
              logs: fs(time, 100 * GiB, 36 * 1024, 1),
            }
          : {}),
      };
    }),
    cpu: cpu(usage, time),
    memory: memory(usage, time, undefined),
    ...(full
      ? {
          network: networkStats(podNetwork(pod, now), time, 'eth0'),
          volume: [
            {
              time,
              availableBytes: 8 * GiB,
              capacityBytes: 8 * GiB,
              usedBytes: 12 * 1024,
              inodesFree: 2_000_000,
              inodes: 2_000_009,
              inodesUsed: 9,
              name: 'kube-api-access',
            },
          ],
          'ephemeral-storage': fs(time, 100 * GiB, pod.containers.length * 84 * 1024, 10),
          process_stats: { process_count: pod.containers.length },
        }
      : {}),
  };
}

// The kubelet reports its own cgroup, the container runtime's, and the pods' parent cgroup.
function systemContainers(model: NodeModel, now: Date): [string, Date, Usage][] {
  const started = model.kubeletStartedAt;
  return [
    ['kubelet', started, usage(40, 70 * 2 ** 20, started, now, 'kubelet')],
    ['runtime', model.bootTime, usage(25, 60 * 2 ** 20, model.bootTime, now, 'runtime')],
    ['pods', model.bootTime, allPodsUsage(model, now)],
  ];
}

function cpu(usage: Usage, time: string): Json {
  return {
    time,
    usageNanoCores: usage.usageNanoCores,
    usageCoreNanoSeconds: usage.usageCoreNanoSeconds,
  };
}

function memory(usage: Usage, time: string, availableBytes: number | undefined): Json {
  return {
    time,
    ...(availableBytes === undefined ? {} : { availableBytes }),
    usageBytes: usage.usageBytes,
    workingSetBytes: usage.workingSetBytes,
    rssBytes: usage.rssBytes,
    pageFaults: usage.pageFaults,
    majorPageFaults: usage.majorPageFaults,
  };
}

function networkStats(net: NetworkUsage, time: string, name: string): Json {
  const iface = { name, ...net };
  return { time, ...iface, interfaces: [iface] };
}

function fs(time: string, capacityBytes: number, usedBytes: number, inodesUsed = 250_000): Json {
  const inodes = Math.round(capacityBytes / 16_384);
  return {
    time,
    availableBytes: capacityBytes - usedBytes,
    capacityBytes,
    usedBytes,
    inodesFree: inodes - inodesUsed,
    inodes,
    inodesUsed,
  };
}
