import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { CliError } from '../../demo-app/cli-error.js';
import { parseCommandLine } from '../../demo-app/flags.js';
import { resolveEffectiveConfig } from '../../demo-app/kubelet-config.js';
import type { EffectiveConfig } from '../../demo-app/kubelet-config.js';
import type { Settings } from '../../demo-app/settings.js';

const dir = mkdtempSync(join(tmpdir(), 'kubelet-config-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HEAD = 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n';
let fileCount = 0;

/** Writes a config file and returns its path. */
function configFile(body: string, withHead = true): string {
  const path = join(dir, `kubelet-${++fileCount}.yaml`);
  writeFileSync(path, withHead ? HEAD + body : body);
  return path;
}

function resolve(argv: string[], hostname = 'Worker-1'): EffectiveConfig {
  return resolveEffectiveConfig(parseCommandLine(argv).flags, { hostname });
}

const FLAG_DEFAULT_SETTINGS: Settings = {
  address: '0.0.0.0',
  port: 10250,
  'tls-cert-file': '',
  'tls-private-key-file': '',
  'client-ca-file': '',
  'anonymous-auth': true,
  'authentication-token-webhook': false,
  'authentication-token-webhook-cache-ttl': 120_000,
  'authorization-mode': 'AlwaysAllow',
  'authorization-webhook-cache-authorized-ttl': 300_000,
  'authorization-webhook-cache-unauthorized-ttl': 30_000,
  'feature-gates': { KubeletFineGrainedAuthz: true, ContainerCheckpoint: true },
};

const FILE_DEFAULT_SETTINGS: Settings = {
  ...FLAG_DEFAULT_SETTINGS,
  'anonymous-auth': false,
  'authentication-token-webhook': true,
  'authorization-mode': 'Webhook',
};

describe('resolveEffectiveConfig: the two default sets (config file vs command line)', () => {
  it('without --config, the kubelet command-line defaults: anonymous on, token webhook off, AlwaysAllow', () => {
    const config = resolve(['--port=10250']);
    expect(config.settings).toEqual(FLAG_DEFAULT_SETTINGS);
    expect(config.origins['anonymous-auth']).toBe('the kubelet flag default of --anonymous-auth');
  });

  it('with --config, the v1beta1 file defaults: anonymous off, token webhook on, Webhook', () => {
    const path = configFile('');
    const config = resolve([`--config=${path}`]);
    expect(config.settings).toEqual(FILE_DEFAULT_SETTINGS);
    expect(config.configFile).toBe(path);
    expect(config.origins['authorization-mode']).toBe(
      'the KubeletConfiguration default of authorization.mode',
    );
  });
});

describe('resolveEffectiveConfig: precedence flag > file > defaults', () => {
  const full = configFile(`address: 127.0.0.1
port: 10260
tlsCertFile: /pki/kubelet.crt
tlsPrivateKeyFile: /pki/kubelet.key
authentication:
  x509:
    clientCAFile: /pki/ca.crt
  webhook:
    enabled: false
    cacheTTL: 10s
  anonymous:
    enabled: true
authorization:
  mode: AlwaysAllow
  webhook:
    cacheAuthorizedTTL: 1m
    cacheUnauthorizedTTL: 2s
featureGates:
  ContainerCheckpoint: false
clusterDNS: [10.96.0.10]
`);

  it('the file sets every honoured field (other KubeletConfiguration fields are ignored)', () => {
    expect(resolve([`--config=${full}`]).settings).toEqual({
      address: '127.0.0.1',
      port: 10260,
      'tls-cert-file': '/pki/kubelet.crt',
      'tls-private-key-file': '/pki/kubelet.key',
      'client-ca-file': '/pki/ca.crt',
      'anonymous-auth': true,
      'authentication-token-webhook': false,
      'authentication-token-webhook-cache-ttl': 10_000,
      'authorization-mode': 'AlwaysAllow',
      'authorization-webhook-cache-authorized-ttl': 60_000,
      'authorization-webhook-cache-unauthorized-ttl': 2_000,
      'feature-gates': { KubeletFineGrainedAuthz: true, ContainerCheckpoint: false },
    });
  });

  it.each<[string[], Partial<Settings>]>([
    [['--address=::1'], { address: '::1' }],
    [['--port=11000'], { port: 11000 }],
    [['--tls-cert-file=/x.crt'], { 'tls-cert-file': '/x.crt' }],
    [['--tls-private-key-file=/x.key'], { 'tls-private-key-file': '/x.key' }],
    [['--client-ca-file=/other-ca.crt'], { 'client-ca-file': '/other-ca.crt' }],
    [['--anonymous-auth=false'], { 'anonymous-auth': false }],
    [['--authentication-token-webhook'], { 'authentication-token-webhook': true }],
    [
      ['--authentication-token-webhook-cache-ttl=0s'],
      { 'authentication-token-webhook-cache-ttl': 0 },
    ],
    [['--authorization-mode=Webhook'], { 'authorization-mode': 'Webhook' }],
    [
      ['--authorization-webhook-cache-authorized-ttl=0'],
      { 'authorization-webhook-cache-authorized-ttl': 0 },
    ],
    [
      ['--authorization-webhook-cache-unauthorized-ttl=45s'],
      { 'authorization-webhook-cache-unauthorized-ttl': 45_000 },
    ],
    [
      ['--feature-gates=KubeletFineGrainedAuthz=false'],
      { 'feature-gates': { KubeletFineGrainedAuthz: false, ContainerCheckpoint: false } },
    ],
    [
      ['--feature-gates=ContainerCheckpoint=true'],
      { 'feature-gates': { KubeletFineGrainedAuthz: true, ContainerCheckpoint: true } },
    ],
  ])('flag %j overrides the file', (flags, expected) => {
    const config = resolve([`--config=${full}`, ...flags]);
    expect(config.settings).toEqual({ ...resolve([`--config=${full}`]).settings, ...expected });
    const name = Object.keys(expected)[0] as keyof Settings;
    expect(config.origins[name]).toBe(`flag --${name}`);
  });

  it('flags may come before --config too', () => {
    expect(resolve(['--port=11000', `--config=${full}`]).settings.port).toBe(11000);
  });

  it('names the file field a value came from', () => {
    expect(resolve([`--config=${full}`]).origins['client-ca-file']).toBe(
      `field authentication.x509.clientCAFile of --config file ${full}`,
    );
  });

  it('a partial file keeps the file defaults for everything else', () => {
    const path = configFile('authentication:\n  anonymous:\n    enabled: true\n');
    expect(resolve([`--config=${path}`]).settings).toEqual({
      ...FILE_DEFAULT_SETTINGS,
      'anonymous-auth': true,
    });
  });
});

describe('the config file zero-value trap', () => {
  it('zero TTLs and port 0 in the file mean "default"', () => {
    const path = configFile(`port: 0
authentication:
  webhook:
    cacheTTL: 0s
authorization:
  webhook:
    cacheAuthorizedTTL: "0"
    cacheUnauthorizedTTL: 0s
`);
    expect(resolve([`--config=${path}`]).settings).toEqual(FILE_DEFAULT_SETTINGS);
  });

  it('only a flag can set a real zero TTL', () => {
    const path = configFile('authentication:\n  webhook:\n    cacheTTL: 0s\n');
    const config = resolve([`--config=${path}`, '--authentication-token-webhook-cache-ttl=0s']);
    expect(config.settings['authentication-token-webhook-cache-ttl']).toBe(0);
  });

  it('null and empty values are unset', () => {
    const path = configFile(
      'address: ""\nauthentication:\n  anonymous:\n    enabled: null\nauthorization:\n  mode: ""\n',
    );
    expect(resolve([`--config=${path}`]).settings).toEqual(FILE_DEFAULT_SETTINGS);
  });
});

describe('paths in the config file', () => {
  it('are resolved relative to the file, as the kubelet does', () => {
    const path = configFile(
      'tlsCertFile: pki/k.crt\ntlsPrivateKeyFile: ./pki/k.key\nauthentication:\n  x509:\n    clientCAFile: ../ca.crt\n',
    );
    const { settings } = resolve([`--config=${path}`]);
    expect(settings['tls-cert-file']).toBe(join(dir, 'pki/k.crt'));
    expect(settings['tls-private-key-file']).toBe(join(dir, 'pki/k.key'));
    expect(settings['client-ca-file']).toBe(join(dir, '../ca.crt'));
  });
});

describe('node name', () => {
  it.each<[string[], string, string]>([
    [['--port=1'], 'Worker-1', 'worker-1'],
    [['--hostname-override=Node-B'], 'Worker-1', 'node-b'],
    [['--hostname-override= edge-3 '], 'Worker-1', 'edge-3'],
    [['--hostname-override='], 'Host.Example', 'host.example'],
  ])('%j on host %s → %s (lower-cased, as the kubelet)', (argv, host, name) => {
    expect(resolve(argv, host).nodeName).toBe(name);
  });

  it('--kubeconfig is a flag only', () => {
    expect(resolve(['--kubeconfig=/kc']).kubeconfig).toBe('/kc');
    expect(resolve(['--port=1']).kubeconfig).toBe('');
  });
});

describe('config file errors (one line, naming the flag or field)', () => {
  const errorOf = (argv: string[]): string => {
    try {
      resolve(argv);
    } catch (error) {
      expect(error).toBeInstanceOf(CliError);
      expect((error as Error).message).not.toContain('\n');
      return (error as Error).message;
    }
    throw new Error('expected a failure');
  };

  it.each<[string, string, boolean, string]>([
    [
      'wrong kind',
      'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeProxyConfiguration\n',
      false,
      'expected kind KubeletConfiguration of apiVersion kubelet.config.k8s.io/v1beta1, got kind "KubeProxyConfiguration" of apiVersion "kubelet.config.k8s.io/v1beta1"',
    ],
    [
      'wrong apiVersion',
      'apiVersion: kubelet.config.k8s.io/v1alpha1\nkind: KubeletConfiguration\n',
      false,
      'got kind "KubeletConfiguration" of apiVersion "kubelet.config.k8s.io/v1alpha1"',
    ],
    ['no kind', 'port: 10250\n', false, 'got kind "" of apiVersion ""'],
    ['not a mapping', '- a\n- b\n', false, 'expected a YAML mapping'],
    ['empty', '', false, 'the kubelet config file is empty'],
    ['bad YAML', 'port: [1\n', false, 'not valid YAML'],
    ['two documents', `${HEAD}---\n${HEAD}`, false, 'not valid YAML'],
    ['port text', 'port: abc\n', true, 'for field port of --config file'],
    ['port range', 'port: 70000\n', true, 'invalid value "70000" for field port of --config file'],
    ['address', 'address: example.com\n', true, '"example.com" is not a valid IP address'],
    [
      'mode',
      'authorization:\n  mode: Foo\n',
      true,
      'invalid value "Foo" for field authorization.mode of --config file',
    ],
    [
      'duration text',
      'authentication:\n  webhook:\n    cacheTTL: 5\n',
      true,
      'invalid value "5" for field authentication.webhook.cacheTTL of --config file',
    ],
    [
      'bad duration',
      'authorization:\n  webhook:\n    cacheUnauthorizedTTL: soon\n',
      true,
      'must be a Go duration',
    ],
    [
      'bool as text',
      'authentication:\n  anonymous:\n    enabled: "yes"\n',
      true,
      'field authentication.anonymous.enabled of --config file',
    ],
    ['path not a string', 'tlsCertFile: 3\n', true, 'invalid value "3" for field tlsCertFile'],
    ['unknown gate', 'featureGates:\n  Foo: true\n', true, 'unrecognized feature gate: Foo'],
    [
      'gate not bool',
      'featureGates:\n  ContainerCheckpoint: "off"\n',
      true,
      'ContainerCheckpoint must be true or false',
    ],
    [
      'gates not a map',
      'featureGates: [ContainerCheckpoint]\n',
      true,
      'must be a map of gate name to bool',
    ],
    ['section not a map', 'authentication: yes\n', true, 'field authentication must be a mapping'],
  ])('%s', (_name, body, withHead, message) => {
    const path = configFile(body, withHead);
    expect(errorOf([`--config=${path}`])).toContain(message);
  });

  it('a missing file names --config', () => {
    expect(errorOf([`--config=${join(dir, 'absent.yaml')}`])).toBe(
      `invalid value "${join(dir, 'absent.yaml')}" for flag --config: no such file or directory`,
    );
  });

  it('a directory names --config', () => {
    expect(errorOf([`--config=${dir}`])).toBe(
      `invalid value "${dir}" for flag --config: is a directory`,
    );
  });
});

describe('config file strict decoding: unknown and duplicate fields are refused', () => {
  const errorOf = (body: string): string => {
    const path = configFile(body);
    try {
      resolve([`--config=${path}`]);
    } catch (error) {
      expect(error).toBeInstanceOf(CliError);
      expect((error as Error).message).not.toContain('\n');
      return (error as Error).message;
    }
    throw new Error('expected a failure');
  };

  it('the typo anonymus names the field, not "no authentication method configured"', () => {
    const path = configFile('authentication:\n  anonymus:\n    enabled: true\n');
    expect(() => resolve([`--config=${path}`])).toThrow(
      new CliError(
        `invalid value ${JSON.stringify(path)} for flag --config: strict decoding error: unknown field "authentication.anonymus" (did you mean "authentication.anonymous"?)`,
      ),
    );
  });

  it.each<[string, string, string]>([
    ['top level', 'prot: 10250\n', 'unknown field "prot" (did you mean "port"?)'],
    ['wrong case', 'Port: 10250\n', 'unknown field "Port" (did you mean "port"?)'],
    [
      'authentication',
      'authentication:\n  x059:\n    clientCAFile: /ca.crt\n',
      'unknown field "authentication.x059" (did you mean "authentication.x509"?)',
    ],
    [
      'authentication.x509',
      'authentication:\n  x509:\n    clientCaFile: /ca.crt\n',
      'unknown field "authentication.x509.clientCaFile" (did you mean "authentication.x509.clientCAFile"?)',
    ],
    [
      'authentication.webhook',
      'authentication:\n  webhook:\n    cacheTtl: 1m\n',
      'unknown field "authentication.webhook.cacheTtl" (did you mean "authentication.webhook.cacheTTL"?)',
    ],
    [
      'authentication.anonymous',
      'authentication:\n  anonymous:\n    enable: true\n',
      'unknown field "authentication.anonymous.enable" (did you mean "authentication.anonymous.enabled"?)',
    ],
    [
      'authorization',
      'authorization:\n  mdoe: AlwaysAllow\n',
      'unknown field "authorization.mdoe" (did you mean "authorization.mode"?)',
    ],
    [
      'authorization.webhook',
      'authorization:\n  webhook:\n    cacheAuthorizedTtl: 1m\n',
      'unknown field "authorization.webhook.cacheAuthorizedTtl" (did you mean "authorization.webhook.cacheAuthorizedTTL"?)',
    ],
    [
      'a field the mock ignores, nested',
      'memorySwap:\n  swapBehaviour: NoSwap\n',
      'unknown field "memorySwap.swapBehaviour" (did you mean "memorySwap.swapBehavior"?)',
    ],
    [
      'inside a list of objects',
      'shutdownGracePeriodByPodPriority:\n- priority: 1\n  shutdownGracePeriod: 10\n',
      'unknown field "shutdownGracePeriodByPodPriority[0].shutdownGracePeriod"',
    ],
    [
      'logging options',
      'logging:\n  options:\n    text:\n      splitStreams: true\n',
      'unknown field "logging.options.text.splitStreams" (did you mean "logging.options.text.splitStream"?)',
    ],
  ])('%s', (_level, body, message) => {
    expect(errorOf(body)).toContain(message);
  });

  it('a field with no close name gets no hint', () => {
    expect(errorOf('colour: blue\n')).toMatch(/: strict decoding error: unknown field "colour"$/);
  });

  it('lists every unknown field, in file order, in one line', () => {
    expect(errorOf('prot: 1\nauthorization:\n  mdoe: Webhook\n')).toContain(
      'strict decoding error: unknown field "prot" (did you mean "port"?), unknown field "authorization.mdoe" (did you mean "authorization.mode"?)',
    );
  });

  it.each<[string, string, string]>([
    ['top level', 'port: 1\nport: 2\n', 'strict decoding error: duplicate field "port"'],
    [
      'nested',
      'authentication:\n  anonymous:\n    enabled: true\n    enabled: false\n',
      'strict decoding error: duplicate field "authentication.anonymous.enabled"',
    ],
    [
      'inside a free-form map',
      'featureGates:\n  ContainerCheckpoint: true\n  ContainerCheckpoint: false\n',
      'strict decoding error: duplicate field "featureGates.ContainerCheckpoint"',
    ],
  ])('a duplicate field, %s', (_level, body, message) => {
    expect(errorOf(body)).toContain(message);
  });

  it('an unknown field reached through a YAML alias is refused too', () => {
    expect(errorOf('x: &w\n  cacheTtl: 1m\n')).toContain('unknown field "x"');
    expect(
      errorOf(
        'authorization:\n  webhook: &w\n    cacheAuthorizedTTL: 1m\nauthentication:\n  webhook: *w\n',
      ),
    ).toContain('unknown field "authentication.webhook.cacheAuthorizedTTL"');
  });

  it('the kind is checked before the fields', () => {
    const path = configFile(
      'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfig\nprot: 1\n',
      false,
    );
    let message = '';
    try {
      resolve([`--config=${path}`]);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(
      `invalid value ${JSON.stringify(path)} for flag --config: expected kind KubeletConfiguration of apiVersion kubelet.config.k8s.io/v1beta1, got kind "KubeletConfig" of apiVersion "kubelet.config.k8s.io/v1beta1"`,
    );
  });
});

describe('a real kubelet config file loads: fields the mock ignores are accepted', () => {
  // Written as a kubeadm or kubelet setup guide would; every field is a v1beta1 field.
  const real = configFile(`address: 0.0.0.0
port: 10250
readOnlyPort: 0
enableServer: true
staticPodPath: /etc/kubernetes/manifests
podLogsDir: /var/log/pods
syncFrequency: 1m0s
fileCheckFrequency: 20s
httpCheckFrequency: 20s
tlsCertFile: /var/lib/kubelet/pki/kubelet.crt
tlsPrivateKeyFile: /var/lib/kubelet/pki/kubelet.key
tlsCipherSuites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]
tlsMinVersion: VersionTLS12
rotateCertificates: true
serverTLSBootstrap: false
authentication:
  anonymous:
    enabled: false
  webhook:
    cacheTTL: 0s
    enabled: true
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
  webhook:
    cacheAuthorizedTTL: 0s
    cacheUnauthorizedTTL: 0s
registryPullQPS: 5
registryBurst: 10
eventRecordQPS: 50
eventBurst: 100
enableDebuggingHandlers: true
healthzPort: 10248
healthzBindAddress: 127.0.0.1
oomScoreAdj: -999
clusterDomain: cluster.local
clusterDNS:
- 10.96.0.10
streamingConnectionIdleTimeout: 0s
nodeStatusUpdateFrequency: 0s
nodeStatusReportFrequency: 0s
nodeLeaseDurationSeconds: 40
imageMinimumGCAge: 0s
imageMaximumGCAge: 0s
imageGCHighThresholdPercent: 85
imageGCLowThresholdPercent: 80
volumeStatsAggPeriod: 0s
cgroupDriver: systemd
cgroupsPerQOS: true
cpuManagerPolicy: none
cpuManagerReconcilePeriod: 0s
memoryManagerPolicy: None
topologyManagerPolicy: none
topologyManagerScope: container
runtimeRequestTimeout: 0s
hairpinMode: promiscuous-bridge
maxPods: 110
podPidsLimit: -1
resolvConf: /run/systemd/resolve/resolv.conf
cpuCFSQuota: true
cpuCFSQuotaPeriod: 100ms
maxOpenFiles: 1000000
contentType: application/vnd.kubernetes.protobuf
kubeAPIQPS: 50
kubeAPIBurst: 100
serializeImagePulls: true
evictionHard:
  memory.available: 100Mi
  nodefs.available: 10%
evictionPressureTransitionPeriod: 0s
enableControllerAttachDetach: true
makeIPTablesUtilChains: true
iptablesMasqueradeBit: 14
iptablesDropBit: 15
featureGates:
  ContainerCheckpoint: true
failSwapOn: true
memorySwap:
  swapBehavior: NoSwap
containerLogMaxSize: 10Mi
containerLogMaxFiles: 5
containerLogMaxWorkers: 1
containerLogMonitorInterval: 10s
configMapAndSecretChangeDetectionStrategy: Watch
systemReserved:
  cpu: 100m
kubeReserved:
  memory: 256Mi
enforceNodeAllocatable: [pods]
allowedUnsafeSysctls: [net.core.somaxconn]
volumePluginDir: /usr/libexec/kubernetes/kubelet-plugins/volume/exec/
logging:
  flushFrequency: 0
  format: text
  options:
    json:
      infoBufferSize: "0"
    text:
      infoBufferSize: "0"
  verbosity: 0
  vmodule:
  - filePattern: server*
    verbosity: 2
enableSystemLogHandler: true
shutdownGracePeriod: 30s
shutdownGracePeriodCriticalPods: 10s
shutdownGracePeriodByPodPriority:
- priority: 100000
  shutdownGracePeriodSeconds: 10
crashLoopBackOff:
  maxContainerRestartPeriod: 5m
reservedMemory:
- numaNode: 0
  limits:
    memory: 1Gi
enableProfilingHandler: true
enableDebugFlagsHandler: true
seccompDefault: false
memoryThrottlingFactor: 0.9
registerWithTaints:
- key: dedicated
  value: infra
  effect: NoSchedule
registerNode: true
tracing:
  endpoint: localhost:4317
  samplingRatePerMillion: 100
localStorageCapacityIsolation: true
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
imageServiceEndpoint: unix:///run/containerd/containerd.sock
failCgroupV1: false
userNamespaces:
  idsPerPod: 65536
`);

  it('loads, with the honoured fields read and the rest ignored', () => {
    expect(resolve([`--config=${real}`]).settings).toEqual({
      ...FILE_DEFAULT_SETTINGS,
      port: 10250,
      'tls-cert-file': '/var/lib/kubelet/pki/kubelet.crt',
      'tls-private-key-file': '/var/lib/kubelet/pki/kubelet.key',
      'client-ca-file': '/etc/kubernetes/pki/ca.crt',
    });
  });
});
