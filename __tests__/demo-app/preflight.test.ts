import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createCA, mintServingCert } from '../../lib/testing/index.js';
import { CliError } from '../../demo-app/cli-error.js';
import { parseCommandLine } from '../../demo-app/flags.js';
import { resolveEffectiveConfig } from '../../demo-app/kubelet-config.js';
import type { PreparedKubelet } from '../../demo-app/preflight.js';
import { preflight } from '../../demo-app/preflight.js';

const dir = mkdtempSync(join(tmpdir(), 'preflight-test-'));
const file = (name: string): string => join(dir, name);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
  - name: c
    cluster:
      server: https://127.0.0.1:6443
users:
  - name: u
    user:
      token: abc
contexts:
  - name: ctx
    context: { cluster: c, user: u }
current-context: ctx
`;

beforeAll(async () => {
  const ca = await createCA();
  const [serving, other] = await Promise.all([
    mintServingCert({ ca, hosts: ['127.0.0.1'] }),
    mintServingCert({ hosts: ['127.0.0.1'] }),
  ]);
  writeFileSync(file('ca.crt'), ca.cert);
  writeFileSync(file('serving.crt'), serving.cert);
  writeFileSync(file('serving.key'), serving.key);
  writeFileSync(file('other.key'), other.key);
  writeFileSync(file('garbage'), 'not pem at all\n');
  writeFileSync(file('empty'), '');
  writeFileSync(file('kubeconfig'), KUBECONFIG);
  writeFileSync(file('kubeconfig-no-context'), KUBECONFIG.replace('current-context: ctx', ''));
  writeFileSync(file('kubeconfig-bad'), 'clusters: [unclosed\n');
  writeFileSync(
    file('kubelet.yaml'),
    'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nauthentication:\n  x509:\n    clientCAFile: missing-ca.crt\n',
  );
  writeFileSync(
    file('kubelet-defaults.yaml'),
    'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n',
  );
});

function run(argv: string[]): Promise<PreparedKubelet> {
  return preflight(resolveEffectiveConfig(parseCommandLine(argv).flags, { hostname: 'h' }));
}

async function errorOf(argv: string[]): Promise<string> {
  try {
    await run(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    expect((error as Error).message).not.toContain('\n');
    return (error as Error).message;
  }
  throw new Error('expected a failure');
}

describe('preflight: what starts', () => {
  it('the flag defaults alone (anonymous, AlwaysAllow) need no file and no API server', async () => {
    const prepared = await run(['--port=10250']);
    expect(prepared.servingPair).toBeUndefined();
    expect(prepared.kubeConfig).toBeUndefined();
  });

  it('loads the serving pair and the kubeconfig', async () => {
    const prepared = await run([
      `--tls-cert-file=${file('serving.crt')}`,
      `--tls-private-key-file=${file('serving.key')}`,
      `--client-ca-file=${file('ca.crt')}`,
      `--kubeconfig=${file('kubeconfig')}`,
      '--authentication-token-webhook',
      '--authorization-mode=Webhook',
      '--anonymous-auth=false',
    ]);
    expect(prepared.servingPair?.cert).toContain('BEGIN CERTIFICATE');
    expect(prepared.kubeConfig?.getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
  });

  it('x509 alone is an authentication method', () => {
    expect(() =>
      run(['--anonymous-auth=false', `--client-ca-file=${file('ca.crt')}`]),
    ).not.toThrow();
  });
});

describe('preflight: start-up errors, each naming its flag or field', () => {
  it.each<[string, () => string[], string]>([
    [
      'cert without key',
      () => [`--tls-cert-file=${file('serving.crt')}`],
      `flag --tls-cert-file is set but --tls-private-key-file is not: both are needed`,
    ],
    [
      'key without cert',
      () => [`--tls-private-key-file=${file('serving.key')}`],
      `flag --tls-private-key-file is set but --tls-cert-file is not: both are needed`,
    ],
    [
      'missing cert file',
      () => [
        `--tls-cert-file=${file('nope.crt')}`,
        `--tls-private-key-file=${file('serving.key')}`,
      ],
      `invalid value "${file('nope.crt')}" for flag --tls-cert-file: no such file or directory`,
    ],
    [
      'cert not PEM',
      () => [`--tls-cert-file=${file('garbage')}`, `--tls-private-key-file=${file('serving.key')}`],
      `invalid value "${file('garbage')}" for flag --tls-cert-file: no PEM certificate found`,
    ],
    [
      'key not PEM',
      () => [`--tls-cert-file=${file('serving.crt')}`, `--tls-private-key-file=${file('garbage')}`],
      `invalid value "${file('garbage')}" for flag --tls-private-key-file: no PEM private key found`,
    ],
    [
      'key of another certificate',
      () => [
        `--tls-cert-file=${file('serving.crt')}`,
        `--tls-private-key-file=${file('other.key')}`,
      ],
      `invalid value "${file('other.key')}" for flag --tls-private-key-file: the private key does not match the certificate in ${file('serving.crt')}`,
    ],
    [
      'missing CA file',
      () => [`--client-ca-file=${file('nope-ca.crt')}`],
      `invalid value "${file('nope-ca.crt')}" for flag --client-ca-file: no such file or directory`,
    ],
    [
      'empty CA file',
      () => [`--client-ca-file=${file('empty')}`],
      `invalid value "${file('empty')}" for flag --client-ca-file: the file contains no PEM certificates`,
    ],
    [
      'CA file not PEM',
      () => [`--client-ca-file=${file('garbage')}`],
      `invalid value "${file('garbage')}" for flag --client-ca-file: the file contains no PEM certificates`,
    ],
    [
      'CA file from the config file',
      () => [`--config=${file('kubelet.yaml')}`, `--kubeconfig=${file('kubeconfig')}`],
      `invalid value "${file('missing-ca.crt')}" for field authentication.x509.clientCAFile of --config file ${file('kubelet.yaml')}: no such file or directory`,
    ],
    [
      'unreadable kubeconfig',
      () => [`--kubeconfig=${file('nope-kubeconfig')}`],
      `invalid value "${file('nope-kubeconfig')}" for flag --kubeconfig: no such file or directory`,
    ],
    [
      'kubeconfig not YAML',
      () => [`--kubeconfig=${file('kubeconfig-bad')}`],
      `invalid value "${file('kubeconfig-bad')}" for flag --kubeconfig: not a valid kubeconfig`,
    ],
    [
      'kubeconfig without a current context',
      () => [`--kubeconfig=${file('kubeconfig-no-context')}`],
      `invalid value "${file('kubeconfig-no-context')}" for flag --kubeconfig: no current context with a cluster server`,
    ],
    [
      'token webhook without kubeconfig',
      () => ['--authentication-token-webhook'],
      'no client provided, cannot use webhook authentication: flag --authentication-token-webhook enables it, but --kubeconfig is not set',
    ],
    [
      'Webhook authorization without kubeconfig',
      () => ['--authorization-mode=Webhook'],
      'no client provided, cannot use webhook authorization: flag --authorization-mode sets mode Webhook, but --kubeconfig is not set',
    ],
    [
      'config file defaults without kubeconfig',
      () => [`--config=${file('kubelet-defaults.yaml')}`],
      'no client provided, cannot use webhook authentication: the KubeletConfiguration default of authentication.webhook.enabled enables it, but --kubeconfig is not set',
    ],
    [
      'config file defaults, token webhook off, without kubeconfig',
      () => [
        `--config=${file('kubelet-defaults.yaml')}`,
        '--authentication-token-webhook=false',
        `--client-ca-file=${file('ca.crt')}`,
      ],
      'no client provided, cannot use webhook authorization: the KubeletConfiguration default of authorization.mode sets mode Webhook, but --kubeconfig is not set',
    ],
    [
      'no authentication method',
      () => ['--anonymous-auth=false'],
      'no authentication method configured: flag --anonymous-auth turns anonymous requests off, and neither --client-ca-file nor --authentication-token-webhook is set',
    ],
  ])('%s', async (_name, argv, message) => {
    const actual = await errorOf(argv());
    if (message.endsWith('not a valid kubeconfig')) expect(actual.startsWith(message)).toBe(true);
    else expect(actual).toBe(message);
  });
});
