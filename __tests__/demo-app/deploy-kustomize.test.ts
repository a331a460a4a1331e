/**
 * What `kubectl apply -k demo-app/deploy/` would create: the objects `kubectl kustomize` renders,
 * checked for how they fit together (names, namespace, the image the Dockerfile builds, the
 * flags and files the mock kubelet starts with, the rights it gets). Needs kubectl on PATH (in
 * Debian: the kubernetes-client package); without it the suite is skipped and says so.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { parse as parseYaml, parseAllDocuments } from 'yaml';

const DEPLOY = join(process.cwd(), 'demo-app', 'deploy');
const NAMESPACE = 'mock-kubelet';

function kubectlVersion(): string | undefined {
  try {
    return execFileSync('kubectl', ['version', '--client'], { encoding: 'utf8', stdio: 'pipe' });
  } catch {
    return undefined;
  }
}
const kubectl = kubectlVersion();
if (kubectl === undefined) {
  console.warn(
    'SKIPPED __tests__/demo-app/deploy-kustomize.test.ts: no kubectl on PATH to render ' +
      '`kubectl kustomize demo-app/deploy` (Debian: apt-get install kubernetes-client)',
  );
}

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  args: string[];
  env: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports: { name: string; containerPort: number; protocol: string }[];
  readinessProbe: { tcpSocket?: { port: string | number } };
  livenessProbe: { tcpSocket?: { port: string | number } };
  securityContext: Record<string, unknown>;
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface DaemonSet extends KubeObject {
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        serviceAccountName: string;
        automountServiceAccountToken?: boolean;
        hostNetwork?: boolean;
        containers: Container[];
        volumes: { name: string; configMap?: { name: string }; emptyDir?: object }[];
      };
    };
  };
}

(kubectl === undefined ? describe.skip : describe)('kubectl kustomize demo-app/deploy', () => {
  let objects: KubeObject[] = [];
  const find = <T extends KubeObject>(kind: string, name: string): T => {
    const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
    if (found.length !== 1) throw new Error(`${found.length} ${kind} objects named ${name}`);
    return found[0] as T;
  };
  let daemonSet: DaemonSet;
  let pod: DaemonSet['spec']['template']['spec'];
  let container: Container;
  let configMap: KubeObject & { data: Record<string, string> };

  // Rendered here, not while collecting: a skipped suite must not call kubectl.
  beforeAll(() => {
    const rendered = execFileSync('kubectl', ['kustomize', DEPLOY], { encoding: 'utf8' });
    objects = parseAllDocuments(rendered).map((doc) => doc.toJS() as KubeObject);
    daemonSet = find<DaemonSet>('DaemonSet', 'mock-kubelet');
    pod = daemonSet.spec.template.spec;
    container = pod.containers[0] as Container;
    configMap = find('ConfigMap', 'mock-kubelet');
  });

  it('renders exactly these objects, the namespaced ones in mock-kubelet', () => {
    const names = objects.map((o) =>
      [o.apiVersion, o.kind, o.metadata.namespace ?? '-', o.metadata.name].join(' '),
    );
    expect(names.sort()).toEqual(
      [
        'v1 Namespace - mock-kubelet',
        'v1 ServiceAccount mock-kubelet mock-kubelet',
        'v1 ConfigMap mock-kubelet mock-kubelet',
        'apps/v1 DaemonSet mock-kubelet mock-kubelet',
        'rbac.authorization.k8s.io/v1 ClusterRoleBinding - mock-kubelet:auth-delegator',
        'rbac.authorization.k8s.io/v1 ClusterRole - kubelet-stats-reader',
        'rbac.authorization.k8s.io/v1 ClusterRoleBinding - kubelet-stats-reader:jane',
      ].sort(),
    );
    expect(find('Namespace', NAMESPACE)).toBeDefined();
  });

  it('binds the ServiceAccount the pods run as to system:auth-delegator', () => {
    expect(pod.serviceAccountName).toBe(find('ServiceAccount', 'mock-kubelet').metadata.name);
    // The kubeconfig authenticates with the pod's service account token.
    expect(pod.automountServiceAccountToken).not.toBe(false);
    expect(find('ClusterRoleBinding', 'mock-kubelet:auth-delegator')).toMatchObject({
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: 'system:auth-delegator',
      },
      subjects: [{ kind: 'ServiceAccount', name: pod.serviceAccountName, namespace: NAMESPACE }],
    });
  });

  it('runs one pod per node from the image the Dockerfile builds, with its ENTRYPOINT', () => {
    expect(daemonSet.spec.selector.matchLabels).toEqual(daemonSet.spec.template.metadata.labels);
    const tag = /docker build -f demo-app\/deploy\/Dockerfile -t (\S+) \./.exec(
      readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8'),
    )?.[1];
    expect(container.image).toBe(tag);
    expect(container.command).toBeUndefined();
    // On the pod network: the node's own kubelet has the host's port 10250.
    expect(pod.hostNetwork).not.toBe(true);
  });

  it('starts the mock kubelet with the ConfigMap files, named after its node', () => {
    expect(container.args).toEqual([
      '--config=/etc/mock-kubelet/kubelet-config.yaml',
      '--kubeconfig=/etc/mock-kubelet/kubeconfig',
      '--hostname-override=$(NODE_NAME)',
    ]);
    expect(container.env).toContainEqual({
      name: 'NODE_NAME',
      valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } },
    });
    const volume = (mountPath: string) => {
      const mount = container.volumeMounts.find((m) => m.mountPath === mountPath);
      expect(mount?.readOnly).toBe(true);
      return pod.volumes.find((v) => v.name === mount?.name);
    };
    expect(volume('/etc/mock-kubelet')?.configMap?.name).toBe(configMap.metadata.name);
    expect(Object.keys(configMap.data).sort()).toEqual(['kubeconfig', 'kubelet-config.yaml']);
    const config = parseYaml(configMap.data['kubelet-config.yaml'] ?? '') as {
      port: number;
      authentication: { x509: { clientCAFile: string } };
    };
    // The client CA file is the cluster CA, published in every namespace.
    expect(config.authentication.x509.clientCAFile).toBe('/etc/mock-kubelet/client-ca/ca.crt');
    expect(volume('/etc/mock-kubelet/client-ca')?.configMap?.name).toBe('kube-root-ca.crt');
    expect(container.ports).toEqual([
      { name: 'https', containerPort: config.port, protocol: 'TCP' },
    ]);
    expect(container.readinessProbe.tcpSocket?.port).toBe('https');
    expect(container.livenessProbe.tcpSocket?.port).toBe('https');
  });

  it('runs unprivileged: non-root, read-only root filesystem, no capabilities', () => {
    expect(container.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: expect.any(Number),
      runAsGroup: expect.any(Number),
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.securityContext.runAsUser).toBeGreaterThan(0);
    const tmp = container.volumeMounts.find((m) => m.mountPath === '/tmp');
    expect(pod.volumes.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
  });

  it('grants the example user the fine-grained read subresources, not nodes/proxy', () => {
    const role = find<KubeObject & { rules: { resources: string[]; verbs: string[] }[] }>(
      'ClusterRole',
      'kubelet-stats-reader',
    );
    const resources = role.rules.flatMap((rule) => rule.resources);
    expect(resources).toEqual(expect.arrayContaining(['nodes/stats', 'nodes/pods']));
    expect(resources).not.toContain('nodes/proxy');
    expect(find('ClusterRoleBinding', 'kubelet-stats-reader:jane')).toMatchObject({
      roleRef: { kind: 'ClusterRole', name: role.metadata.name },
      subjects: [{ kind: 'User', name: 'jane' }],
    });
  });
});
