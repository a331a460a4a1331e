/**
 * The imaginary node every endpoint describes: its machine, and a few pods with their
 * containers. One model feeds /pods, /stats/summary, the metrics, logs and exec answers, so
 * they agree with each other the way a real kubelet's do. Names, UIDs and container IDs are
 * derived from the node name, so two mock kubelets look like two different nodes while each
 * one stays stable across restarts.
 */
import { createHash } from 'node:crypto';

export interface DemoContainer {
  name: string;
  image: string;
  imageID: string;
  /** `containerd://<64 hex>`. */
  containerID: string;
  ports: { name?: string; containerPort: number; protocol: 'TCP' | 'UDP' }[];
  /** Steady CPU use, in millicores, that stats and metrics report around. */
  cpuMillicores: number;
  /** Working set, in bytes. */
  memoryBytes: number;
  /** Which canned log lines /containerLogs serves. */
  logStyle: 'kube-proxy' | 'coredns' | 'nginx' | 'shipper' | 'node-exporter';
  probes: ('Liveness' | 'Readiness')[];
}

export interface DemoPod {
  namespace: string;
  name: string;
  uid: string;
  labels: Record<string, string>;
  owner: { kind: 'DaemonSet' | 'ReplicaSet'; name: string; uid: string };
  serviceAccountName: string;
  hostNetwork: boolean;
  podIP: string;
  qosClass: 'Guaranteed' | 'Burstable' | 'BestEffort';
  priorityClassName?: string;
  createdAt: Date;
  startedAt: Date;
  containers: DemoContainer[];
}

export interface NodeModel {
  nodeName: string;
  hostIP: string;
  machineID: string;
  systemUUID: string;
  bootID: string;
  cpuCores: number;
  memoryCapacityBytes: number;
  filesystemCapacityBytes: number;
  bootTime: Date;
  /** When this (mock) kubelet started. */
  kubeletStartedAt: Date;
  pods: DemoPod[];
}

