import { describe, expect, it } from '@jest/globals';
import { resolveKubeletAuthConfig } from '../lib/config.js';
import type { KubeletAuthOptions } from '../lib/options.js';

describe('resolveKubeletAuthConfig', () => {
  it('applies the KubeletConfiguration defaults, not the kubelet flag defaults', () => {
    expect(resolveKubeletAuthConfig({ nodeName: 'node-a' })).toEqual({
      nodeName: 'node-a',
      anonymous: false,
      tokenWebhook: true,
      tokenCacheTtlMs: 120_000,
      clientCAFile: '',
      mode: 'Webhook',
      authorizedTtlMs: 300_000,
      unauthorizedTtlMs: 30_000,
      fineGrained: true,
      audiences: [],
      timeoutMs: 10_000,
      cacheSize: 10_000,
      maxConcurrentReviews: 64,
      staleIfErrorMs: 0,
      alwaysAllowPaths: [],
      alwaysAllowGroups: [],
      staticRules: [],
      requestHeader: undefined,
      identityHeaders: undefined,
    });
  });

  it('resolves the front proxy, identity headers and static rules it is given', () => {
    const config = resolveKubeletAuthConfig({
      nodeName: 'n',
      authentication: { requestHeader: { clientCAFile: '/pki/front-proxy-ca.crt' } },
      authorization: { static: [{ users: ['alice'], verbs: ['get'], resources: ['nodes'] }] },
      identityHeaders: true,
    });
    expect(config.requestHeader).toEqual({ clientCAFile: '/pki/front-proxy-ca.crt' });
    expect(config.identityHeaders).toEqual({});
    expect(config.staticRules).toHaveLength(1);
    expect(() =>
      resolveKubeletAuthConfig({ nodeName: 'n', identityHeaders: 'yes' as never }),
    ).toThrow(/^identityHeaders: expected true, false or the header names/);
  });

  it('reads Go durations and milliseconds; zero is a real zero', () => {
    const config = resolveKubeletAuthConfig({
      nodeName: 'n',
      authentication: { webhook: { cacheTTL: '0s' } },
      authorization: { webhook: { cacheAuthorizedTTL: '1m30s', cacheUnauthorizedTTL: 1500 } },
    });
    expect(config.tokenCacheTtlMs).toBe(0);
    expect(config.authorizedTtlMs).toBe(90_000);
    expect(config.unauthorizedTtlMs).toBe(1500);
  });

  it('does not change the caller’s object', () => {
    const options: KubeletAuthOptions = {
      nodeName: 'n',
      authentication: { anonymous: { enabled: true } },
    };
    const copy = structuredClone(options);
    resolveKubeletAuthConfig(options);
    expect(options).toEqual(copy);
  });

  const bad: [string, unknown, RegExp][] = [
    ['no nodeName', {}, /^nodeName: required/],
    ['empty nodeName', { nodeName: '' }, /^nodeName: required/],
    [
      'unknown mode',
      { nodeName: 'n', authorization: { mode: 'RBAC' } },
      /^authorization\.mode: unknown authorization mode RBAC/,
    ],
    [
      'mode in lower case',
      { nodeName: 'n', authorization: { mode: 'webhook' } },
      /^authorization\.mode: unknown authorization mode webhook/,
    ],
    [
      'empty mode',
      { nodeName: 'n', authorization: { mode: '' } },
      /^authorization\.mode: no authorization mode specified/,
    ],
    [
      'bad token TTL',
      { nodeName: 'n', authentication: { webhook: { cacheTTL: '2 minutes' } } },
      /^authentication\.webhook\.cacheTTL: /,
    ],
    [
      'negative TTL',
      { nodeName: 'n', authorization: { webhook: { cacheAuthorizedTTL: -1 } } },
      /^authorization\.webhook\.cacheAuthorizedTTL: /,
    ],
    [
      'bad unauthorized TTL',
      { nodeName: 'n', authorization: { webhook: { cacheUnauthorizedTTL: '30' } } },
      /^authorization\.webhook\.cacheUnauthorizedTTL: /,
    ],
    [
      'non-boolean enabled',
      { nodeName: 'n', authentication: { anonymous: { enabled: 'yes' } } },
      /^authentication\.anonymous\.enabled: expected true or false/,
    ],
    [
      'typo with a hint',
      { nodeName: 'n', authentication: { anonymous: { enable: true } } },
      /^authentication\.anonymous: unknown option "enable" \(did you mean "enabled"\?\)$/,
    ],
    [
      'top-level typo',
      { nodeName: 'n', kubeconfig: {} },
      /^kubeletAuth: unknown option "kubeconfig" \(did you mean "kubeConfig"\?\)$/,
    ],
    ['bad cacheSize', { nodeName: 'n', cacheSize: 0 }, /^cacheSize: /],
    ['zero timeout', { nodeName: 'n', timeout: 0 }, /^timeout: /],
    [
      'bad maxConcurrentReviews',
      { nodeName: 'n', maxConcurrentReviews: 0.5 },
      /^maxConcurrentReviews: expected a whole number/,
    ],
    [
      'alwaysAllowPaths not a list',
      { nodeName: 'n', authorization: { alwaysAllowPaths: '/healthz' } },
      /^authorization\.alwaysAllowPaths: expected a list of strings/,
    ],
    [
      'no nodeName and no attributes',
      { authorization: { mode: 'AlwaysAllow' } },
      /^nodeName: required/,
    ],
    ['bad staleIfError', { nodeName: 'n', staleIfError: '-1s' }, /^staleIfError: expected/],
    ['bad audiences', { nodeName: 'n', audiences: [''] }, /^audiences: /],
    [
      'no authentication method',
      {
        nodeName: 'n',
        authentication: { webhook: { enabled: false }, anonymous: { enabled: false } },
      },
      /^authentication: no authentication method configured/,
    ],
  ];
  it('takes maxConcurrentReviews and staleIfError', () => {
    const config = resolveKubeletAuthConfig({
      nodeName: 'n',
      maxConcurrentReviews: 8,
      staleIfError: '2m',
    });
    expect(config.maxConcurrentReviews).toBe(8);
    expect(config.staleIfErrorMs).toBe(120_000);
  });

  it.each(bad)('%s throws, naming the option', (_name, options, message) => {
    expect(() => resolveKubeletAuthConfig(options as KubeletAuthOptions)).toThrow(message);
  });
});
