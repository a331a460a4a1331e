import { describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import {
  alwaysAllow,
  cachedAuthorizer,
  cachedTokenAuthenticator,
  ClientCertStrategy,
  createReviewClient,
  createStderrLogger,
  identityHeaders,
  kubeletAuth,
  kubeletAuthz,
  TokenReviewStrategy,
  webhookAuthorizer,
  webhookTokenAuthenticator,
} from '../lib/index.js';
import { prometheusMetrics } from '../lib/metrics/prometheus.js';

/** A kubeconfig naming an API server; nothing here connects to it. */
function kubeConfig(): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: false }],
    users: [{ name: 'u', token: 'unused' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return config;
}

const client = () => createReviewClient(kubeConfig());

/**
 * Each factory called with one option name misspelt, as a JavaScript caller (or a TypeScript
 * caller passing a variable) can: the option would otherwise be ignored and its default used.
 */
const MISSPELT: [string, () => unknown][] = [
  ['ClientCertStrategy', () => new ClientCertStrategy({ clientCaFile: 'ca.crt' } as never)],
  [
    'TokenReviewStrategy',
    () => new TokenReviewStrategy({ kubeConfig: kubeConfig(), cacheTtl: 0 } as never),
  ],
  [
    'webhookTokenAuthenticator',
    () => webhookTokenAuthenticator(client(), { audience: ['a'] } as never),
  ],
  [
    'cachedTokenAuthenticator',
    () =>
      cachedTokenAuthenticator(webhookTokenAuthenticator(client()), {
        ttlMs: 0,
        failureTtl: 0,
      } as never),
  ],
  ['kubeletAuthz', () => kubeletAuthz({ authorizer: alwaysAllow(), nodename: 'n' } as never)],
  [
    'webhookAuthorizer',
    () => webhookAuthorizer({ kubeConfig: kubeConfig(), cacheUnauthorizedTtl: 0 } as never),
  ],
  [
    'cachedAuthorizer',
    () =>
      cachedAuthorizer(alwaysAllow(), {
        authorizedTtlMs: 1,
        unauthorizedTtlMs: 0,
        maxentries: 1,
      } as never),
  ],
  ['identityHeaders', () => identityHeaders({ header: {} } as never)],
  ['createReviewClient', () => createReviewClient(kubeConfig(), { timeout: 1 } as never)],
  ['createStderrLogger', () => createStderrLogger({ levels: 'debug' } as never)],
  ['prometheusMetrics', () => prometheusMetrics({ registery: undefined } as never)],
];

const HINTS: Record<string, [string, string]> = {
  ClientCertStrategy: ['clientCaFile', 'clientCAFile'],
  TokenReviewStrategy: ['cacheTtl', 'cacheTTL'],
  webhookTokenAuthenticator: ['audience', 'audiences'],
  cachedTokenAuthenticator: ['failureTtl', 'failureTtlMs'],
  kubeletAuthz: ['nodename', 'nodeName'],
  webhookAuthorizer: ['cacheUnauthorizedTtl', 'cacheUnauthorizedTTL'],
  cachedAuthorizer: ['maxentries', 'maxEntries'],
  identityHeaders: ['header', 'headers'],
  createReviewClient: ['timeout', 'timeoutMs'],
  createStderrLogger: ['levels', 'level'],
  prometheusMetrics: ['registery', 'registry'],
};

describe('every factory refuses an option name it does not know, with a hint', () => {
  it.each(MISSPELT)('%s', (factory, make) => {
    const [given, meant] = HINTS[factory] as [string, string];
    expect(make).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        message: `${factory}: unknown option "${given}" (did you mean "${meant}"?)`,
      }),
    );
  });
});

describe('a kubeConfig that is not a KubeConfig', () => {
  it.each<[string, () => unknown, string]>([
    [
      'kubeletAuth, given a path',
      () => kubeletAuth({ nodeName: 'n', kubeConfig: '/etc/kubernetes/kubelet.conf' as never }),
      'kubeConfig: expected a KubeConfig from @kubernetes/client-node, got string',
    ],
    [
      'createReviewClient, given an object',
      () => createReviewClient({ server: 'https://127.0.0.1:1' } as never),
      'createReviewClient: expected a KubeConfig from @kubernetes/client-node, got object',
    ],
  ])('%s: refused, naming what to do', (_name, make, message) => {
    expect(make).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        message: expect.stringContaining(message) as unknown,
      }),
    );
  });
});