/** The model of node `nodeName`, as seen by a kubelet started at `startedAt`. */
export function createNodeModel(nodeName: string, startedAt: Date = new Date()): NodeModel {
  const seed = (label: string): string =>
    createHash('sha256').update(`${nodeName}/${label}`).digest('hex');
  const bootTime = new Date(startedAt.getTime() - 3 * 3_600_000);
  const podStart = (offsetSeconds: number): Date =>
    new Date(bootTime.getTime() + offsetSeconds * 1000);
  const octet = (parseInt(seed('ip').slice(0, 2), 16) % 200) + 10;
  const hostIP = `10.0.0.${octet}`;
  const podIP = (n: number): string => `10.244.${octet}.${n}`;
  const container = (
    podName: string,
    spec: Omit<DemoContainer, 'containerID' | 'imageID'>,
  ): DemoContainer => ({
    ...spec,
    containerID: `containerd://${seed(`${podName}/${spec.name}`)}`,
    imageID: `${spec.image.split(':')[0] ?? spec.image}@sha256:${seed(`image/${spec.image}`)}`,
  });
  const suffix = (label: string): string => podSuffix(seed(label));

  const kubeProxy = `kube-proxy-${suffix('kube-proxy')}`;
  const nodeExporter = `node-exporter-${suffix('node-exporter')}`;
  const coredns = `coredns-668d6bf9bc-${suffix('coredns')}`;
  const web = `web-7c9d8f6b5-${suffix('web')}`;

  const pods: DemoPod[] = [
    {
      namespace: 'kube-system',
      name: kubeProxy,
      uid: uuid(seed(`uid/${kubeProxy}`)),
      labels: {
        'k8s-app': 'kube-proxy',
        'controller-revision-hash': '6d8f7c9b5d',
        'pod-template-generation': '1',
      },
      owner: { kind: 'DaemonSet', name: 'kube-proxy', uid: uuid(seed('ds/kube-proxy')) },
      serviceAccountName: 'kube-proxy',
      hostNetwork: true,
      podIP: hostIP,
      qosClass: 'BestEffort',
      priorityClassName: 'system-node-critical',
      createdAt: podStart(20),
      startedAt: podStart(22),
      containers: [
        container(kubeProxy, {
          name: 'kube-proxy',
          image: 'registry.k8s.io/kube-proxy:v1.36.0',
          ports: [],
          cpuMillicores: 2,
          memoryBytes: 21 * 2 ** 20,
          logStyle: 'kube-proxy',
          probes: [],
        }),
      ],
    },
    {
      namespace: 'kube-system',
      name: coredns,
      uid: uuid(seed(`uid/${coredns}`)),
      labels: { 'k8s-app': 'kube-dns', 'pod-template-hash': '668d6bf9bc' },
      owner: { kind: 'ReplicaSet', name: 'coredns-668d6bf9bc', uid: uuid(seed('rs/coredns')) },
      serviceAccountName: 'coredns',
      hostNetwork: false,
      podIP: podIP(2),
      qosClass: 'Burstable',
      priorityClassName: 'system-cluster-critical',
      createdAt: podStart(40),
      startedAt: podStart(45),
      containers: [
        container(coredns, {
          name: 'coredns',
          image: 'registry.k8s.io/coredns/coredns:v1.12.1',
          ports: [
            { name: 'dns', containerPort: 53, protocol: 'UDP' },
            { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
            { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
          ],
          cpuMillicores: 4,
          memoryBytes: 17 * 2 ** 20,
          logStyle: 'coredns',
          probes: ['Liveness', 'Readiness'],
        }),
      ],
    },
    {
      namespace: 'monitoring',
      name: nodeExporter,
      uid: uuid(seed(`uid/${nodeExporter}`)),
      labels: {
        'app.kubernetes.io/name': 'node-exporter',
        'controller-revision-hash': '5b9c8d7f4',
      },
      owner: { kind: 'DaemonSet', name: 'node-exporter', uid: uuid(seed('ds/node-exporter')) },
      serviceAccountName: 'node-exporter',
      hostNetwork: true,
      podIP: hostIP,
      qosClass: 'Burstable',
      createdAt: podStart(60),
      startedAt: podStart(64),
      containers: [
        container(nodeExporter, {
          name: 'node-exporter',
          image: 'quay.io/prometheus/node-exporter:v1.9.1',
          ports: [{ name: 'metrics', containerPort: 9100, protocol: 'TCP' }],
          cpuMillicores: 3,
          memoryBytes: 14 * 2 ** 20,
          logStyle: 'node-exporter',
          probes: ['Liveness'],
        }),
      ],
    },
    {
      namespace: 'default',
      name: web,
      uid: uuid(seed(`uid/${web}`)),
      labels: { app: 'web', 'pod-template-hash': '7c9d8f6b5' },
      owner: { kind: 'ReplicaSet', name: 'web-7c9d8f6b5', uid: uuid(seed('rs/web')) },
      serviceAccountName: 'default',
      hostNetwork: false,
      podIP: podIP(7),
      qosClass: 'Burstable',
      createdAt: podStart(600),
      startedAt: podStart(603),
      containers: [
        container(web, {
          name: 'nginx',
          image: 'docker.io/library/nginx:1.27',
          ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }],
          cpuMillicores: 1,
          memoryBytes: 9 * 2 ** 20,
          logStyle: 'nginx',
          probes: ['Liveness', 'Readiness'],
        }),
        container(web, {
          name: 'log-shipper',
          image: 'docker.io/library/busybox:1.37',
          ports: [],
          cpuMillicores: 1,
          memoryBytes: 2 * 2 ** 20,
          logStyle: 'shipper',
          probes: [],
        }),
      ],
    },
  ];

  return {
    nodeName,
    hostIP,
    machineID: seed('machine-id').slice(0, 32),
    systemUUID: uuid(seed('system-uuid')).toUpperCase(),
    bootID: uuid(seed(`boot/${bootTime.toISOString()}`)),
    cpuCores: 4,
    memoryCapacityBytes: 16 * 2 ** 30,
    filesystemCapacityBytes: 100 * 2 ** 30,
    bootTime,
    kubeletStartedAt: startedAt,
    pods,
  };
}

/** The pod and container a request names, if this node runs them. */
export function findPod(model: NodeModel, namespace: string, name: string): DemoPod | undefined {
  return model.pods.find((pod) => pod.namespace === namespace && pod.name === name);
}

// Kubernetes' generated-name alphabet (no vowels, no confusable digits).
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function podSuffix(hex: string): string {
  let out = '';
  for (let i = 0; i < 5; i++) {
    out += SUFFIX_ALPHABET[parseInt(hex.slice(i * 2, i * 2 + 2), 16) % SUFFIX_ALPHABET.length];
  }
  return out;
}

function uuid(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
