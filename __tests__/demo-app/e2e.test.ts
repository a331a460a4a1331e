/**
 * The mock kubelet as users run it: a child process in real mode (flags only), against the
 * stand-in API server, driven over HTTPS with a client certificate and with bearer tokens, then
 * stopped with SIGTERM while a request is in flight.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { StandInApiServer } from '../../lib/testing/index.js';
import { createCA, mintClientCert, startApiServer } from '../../lib/testing/index.js';
import { freePort } from './support/free-port.js';
import { httpsRequest } from './support/https-client.js';

const PACKAGE_ROOT = resolve(process.cwd());
const MAIN = join(PACKAGE_ROOT, 'demo-app', 'main.ts');
const POLICY = readFileSync(join(PACKAGE_ROOT, 'demo-app', 'policy.yaml'), 'utf8');

interface Child {
  process: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<number | null>;
}

/** Starts `tsx demo-app/main.ts <args>` the way `npm start -- <args>` does. */
function startCli(args: string[]): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: PACKAGE_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const result: Child = {
    process: child,
    stdout: '',
    stderr: '',
    exited: new Promise((done) => child.on('exit', (code) => done(code))),
  };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (result.stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (result.stderr += chunk));
  return result;
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('mock kubelet, real mode, as a child process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mock-kubelet-e2e-'));
  let api: StandInApiServer;
  let child: Child;
  let url: string;
  let alice: { cert: string; key: string };
  let stranger: { cert: string; key: string };

  beforeAll(async () => {
    const [ca, otherCA] = await Promise.all([createCA(), createCA({ commonName: 'someone else' })]);
    [alice, stranger] = await Promise.all([
      mintClientCert({ ca, user: 'alice', groups: ['viewers'] }),
      mintClientCert({ ca: otherCA, user: 'admin' }),
    ]);
    api = await startApiServer({
      tokens: {
        'tok-alice': { username: 'alice', groups: ['viewers'] },
        'tok-bob': { username: 'bob' },
        'tok-admin': { username: 'admin' },
      },
      policy: { rbac: POLICY },
      callerUser: 'system:node:node-e2e',
    });
    writeFileSync(join(dir, 'ca.crt'), ca.cert);
    writeFileSync(join(dir, 'kubeconfig'), api.kubeconfigYaml('cert'), { mode: 0o600 });

    const port = await freePort();
    url = `https://127.0.0.1:${port}`;
    child = startCli([
      '--address=127.0.0.1',
      `--port=${port}`,
      `--client-ca-file=${join(dir, 'ca.crt')}`,
      '--kubeconfig',
      join(dir, 'kubeconfig'),
      '--authentication-token-webhook',
      '--authorization-mode=Webhook',
      '--anonymous-auth=false',
      '--hostname-override=Node-E2E',
      // No decision cache, so every request below reaches the stand-in API server.
      '--authorization-webhook-cache-authorized-ttl=0s',
      '--authorization-webhook-cache-unauthorized-ttl=0s',
      '--authentication-token-webhook-cache-ttl=0s',
    ]);
    await Promise.race([
      waitFor(() => child.stdout.includes('serving on'), 'the mock kubelet to listen', 25_000),
      child.exited.then((code) => {
        throw new Error(`exited early (${code}): ${child.stderr}`);
      }),
    ]);
    // Generous: a loaded CI machine can take several seconds to start a TypeScript child.
  }, 30_000);

  afterAll(async () => {
    if (child && child.process.exitCode === null) child.process.kill('SIGKILL');
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('announces itself on stdout', () => {
    expect(child.stdout).toBe(
      `mock-kubelet: node "node-e2e" serving on ${url} (x509: on, token webhook: on, anonymous: off, authorization: Webhook)\n`,
    );
  });

  it('a client certificate from the client CA: allowed by RBAC', async () => {
    api.resetReviews();
    const res = await httpsRequest(`${url}/stats/summary`, alice);
    expect(res.status).toBe(200);
    expect((JSON.parse(res.body) as { node: { nodeName: string } }).node.nodeName).toBe('node-e2e');
    expect(api.reviews.tokenReviews).toHaveLength(0);
    expect(api.reviews.subjectAccessReviews.map((r) => r.spec)).toEqual([
      expect.objectContaining({
        user: 'alice',
        groups: ['viewers', 'system:authenticated'],
        resourceAttributes: {
          verb: 'get',
          version: 'v1',
          resource: 'nodes',
          subresource: 'stats',
          name: 'node-e2e',
        },
      }),
    ]);
  });

  it('a bearer token, reviewed by TokenReview: allowed by RBAC through nodes/pods', async () => {
    api.resetReviews();
    const res = await httpsRequest(`${url}/pods`, { token: 'tok-alice' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ kind: 'PodList', apiVersion: 'v1' });
    expect(api.reviews.tokenReviews.map((r) => r.spec.token)).toEqual(['tok-alice']);
    expect(api.reviews.subjectAccessReviews[0]?.spec.resourceAttributes?.subresource).toBe('pods');
  });

  it.each<[string, () => Parameters<typeof httpsRequest>[1], string, number, string]>([
    [
      'bob (bound to nothing)',
      () => ({ token: 'tok-bob' }),
      '/stats/summary',
      403,
      'Forbidden (user=bob, verb=get, resource=nodes, subresource(s)=[stats])\n',
    ],
    [
      'alice on /configz (fine-grained: configz, then proxy)',
      () => alice,
      '/configz',
      403,
      'Forbidden (user=alice, verb=get, resource=nodes, subresource(s)=[configz proxy])\n',
    ],
    ['no credentials (anonymous off)', () => ({}), '/healthz', 401, 'Unauthorized'],
    ['an unknown token', () => ({ token: 'tok-nobody' }), '/healthz', 401, 'Unauthorized'],
    ['a certificate from another CA', () => stranger, '/healthz', 401, 'Unauthorized'],
    [
      'admin, unknown path: 404',
      () => ({ token: 'tok-admin' }),
      '/no/such/path',
      404,
      '404 page not found\n',
    ],
    [
      'no credentials, a path no endpoint covers: Go’s 404 before authentication',
      () => ({}),
      '/no/such/path',
      404,
      '404 page not found\n',
    ],
    [
      'no credentials, a subtree without its slash: Go’s 301 before authentication',
      () => ({}),
      '/stats',
      301,
      '<a href="/stats/">Moved Permanently</a>.\n\n',
    ],
    [
      'no credentials, a path under an endpoint that no route serves: 401 first',
      () => ({}),
      '/stats/no-such-stats',
      401,
      'Unauthorized',
    ],
    [
      'admin, a path under an endpoint that no route serves: 404 after authorization',
      () => ({ token: 'tok-admin' }),
      '/stats/no-such-stats',
      404,
      '404 page not found\n',
    ],
    [
      'admin, POST /pods: 405 after authorization',
      () => ({ token: 'tok-admin', method: 'POST' }),
      '/pods',
      405,
      '405: Method Not Allowed',
    ],
    [
      'admin, checkpoint',
      () => ({ token: 'tok-admin', method: 'POST' }),
      '/checkpoint/kube-system/x/y',
      404,
      'pod does not exist',
    ],
  ])('%s', async (_name, options, path, status, body) => {
    const res = await httpsRequest(`${url}${path}`, options());
    expect(res.status).toBe(status);
    expect(res.body).toBe(body);
  });

  it('logs one line per request, never a token', () => {
    expect(child.stderr).toMatch(
      /method=GET path=\/stats\/summary user="alice" decision=allowed status=200 latency=[\d.]+ms/,
    );
    expect(child.stderr).toMatch(
      /method=GET path=\/healthz user=- decision=unauthenticated status=401/,
    );
    expect(child.stderr).not.toMatch(/tok-(alice|bob|admin|nobody)/);
  });

  it('SIGTERM: stops accepting, finishes the request in flight, exits 0', async () => {
    // The next TokenReview is answered 429 once, so the request waits for the retry while
    // SIGTERM arrives.
    api.setFault({ type: 'status', status: 429, retryAfterSeconds: 1, times: 1 });
    const before = api.requestCount;
    const inFlight = httpsRequest(`${url}/healthz`, { token: 'tok-alice' });
    await waitFor(() => api.requestCount > before, 'the TokenReview to arrive');
    child.process.kill('SIGTERM');
    await waitFor(() => child.stderr.includes('SIGTERM received'), 'the signal to be handled');

    await expect(httpsRequest(`${url}/healthz`, { token: 'tok-alice' })).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.body).toBe('ok');
    expect(await child.exited).toBe(0);
    expect(child.stderr).toContain('mock-kubelet: stopped\n');
  });
});

