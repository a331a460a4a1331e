/**
 * Dev mode (`npm start` with no flags): everything a demo needs, made up on the spot. An
 * embedded stand-in API server answers TokenReviews and SubjectAccessReviews from the sample
 * RBAC policy (policy.yaml); a throw-away CA signs the serving certificate and one client
 * certificate per demo user; the files and a kubeconfig for kubectl go to a private temp
 * folder (removed on exit); and ready-to-paste commands show an allowed, a forbidden and an
 * anonymous caller.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { StandInApiServer } from 'express-kubelet-auth/testing';
import {
  createCA,
  mintClientCert,
  mintServingCert,
  startApiServer,
} from 'express-kubelet-auth/testing';
import type { EffectiveConfig } from './kubelet-config.js';
import { createNodeModel } from './payloads/node-model.js';
import type { RunningKubelet } from './server.js';
import { startKubelet } from './server.js';
import type { Settings, SettingName } from './settings.js';
import { CONFIG_FIELDS, FLAG_DEFAULTS } from './settings.js';

export const DEV_NODE_NAME = 'node-a';
const DEV_PORT = 10250;
const PORT_SEARCH = 50;
const POLICY_FILE = new URL('./policy.yaml', import.meta.url);

/** The demo users: who they are to the API server, and what policy.yaml grants them. */
const USERS = [
  {
    name: 'alice',
    groups: ['viewers'],
    role: 'allowed: group viewers may read stats, metrics, pods, healthz, logs',
  },
  { name: 'bob', groups: [], role: 'forbidden: authenticated, but no role is bound to bob' },
  { name: 'admin', groups: [], role: 'allowed everything: bound to system:kubelet-api-admin' },
] as const;

type UserName = (typeof USERS)[number]['name'];

export interface DevKubelet {
  kubelet: RunningKubelet;
  apiServer: StandInApiServer;
  /** The temp folder with certificates, keys and the kubeconfig. */
  dir: string;
  close(): Promise<void>;
}

