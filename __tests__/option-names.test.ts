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
import { CABundle } from '../lib/parts.js';

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
  ['CABundle.fromFile', () => CABundle.fromFile('/nowhere/ca.crt', { pollInterval: 1 } as never)],
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
  'CABundle.fromFile': ['pollInterval', 'pollIntervalMs'],
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

describe('values the factories would have passed on unchecked', () => {
  it.each<[string, () => unknown, string]>([
    [
      'a cache size below 1',
      () => webhookAuthorizer({ kubeConfig: kubeConfig(), cacheSize: -1 }),
      'webhookAuthorizer: cacheSize: expected a whole number of entries ≥ 1, got -1',
    ],
    [
      'a cache size of 0',
      () => new TokenReviewStrategy({ kubeConfig: kubeConfig(), cacheSize: 0 }),
      'TokenReviewStrategy: cacheSize: expected a whole number of entries ≥ 1, got 0',
    ],
    [
      'a fractional cache size',
      () =>
        cachedTokenAuthenticator(webhookTokenAuthenticator(client()), {
          ttlMs: 1,
          maxEntries: 1.5,
        }),
      'cachedTokenAuthenticator: maxEntries: expected a whole number of entries ≥ 1, got 1.5',
    ],
    [
      'a client certificate cache size of 0',
      () => new ClientCertStrategy({ clientCA: 'unused', cacheSize: 0 }),
      'ClientCertStrategy: cacheSize: expected a whole number of entries ≥ 1, got 0',
    ],
    [
      'a TTL that is not a number',
      () => cachedAuthorizer(alwaysAllow(), { authorizedTtlMs: Number.NaN, unauthorizedTtlMs: 0 }),
      'cachedAuthorizer: authorizedTtlMs: expected a number of milliseconds ≥ 0, got NaN',
    ],
    [
      'a negative TTL',
      () => cachedAuthorizer(alwaysAllow(), { authorizedTtlMs: 1, unauthorizedTtlMs: -1 }),
      'cachedAuthorizer: unauthorizedTtlMs: expected a number of milliseconds ≥ 0, got -1',
    ],
    [
      'audiences as a string',
      () => new TokenReviewStrategy({ kubeConfig: kubeConfig(), audiences: 'api' as never }),
      'webhookTokenAuthenticator: audiences: expected an array of non-empty strings',
    ],
    [
      'fineGrained as a string',
      () => kubeletAuthz({ authorizer: alwaysAllow(), nodeName: 'n', fineGrained: 'no' as never }),
      'kubeletAuthz: fineGrained: expected true or false, got "no"',
    ],
    [
      'no options object',
      () => kubeletAuthz(undefined as never),
      'kubeletAuthz: options must be an object, got undefined',
    ],
    [
      'null options',
      () => webhookAuthorizer(null as never),
      'webhookAuthorizer: options must be an object, got null',
    ],
    [
      "kubeletAuth's front-proxy header list",
      () =>
        kubeletAuth({
          nodeName: 'n',
          authentication: {
            requestHeader: { clientCAFile: '/nowhere/ca.crt', usernameHeaders: ['bad header'] },
          },
        }),
      'authentication.requestHeader: usernameHeaders: not a header name: "bad header"',
    ],
    [
      "an upstream flag's name in kubeletAuth's clusterAuthentication",
      () =>
        kubeletAuth({
          nodeName: 'n',
          authentication: {
            clusterAuthentication: { tolerateInClusterLookupFailure: true } as never,
          },
        }),
      'authentication.clusterAuthentication: unknown option "tolerateInClusterLookupFailure" (did you mean "tolerateLookupFailure"?)',
    ],
  ])('%s: ERR_INVALID_OPTION naming it', (_name, make, message) => {
    expect(make).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message }));
  });
});
