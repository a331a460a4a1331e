/**
 * `/pods` and `/runningpods/` bodies: `v1` PodLists as the kubelet serves them. `/pods` holds the
 * kubelet's full view of each pod (spec and status); `/runningpods/` only what the container
 * runtime knows (names, UIDs, containers with their images), as the kubelet builds it from the
 * runtime's pod list.
 */
import type { DemoPod, NodeModel } from './node-model.js';
import { rfc3339 } from './time-format.js';

type Json = Record<string, unknown>;

/** The `/pods` answer. */
export function podList(model: NodeModel): Json {
  return {
    kind: 'PodList',
    apiVersion: 'v1',
    metadata: {},
    items: model.pods.map((pod) => fullPod(model, pod)),
  };
}

/** The `/runningpods/` answer. */
export function runningPodList(model: NodeModel): Json {
  return {
    kind: 'PodList',
    apiVersion: 'v1',
    metadata: {},
    items: model.pods.map((pod) => ({
      metadata: { name: pod.name, namespace: pod.namespace, uid: pod.uid, creationTimestamp: null },
      spec: {
        containers: pod.containers.map((c) => ({ name: c.name, image: c.image, resources: {} })),
      },
      status: {},
    })),
  };
}

function fullPod(model: NodeModel, pod: DemoPod): Json {
  const started = rfc3339(pod.startedAt);
  const created = rfc3339(pod.createdAt);
  return {
    metadata: {
      name: pod.name,
      generateName: pod.name.slice(0, pod.name.lastIndexOf('-') + 1),
      namespace: pod.namespace,
      uid: pod.uid,
      resourceVersion: String(1000 + pod.name.length * 17),
      creationTimestamp: created,
      labels: pod.labels,
      annotations: {
        'kubernetes.io/config.seen': created.replace('Z', '.000000000Z'),
        'kubernetes.io/config.source': 'api',
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: pod.owner.kind,
          name: pod.owner.name,
          uid: pod.owner.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      containers: pod.containers.map((c) => ({
        name: c.name,
        image: c.image,
        ...(c.ports.length > 0 ? { ports: c.ports } : {}),
        resources:
          pod.qosClass === 'BestEffort'
            ? {}
            : { requests: { cpu: `${Math.max(10, c.cpuMillicores * 10)}m`, memory: '32Mi' } },
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        imagePullPolicy: 'IfNotPresent',
      })),
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: pod.hostNetwork ? 'ClusterFirstWithHostNet' : 'ClusterFirst',
      serviceAccountName: pod.serviceAccountName,
      serviceAccount: pod.serviceAccountName,
      nodeName: model.nodeName,
      ...(pod.hostNetwork ? { hostNetwork: true } : {}),
      securityContext: {},
      schedulerName: 'default-scheduler',
      ...(pod.priorityClassName ? { priorityClassName: pod.priorityClassName } : {}),
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
    },
    status: {
      phase: 'Running',
      conditions: [
        'PodReadyToStartContainers',
        'Initialized',
        'Ready',
        'ContainersReady',
        'PodScheduled',
      ].map((type) => ({
        type,
        status: 'True',
        lastProbeTime: null,
        lastTransitionTime: type === 'PodScheduled' ? created : started,
      })),
      hostIP: model.hostIP,
      hostIPs: [{ ip: model.hostIP }],
      podIP: pod.podIP,
      podIPs: [{ ip: pod.podIP }],
      startTime: created,
      containerStatuses: pod.containers.map((c) => ({
        name: c.name,
        state: { running: { startedAt: started } },
        lastState: {},
        ready: true,
        restartCount: 0,
        image: c.image,
        imageID: c.imageID,
        containerID: c.containerID,
        started: true,
      })),
      qosClass: pod.qosClass,
    },
  };
}
