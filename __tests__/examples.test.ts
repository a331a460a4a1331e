import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import {
  createCA,
  mintClientCert,
  mintServingCert,
  startApiServer,
  type IssuedCertificate,
  type StandInApiServer,
} from '../lib/testing/index.js';

// Every example app in examples/ runs as its header says (tsx, configured by environment
// variables, the package imported by its name) against the stand-in API server, answers real
// HTTPS requests, and stops on SIGTERM. The Express 4 example runs on Express 4.

const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const dir = mkdtempSync(join(tmpdir(), 'eka-examples-'));

let api: StandInApiServer;
let viewerCert: IssuedCertificate;
let serverCert: string;
const env: Record<string, string> = {};

beforeAll(async () => {
  api = await startApiServer({
    tokens: { 'viewer-token': { username: 'viewer' }, 'bob-token': { username: 'bob' } },
    policy: { rbac: readFileSync(join(root, 'examples', 'viewer-rbac.yaml'), 'utf8') },
  });
  const clientCA = await createCA({ commonName: 'examples client CA' });
  viewerCert = await mintClientCert({ ca: clientCA, user: 'viewer' });
  const serving = await mintServingCert({ hosts: ['127.0.0.1'] });
  serverCert = serving.cert;
  const files = {
    KUBECONFIG: api.kubeconfigYaml(),
    CLIENT_CA_FILE: clientCA.cert,
    TLS_CERT_FILE: serving.cert,
    TLS_KEY_FILE: serving.key,
  };
  for (const [name, content] of Object.entries(files)) {
    env[name] = join(dir, name);
    writeFileSync(env[name], content, { mode: 0o600 });
  }
  // What `npm install express@4` gives a user: `express` resolves to Express 4.
  env['EXPRESS4_TSCONFIG'] = join(dir, 'tsconfig.express4.json');
  writeFileSync(
    env['EXPRESS4_TSCONFIG'],
    JSON.stringify({
      extends: join(root, 'tsconfig.json'),
      compilerOptions: {
        paths: {
          express: [join(root, 'node_modules', 'express4', 'index.js')],
          'express-kubelet-auth': [join(root, 'lib', 'index.ts')],
        },
      },
    }),
  );
}, 60_000);

afterAll(async () => {
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts an example as a user would, and resolves with its process and URL once it listens. */
async function start(
  file: string,
  tsconfig?: string,
): Promise<{ child: ChildProcess; url: string }> {
  const args = [tsx, ...(tsconfig ? ['--tsconfig', tsconfig] : []), join(root, 'examples', file)];
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env, PORT: '0', NODE_NAME: 'node-a' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const port = /listening on https:\/\/localhost:(\d+)/.exec(output)?.[1];
      if (port) resolve(`https://127.0.0.1:${port}`);
    });
    child.on('exit', (code) =>
      reject(new Error(`${file} exited (${code}) before listening:\n${output}`)),
    );
  });
  return { child, url };
}

describe.each([
  ['express5-one-call.ts', undefined],
  ['express4-passport.ts', 'EXPRESS4_TSCONFIG'],
  ['connect.ts', undefined],
  ['fastify.ts', undefined],
])('examples/%s', (file, tsconfigVar) => {
  let child: ChildProcess | undefined;
  let url = '';
  beforeAll(async () => {
    ({ child, url } = await start(file, tsconfigVar ? env[tsconfigVar] : undefined));
  }, 60_000);
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('serves viewer, by token and by client certificate', async () => {
    api.resetReviews();
    await request(url)
      .get('/stats/summary')
      .ca(serverCert)
      .set('Authorization', 'Bearer viewer-token')
      .expect(200, { servedTo: 'viewer' });
    await request(url)
      .get('/stats/summary')
      .ca(serverCert)
      .cert(viewerCert.cert)
      .key(viewerCert.key)
      .expect(200, { servedTo: 'viewer' });
    const asked = api.reviews.subjectAccessReviews.map((r) => r.spec.resourceAttributes);
    expect(asked[0]).toMatchObject({
      verb: 'get',
      resource: 'nodes',
      subresource: 'stats',
      name: 'node-a',
    });
  });

  it('refuses bob (403) and a caller without credentials (401)', async () => {
    await request(url)
      .get('/stats/summary')
      .ca(serverCert)
      .set('Authorization', 'Bearer bob-token')
      .expect(403, 'Forbidden (user=bob, verb=get, resource=nodes, subresource(s)=[stats])\n');
    await request(url).get('/stats/summary').ca(serverCert).expect(401, 'Unauthorized');
  });

  it('stops on SIGTERM with exit code 0', async () => {
    const exited = once(child as ChildProcess, 'exit');
    child?.kill('SIGTERM');
    expect((await exited)[0]).toBe(0);
  });
});
