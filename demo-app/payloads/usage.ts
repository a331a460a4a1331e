/**
 * Resource use that moves with time, so repeated scrapes look alive: counters grow steadily
 * from each container's start, gauges wobble a little around a steady value. Every endpoint
 * reports from these functions, so the Summary API, cAdvisor and resource metrics agree.
 */
import type { DemoContainer, DemoPod, NodeModel } from './node-model.js';

export interface Usage {
  usageNanoCores: number;
  usageCoreNanoSeconds: number;
  workingSetBytes: number;
  usageBytes: number;
  rssBytes: number;
  pageFaults: number;
  majorPageFaults: number;
}

export interface NetworkUsage {
  rxBytes: number;
  txBytes: number;
  rxErrors: number;
  txErrors: number;
}

// What the OS, kubelet and container runtime use beyond the pods.
const SYSTEM_MILLICORES = 180;
const SYSTEM_MEMORY_BYTES = 850 * 2 ** 20;

export function containerUsage(container: DemoContainer, pod: DemoPod, now: Date): Usage {
  return usage(container.cpuMillicores, container.memoryBytes, pod.startedAt, now, container.name);
}

export function podUsage(pod: DemoPod, now: Date): Usage {
  return sum(pod.containers.map((container) => containerUsage(container, pod, now)));
}

/** All pods together (the Summary API's `pods` system container). */
export function allPodsUsage(model: NodeModel, now: Date): Usage {
  return sum(model.pods.map((pod) => podUsage(pod, now)));
}

export function nodeUsage(model: NodeModel, now: Date): Usage {
  const system = usage(SYSTEM_MILLICORES, SYSTEM_MEMORY_BYTES, model.bootTime, now, 'system');
  return sum([system, allPodsUsage(model, now)]);
}

/** Bytes through the pod's interface; host-network pods report the node's. */
export function podNetwork(pod: DemoPod, now: Date): NetworkUsage {
  return network(seconds(pod.startedAt, now), pod.hostNetwork ? 40_000 : 1_200);
}

export function nodeNetwork(model: NodeModel, now: Date): NetworkUsage {
  return network(seconds(model.bootTime, now), 40_000);
}

/** Use of something running steadily since `since` (a system daemon, a container). */
export function usage(
  millicores: number,
  memoryBytes: number,
  since: Date,
  now: Date,
  phaseKey: string,
): Usage {
  const elapsed = seconds(since, now);
  const wobble = 1 + 0.12 * Math.sin(now.getTime() / 7_000 + phaseKey.length);
  const workingSetBytes = Math.round(memoryBytes * (1 + 0.02 * Math.sin(now.getTime() / 60_000)));
  return {
    usageNanoCores: Math.round(millicores * 1e6 * wobble),
    usageCoreNanoSeconds: Math.round(millicores * 1e6 * elapsed),
    workingSetBytes,
    usageBytes: Math.round(workingSetBytes * 1.3),
    rssBytes: Math.round(workingSetBytes * 0.8),
    pageFaults: Math.round(elapsed * 3),
    majorPageFaults: Math.round(elapsed / 600),
  };
}

function network(elapsed: number, bytesPerSecond: number): NetworkUsage {
  return {
    rxBytes: Math.round(elapsed * bytesPerSecond),
    txBytes: Math.round(elapsed * bytesPerSecond * 0.6),
    rxErrors: 0,
    txErrors: 0,
  };
}

function sum(parts: Usage[]): Usage {
  const total: Usage = {
    usageNanoCores: 0,
    usageCoreNanoSeconds: 0,
    workingSetBytes: 0,
    usageBytes: 0,
    rssBytes: 0,
    pageFaults: 0,
    majorPageFaults: 0,
  };
  for (const part of parts) {
    for (const key of Object.keys(total) as (keyof Usage)[]) total[key] += part[key];
  }
  return total;
}

function seconds(since: Date, now: Date): number {
  return Math.max(0, (now.getTime() - since.getTime()) / 1000);
}
