import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientNodeVersion, installedVersion, packTarball, run, typeErrors } from './tarball.js';

/**
 * express-kubelet-auth/fastify as users get it: from the packed tarball, installed into an empty
 * project. First without fastify and fastify-plugin (optional peers): the other entry points
 * load without them, and the Fastify one says what is missing. Then with them, at the versions
 * this checkout tests: the plugin imports from ESM and CommonJS, registers on a real Fastify and
 * answers, and its declarations (`request.kubeUser` included) type-check with skipLibCheck off.
 */

let dir: string;
let consumer: string;
let tarball: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'eka-fastify-pack-'));
  tarball = packTarball(dir);
  consumer = join(dir, 'consumer');
  mkdirSync(consumer);
  writeFileSync(
    join(consumer, 'package.json'),
    '{"name":"consumer","version":"1.0.0","private":true}\n',
  );
  run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      tarball,
      `@kubernetes/client-node@${clientNodeVersion()}`,
      `@types/node@${process.versions.node.split('.')[0]}`,
    ],
    consumer,
  );
}, 240_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `source` as `file` in the consumer project; its standard output. */
function probe(file: string, source: string): string {
  writeFileSync(join(consumer, file), source);
  return run(process.execPath, [file], consumer).trim();
}

describe('without fastify installed', () => {
  it('ships the entry point built for ESM and CommonJS, with its types', () => {
    const files = run('tar', ['tzf', tarball], dir).split('\n');
    for (const file of [
      'dist/fastify/index.js',
      'dist/fastify/index.d.ts',
      'dist/fastify/route-check.js',
      'dist/cjs/fastify/index.js',
      'dist/cjs/fastify/index.d.ts',
    ]) {
      expect(files).toContain(`package/${file}`);
    }
  });

  it('the other entry points load, from ESM and CommonJS, and never ask for fastify', () => {
    expect(() => run(process.execPath, ['-e', "require.resolve('fastify')"], consumer)).toThrow();
    expect(() =>
      run(process.execPath, ['-e', "require.resolve('fastify-plugin')"], consumer),
    ).toThrow();
    const names = [
      'express-kubelet-auth',
      'express-kubelet-auth/kubelet',
      'express-kubelet-auth/parts',
    ];
    const loaded = JSON.stringify(names.map(() => 'object'));
    expect(
      probe(
        'others.mjs',
        `const loaded = await Promise.all(${JSON.stringify(names)}.map((n) => import(n)));
console.log(JSON.stringify(loaded.map((m) => typeof m)));\n`,
      ),
    ).toBe(loaded);
    expect(
      probe(
        'others.cjs',
        `const loaded = ${JSON.stringify(names)}.map((n) => require(n));
const fastify = Object.keys(require.cache).filter((f) => /[\\\\/]node_modules[\\\\/]fastify/.test(f));
console.log(JSON.stringify(loaded.map((m) => typeof m)), JSON.stringify(fastify));\n`,
      ),
    ).toBe(`${loaded} []`);
  });

  it('express-kubelet-auth/fastify fails to load, naming the missing peer', () => {
    for (const [file, source] of [
      ['fastify-missing.mjs', `await import('express-kubelet-auth/fastify');\n`],
      ['fastify-missing.cjs', `require('express-kubelet-auth/fastify');\n`],
    ] as const) {
      let stderr = '';
      try {
        probe(file, source);
      } catch (error) {
        stderr = String((error as { stderr?: string }).stderr);
      }
      expect(stderr).toMatch(/Cannot find (package|module) 'fastify-plugin'/);
    }
  });
});

describe('with fastify and fastify-plugin installed', () => {
  beforeAll(() => {
    run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        `fastify@${installedVersion('fastify')}`,
        `fastify-plugin@${installedVersion('fastify-plugin')}`,
      ],
      consumer,
    );
  }, 240_000);

  /** Registers the plugin on a real Fastify and injects an allowed and a refused request. */
  const exercise = `const app = Fastify();
await app.register(plugin, {
  nodeName: 'node-a',
  authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
  authorization: { mode: 'AlwaysAllow' },
  logger: { warn() {} },
});
app.get('/stats/summary', async (request) => ({ user: request.kubeUser.username }));
const allowed = await app.inject('/stats/summary');
const refused = await app.inject('/Stats/summary');
await app.close();
console.log(JSON.stringify([same, allowed.statusCode, allowed.json(), refused.statusCode, refused.headers['content-type'], refused.body]));`;
  const expected = [
    true,
    200,
    { user: 'system:anonymous' },
    400,
    'text/plain; charset=utf-8',
    '400 Bad Request',
  ];

  it('imports from ESM (default and named) and answers as kubeletAuth', () => {
    const out = probe(
      'fastify.mjs',
      `import Fastify from 'fastify';
import plugin, { fastifyKubeletAuth } from 'express-kubelet-auth/fastify';
const same = plugin === fastifyKubeletAuth;
${exercise}\n`,
    );
    expect(JSON.parse(out)).toEqual(expected);
  });

  it('requires from CommonJS (named and default) and answers as kubeletAuth', () => {
    const out = probe(
      'fastify.cjs',
      `const Fastify = require('fastify');
const { fastifyKubeletAuth: plugin, default: byDefault } = require('express-kubelet-auth/fastify');
const same = plugin === byDefault;
(async () => {
${exercise}
})();\n`,
    );
    expect(JSON.parse(out)).toEqual(expected);
  });

  it('type-checks from ESM and CommonJS with skipLibCheck off', () => {
    const usage = `const app = Fastify({ http2: true });
export const ready = app
  .register(fastifyKubeletAuth, { nodeName: 'node-a', authorization: { mode: 'AlwaysAllow' } })
  .after(() => {
    app.get('/pods', async (request) => {
      const name: string | undefined = request.kubeUser?.username;
      return { name, groups: request.kubeUser?.groups ?? [] };
    });
  });
// @ts-expect-error: the options are kubeletAuth's
export const wrong = Fastify().register(fastifyKubeletAuth, { nodeName: 'n', authorization: { mode: 'RBAC' } });`;
    writeFileSync(
      join(consumer, 'plugin.mts'),
      `import Fastify from 'fastify';
import { fastifyKubeletAuth } from 'express-kubelet-auth/fastify';
${usage}\n`,
    );
    writeFileSync(
      join(consumer, 'plugin.cts'),
      `import Fastify = require('fastify');
import plugin = require('express-kubelet-auth/fastify');
const fastifyKubeletAuth = plugin.fastifyKubeletAuth;
${usage}\n`,
    );
    for (const resolution of ['nodenext', 'node16']) {
      const errors = typeErrors(consumer, ['plugin.mts', 'plugin.cts'], resolution);
      expect({ resolution, errors }).toEqual({ resolution, errors: [] });
    }
  });
});
