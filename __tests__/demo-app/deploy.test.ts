import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { parseCommandLine } from '../../demo-app/flags.js';
import { resolveEffectiveConfig } from '../../demo-app/kubelet-config.js';

const DEPLOY = join(process.cwd(), 'demo-app', 'deploy');
const dir = mkdtempSync(join(tmpdir(), 'deploy-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [field: string]: unknown;
}

const manifests: Manifest[] = readdirSync(DEPLOY)
  .filter((name) => name.endsWith('.yaml') && name !== 'kustomization.yaml')
  .flatMap((name) =>
    parseAllDocuments(readFileSync(join(DEPLOY, name), 'utf8')).map((doc) => {
      expect(doc.errors).toEqual([]);
      return doc.toJS() as Manifest;
    }),
  );
const find = (kind: string, name: string): Manifest => {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
};

describe('demo-app/deploy manifests', () => {
  it('kustomization lists every manifest file', () => {
    const kustomization = readFileSync(join(DEPLOY, 'kustomization.yaml'), 'utf8');
    for (const name of readdirSync(DEPLOY).filter(
      (n) => n.endsWith('.yaml') && n !== 'kustomization.yaml',
    )) {
      expect(kustomization).toContain(`- ${name}`);
    }
    expect(kustomization).toMatch(/NO IMAGE IS PUBLISHED/);
  });

  it('binds the service account to system:auth-delegator (TokenReview + SubjectAccessReview)', () => {
    expect(find('ClusterRoleBinding', 'mock-kubelet:auth-delegator')).toMatchObject({
      roleRef: { kind: 'ClusterRole', name: 'system:auth-delegator' },
      subjects: [{ kind: 'ServiceAccount', name: 'mock-kubelet', namespace: 'mock-kubelet' }],
    });
  });

  it('grants an example user nodes/stats and the fine-grained subresources', () => {
    const role = find('ClusterRole', 'kubelet-stats-reader') as Manifest & {
      rules: { resources: string[]; verbs: string[] }[];
    };
    expect(role.rules[0]?.resources).toEqual(
      expect.arrayContaining(['nodes/stats', 'nodes/pods', 'nodes/healthz', 'nodes/configz']),
    );
    expect(find('ClusterRoleBinding', 'kubelet-stats-reader:jane')).toMatchObject({
      subjects: [{ kind: 'User', name: 'jane' }],
    });
  });

  it('the DaemonSet arguments and the ConfigMap configuration start the mock kubelet as intended', () => {
    const configMap = find('ConfigMap', 'mock-kubelet') as Manifest & {
      data: Record<string, string>;
    };
    const daemonSet = find('DaemonSet', 'mock-kubelet') as Manifest & {
      spec: {
        template: { spec: { serviceAccountName: string; containers: { args: string[] }[] } };
      };
    };
    expect(daemonSet.spec.template.spec.serviceAccountName).toBe('mock-kubelet');
    const args = daemonSet.spec.template.spec.containers[0]?.args ?? [];

    // Point the file flags at copies of the ConfigMap's files.
    const configPath = join(dir, 'kubelet-config.yaml');
    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(configPath, configMap.data['kubelet-config.yaml'] ?? '');
    writeFileSync(kubeconfigPath, configMap.data.kubeconfig ?? '');
    const localArgs = args.map((arg) =>
      arg
        .replace('/etc/mock-kubelet/kubelet-config.yaml', configPath)
        .replace('/etc/mock-kubelet/kubeconfig', kubeconfigPath)
        .replace('$(NODE_NAME)', 'Worker-7'),
    );
    const config = resolveEffectiveConfig(parseCommandLine(localArgs).flags, { hostname: 'x' });
    expect(config.nodeName).toBe('worker-7');
    expect(config.settings).toMatchObject({
      port: 10250,
      'anonymous-auth': false,
      'authentication-token-webhook': true,
      'authorization-mode': 'Webhook',
      'client-ca-file': '/etc/mock-kubelet/client-ca/ca.crt',
    });

    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    expect(kubeConfig.getCurrentCluster()?.server).toBe('https://kubernetes.default.svc');
    expect(kubeConfig.getCurrentUser()?.authProvider?.name).toBe('tokenFile');
  });
});