export async function startDevMode(options: {
  nodeName?: string;
  log: (line: string) => void;
  print: (text: string) => void;
}): Promise<DevKubelet> {
  const nodeName = (options.nodeName || DEV_NODE_NAME).trim().toLowerCase();
  const dir = await mkdtemp(join(tmpdir(), 'mock-kubelet-'));
  let apiServer: StandInApiServer | undefined;
  try {
    const ca = await createCA({ commonName: 'mock-kubelet dev CA' });
    const [serving, ...clients] = await Promise.all([
      mintServingCert({ ca, hosts: [nodeName, 'localhost', '127.0.0.1'], commonName: nodeName }),
      ...USERS.map((user) => mintClientCert({ ca, user: user.name, groups: [...user.groups] })),
    ]);
    const tokens = Object.fromEntries(
      USERS.map((user) => [user.name, `${user.name}-${randomBytes(18).toString('base64url')}`]),
    ) as Record<UserName, string>;

    apiServer = await startApiServer({
      tokens: Object.fromEntries(
        USERS.map((user) => [tokens[user.name], { username: user.name, groups: [...user.groups] }]),
      ),
      policy: { rbac: await readFile(POLICY_FILE, 'utf8') },
      callerUser: `system:node:${nodeName}`,
    });

    const files = {
      ca: join(dir, 'ca.crt'),
      servingCert: join(dir, 'kubelet.crt'),
      servingKey: join(dir, 'kubelet.key'),
      kubeconfig: join(dir, 'kubeconfig'),
    };
    await writeFile(files.ca, ca.cert, { mode: 0o644 });
    await writeFile(files.servingCert, serving.cert, { mode: 0o644 });
    await writeFile(files.servingKey, serving.key, { mode: 0o600 });
    for (const [index, user] of USERS.entries()) {
      const client = clients[index];
      if (!client) continue;
      await writeFile(join(dir, `${user.name}.crt`), client.cert, { mode: 0o644 });
      await writeFile(join(dir, `${user.name}.key`), client.key, { mode: 0o600 });
    }

    const config = devConfig(nodeName, files);
    const kubelet = await startKubelet(
      {
        config,
        servingPair: { cert: serving.cert, key: serving.key },
        kubeConfig: apiServer.kubeConfig,
      },
      { portSearch: PORT_SEARCH, log: options.log },
    );
    await writeFile(files.kubeconfig, kubectlConfig(kubelet.url, dir, tokens), { mode: 0o600 });

    options.print(instructions({ nodeName, kubelet, apiServer, dir, tokens, files }));
    const api = apiServer;
    return {
      kubelet,
      apiServer: api,
      dir,
      close: async () => {
        await kubelet.close();
        await api.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await apiServer?.close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Dev mode's settings: anonymous on (so anonymous gets 403), token webhook, x509, Webhook mode. */
function devConfig(
  nodeName: string,
  files: { ca: string; servingCert: string; servingKey: string },
): EffectiveConfig {
  const settings: Settings = {
    ...FLAG_DEFAULTS,
    address: '127.0.0.1',
    port: DEV_PORT,
    'tls-cert-file': files.servingCert,
    'tls-private-key-file': files.servingKey,
    'client-ca-file': files.ca,
    'anonymous-auth': true,
    'authentication-token-webhook': true,
    'authorization-mode': 'Webhook',
  };
  const origins = Object.fromEntries(
    (Object.keys(CONFIG_FIELDS) as SettingName[]).map((name) => [name, `dev mode's ${name}`]),
  ) as Record<SettingName, string>;
  return { settings, origins, kubeconfig: '', nodeName, configFile: '' };
}

/** A kubeconfig whose "cluster" is the mock kubelet itself, so `kubectl get --raw` talks to it. */
function kubectlConfig(url: string, dir: string, tokens: Record<UserName, string>): string {
  const contexts: { name: string; user: Record<string, string> }[] = [
    ...USERS.map((user) => ({
      name: user.name,
      user: {
        'client-certificate': join(dir, `${user.name}.crt`),
        'client-key': join(dir, `${user.name}.key`),
      },
    })),
    { name: 'alice-token', user: { token: tokens.alice } },
    // kubectl prompts for a password when a user has no credentials at all. A user name makes
    // it send Basic authentication instead, which the kubelet ignores: the call is anonymous.
    { name: 'anonymous', user: { username: 'anonymous' } },
  ];
  return toYaml({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'mock-kubelet',
        cluster: { server: url, 'certificate-authority': join(dir, 'ca.crt') },
      },
    ],
    users: contexts.map((c) => ({ name: c.name, user: c.user })),
    contexts: contexts.map((c) => ({
      name: c.name,
      context: { cluster: 'mock-kubelet', user: c.name },
    })),
    'current-context': 'alice',
  });
}

function instructions(input: {
  nodeName: string;
  kubelet: RunningKubelet;
  apiServer: StandInApiServer;
  dir: string;
  tokens: Record<UserName, string>;
  files: { ca: string; kubeconfig: string };
}): string {
  const { kubelet, dir, tokens, files } = input;
  const q = shellQuote;
  const url = `${kubelet.url}/stats/summary`;
  const withCert = (user: UserName): string =>
    `curl --cacert ${q(files.ca)} --cert ${q(join(dir, `${user}.crt`))} --key ${q(join(dir, `${user}.key`))} ${url}`;
  const withToken = (user: UserName): string =>
    `curl --cacert ${q(files.ca)} -H "Authorization: Bearer ${tokens[user]}" ${url}`;
  const kubectl = (context: string): string =>
    `kubectl --kubeconfig ${q(files.kubeconfig)} --context ${context} get --raw /stats/summary`;
  // The model is derived from the node name, so this is the pod the kubelet serves.
  const webPod =
    createNodeModel(input.nodeName).pods.find((pod) => pod.namespace === 'default')?.name ?? 'web';
  const lines = [
    `mock-kubelet (dev mode): node "${input.nodeName}" serving on ${kubelet.url}`,
    `  stand-in API server: ${input.apiServer.url} (TokenReview + SubjectAccessReview, policy demo-app/policy.yaml)`,
    `  authentication: x509 (client CA ${files.ca}), token webhook, anonymous on; authorization: Webhook`,
    `  files (removed on exit): ${dir}`,
    '',
    ...USERS.map((user) => `  ${user.name}: ${user.role}`),
    '  anonymous: forbidden (403): system:anonymous is bound to nothing',
    '',
    '# allowed (200): alice, client certificate / bearer token',
    withCert('alice'),
    withToken('alice'),
    '',
    '# forbidden (403): bob, authenticated but bound to nothing',
    withCert('bob'),
    withToken('bob'),
    '',
    '# forbidden (403): anonymous caller (anonymous auth is on, so 403 rather than 401)',
    `curl --cacert ${q(files.ca)} ${url}`,
    '',
    '# admin may do everything, e.g. exec (simulated: nothing runs)',
    `curl --cacert ${q(files.ca)} --cert ${q(join(dir, 'admin.crt'))} --key ${q(join(dir, 'admin.key'))} -X POST "${kubelet.url}/exec/default/${webPod}/nginx?command=date&output=1"`,
    '',
    '# kubectl (contexts: alice, alice-token, bob, admin, anonymous)',
    kubectl('alice'),
    kubectl('bob'),
    kubectl('anonymous'),
    '',
    'Press Ctrl+C to stop.',
  ];
  return `${lines.join('\n')}\n`;
}

// Temp paths rarely need quoting; quote only when they do, so commands stay easy to read.
function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
