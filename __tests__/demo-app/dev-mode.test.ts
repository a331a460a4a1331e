import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse as parseYaml } from 'yaml';
import type { DevKubelet } from '../../demo-app/dev-mode.js';
import { startDevMode } from '../../demo-app/dev-mode.js';
import { httpsRequest } from './support/https-client.js';

let dev: DevKubelet;
let printed = '';
const logged: string[] = [];

beforeAll(async () => {
  dev = await startDevMode({
    log: (line) => logged.push(line),
    print: (text) => (printed += text),
  });
});
afterAll(async () => {
  await dev?.close();
});

const file = (name: string): string => readFileSync(join(dev.dir, name), 'utf8');
const summary = (): string => `${dev.kubelet.url}/stats/summary`;
const tokenOf = (user: string): string => {
  const match = new RegExp(`Bearer (${user}-[\\w-]+)`).exec(printed);
  if (!match?.[1]) throw new Error(`no token printed for ${user}`);
  return match[1];
};

describe('dev mode', () => {
  it('listens on 127.0.0.1:10250, or the next free port', () => {
    expect(dev.kubelet.url).toMatch(/^https:\/\/127\.0\.0\.1:102\d\d$/);
    expect(dev.kubelet.port).toBeGreaterThanOrEqual(10250);
  });

  it('writes certificates, keys (0600) and a kubeconfig into a private temp folder', () => {
    for (const name of ['kubelet.key', 'alice.key', 'bob.key', 'admin.key', 'kubeconfig']) {
      expect(statSync(join(dev.dir, name)).mode & 0o777).toBe(0o600);
    }
    expect(statSync(dev.dir).mode & 0o077).toBe(0);
    expect(file('ca.crt')).toContain('BEGIN CERTIFICATE');
    const kubeconfig = parseYaml(file('kubeconfig')) as {
      clusters: { cluster: { server: string } }[];
      contexts: { name: string }[];
    };
    expect(kubeconfig.clusters[0]?.cluster.server).toBe(dev.kubelet.url);
    expect(kubeconfig.contexts.map((c) => c.name)).toEqual([
      'alice',
      'bob',
      'admin',
      'alice-token',
      'anonymous',
    ]);
  });

  it('prints ready-to-paste curl and kubectl commands', () => {
    const ca = join(dev.dir, 'ca.crt');
    expect(printed).toContain(
      `curl --cacert ${ca} --cert ${join(dev.dir, 'alice.crt')} --key ${join(dev.dir, 'alice.key')} ${summary()}`,
    );
    expect(printed).toContain(
      `curl --cacert ${ca} -H "Authorization: Bearer ${tokenOf('alice')}" ${summary()}`,
    );
    expect(printed).toContain(`curl --cacert ${ca} ${summary()}\n`);
    for (const context of ['alice', 'bob', 'anonymous']) {
      expect(printed).toContain(
        `kubectl --kubeconfig ${join(dev.dir, 'kubeconfig')} --context ${context} get --raw /stats/summary`,
      );
    }
  });

  it.each<[string, () => Parameters<typeof httpsRequest>[1], number, string]>([
    [
      'alice, certificate',
      () => ({ cert: file('alice.crt'), key: file('alice.key') }),
      200,
      '"nodeName": "node-a"',
    ],
    ['alice, token', () => ({ token: tokenOf('alice') }), 200, '"nodeName": "node-a"'],
    [
      'bob, certificate',
      () => ({ cert: file('bob.crt'), key: file('bob.key') }),
      403,
      'Forbidden (user=bob, verb=get, resource=nodes, subresource(s)=[stats])\n',
    ],
    [
      'bob, token',
      () => ({ token: tokenOf('bob') }),
      403,
      'Forbidden (user=bob, verb=get, resource=nodes, subresource(s)=[stats])\n',
    ],
    [
      'anonymous (on: 403, not 401)',
      () => ({}),
      403,
      'Forbidden (user=system:anonymous, verb=get, resource=nodes, subresource(s)=[stats])\n',
    ],
    ['an unknown token', () => ({ token: 'nobody' }), 401, 'Unauthorized'],
  ])('%s → %i', async (_name, credentials, status, body) => {
    const res = await httpsRequest(summary(), { ca: file('ca.crt'), ...credentials() });
    expect(res.status).toBe(status);
    expect(res.body).toContain(body);
  });

  it('the sample policy: alice reads pods (nodes/pods), not configz; admin may exec', async () => {
    const alice = { ca: file('ca.crt'), cert: file('alice.crt'), key: file('alice.key') };
    expect((await httpsRequest(`${dev.kubelet.url}/pods`, alice)).status).toBe(200);
    expect((await httpsRequest(`${dev.kubelet.url}/configz`, alice)).status).toBe(403);
    const admin = {
      ca: file('ca.crt'),
      cert: file('admin.crt'),
      key: file('admin.key'),
      method: 'POST',
    };
    const exec = /-X POST "(https:[^"]+)"/.exec(printed)?.[1] ?? '';
    const res = await httpsRequest(exec, admin);
    expect(res.status).toBe(200);
    expect(res.body).toContain('nothing was executed');
  });

  it('the stand-in API server reviewed for node-a', () => {
    const sar = dev.apiServer.reviews.subjectAccessReviews.find((r) => r.spec.user === 'alice');
    expect(sar?.spec.resourceAttributes).toMatchObject({
      name: 'node-a',
      resource: 'nodes',
      verb: 'get',
    });
  });

  it("/metrics carries the middleware's own metrics beside the node's", async () => {
    const alice = { ca: file('ca.crt'), cert: file('alice.crt'), key: file('alice.key') };
    const res = await httpsRequest(`${dev.kubelet.url}/metrics`, alice);
    expect(res.status).toBe(200);
    expect(res.body).toContain('kubelet_node_name{node="node-a"} 1');
    // The requests of the tests above: a token reviewed once (201), certificates and tokens
    // accepted and refused, decisions allowed and denied.
    expect(res.body).toMatch(/^apiserver_delegated_authn_request_total\{code="201"\} [1-9]/m);
    expect(res.body).toMatch(/^apiserver_delegated_authz_request_total\{code="201"\} [1-9]/m);
    expect(res.body).toMatch(/^authentication_attempts\{method="token",result="failure"\} [1-9]/m);
    expect(res.body).toMatch(/^authentication_attempts\{method="x509",result="success"\} [1-9]/m);
    expect(res.body).toMatch(
      /^apiserver_authorization_decisions_total\{decision="denied",resource="nodes",subresource="stats"\} [1-9]/m,
    );
    expect(res.body).toContain(
      '# TYPE apiserver_delegated_authz_request_duration_seconds histogram',
    );
    expect(res.body).not.toContain(tokenOf('alice'));
  });

  it('logs requests without tokens', () => {
    expect(logged.some((line) => line.includes('user="alice" decision=allowed status=200'))).toBe(
      true,
    );
    expect(logged.join('\n')).not.toContain(tokenOf('alice'));
  });

  it('close removes the temp folder', async () => {
    const dir = dev.dir;
    await dev.close();
    expect(existsSync(dir)).toBe(false);
    dev = { ...dev, close: async () => undefined };
  });
});