describe('mock kubelet start-up errors, as a child process', () => {
  it('each is one line on stderr, exit code 1, no stack trace', async () => {
    // Started together; each loads only the command-line code before it fails.
    const dir = mkdtempSync(join(tmpdir(), 'mock-kubelet-e2e-errors-'));
    try {
      const wrongKind = join(dir, 'proxy.yaml');
      writeFileSync(
        wrongKind,
        'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n',
      );
      // The typo that used to be dropped, leaving "no authentication method configured".
      const typo = join(dir, 'typo.yaml');
      writeFileSync(
        typo,
        'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nauthentication:\n  anonymus:\n    enabled: true\nauthorization:\n  mode: AlwaysAllow\n',
      );
      const cases: [string[], string][] = [
        [
          ['--port=abc'],
          'mock-kubelet: invalid value "abc" for flag --port: must be an integer between 1 and 65535\n',
        ],
        [
          [`--config=${wrongKind}`],
          `mock-kubelet: invalid value "${wrongKind}" for flag --config: expected kind KubeletConfiguration of apiVersion kubelet.config.k8s.io/v1beta1, got kind "KubeProxyConfiguration" of apiVersion "kubeproxy.config.k8s.io/v1alpha1"\n`,
        ],
        [
          [`--config=${typo}`],
          `mock-kubelet: invalid value "${typo}" for flag --config: strict decoding error: unknown field "authentication.anonymus" (did you mean "authentication.anonymous"?)\n`,
        ],
        [
          ['--authorization-mode=Webhook'],
          'mock-kubelet: no client provided, cannot use webhook authorization: flag --authorization-mode sets mode Webhook, but --kubeconfig is not set\n',
        ],
      ];
      const children = cases.map(([args]) => startCli(args));
      const codes = await Promise.all(children.map((c) => c.exited));
      children.forEach((c, i) => {
        expect({ code: codes[i], stderr: c.stderr, stdout: c.stdout }).toEqual({
          code: 1,
          stderr: cases[i]?.[1],
          stdout: '',
        });
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
