import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientNodeVersion, installedVersion, packTarball, run, typeErrors } from './tarball.js';

/**
 * The package as users get it: `npm pack`, installed from the tarball into an empty project
 * (with its peers from the registry, as a user's install would), then imported from ESM and
 * from CommonJS, and type-checked for both entry points with `skipLibCheck` off, so the published
 * declarations must stand on their own. The client-node major is the one the run asks for
 * (EKA_CLIENT_NODE=2 in `npm run test:matrix`), at the version the lockfile pins.
 */

let dir: string;
let consumer: string;
let tarball: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'eka-pack-'));
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
      `prom-client@${installedVersion('prom-client')}`,
      `@types/node@${process.versions.node.split('.')[0]}`,
    ],
    consumer,
  );
}, 240_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm pack', () => {
  it('ships every entry point, ESM and CommonJS, with their types, the README and the LICENSE, and nothing else', () => {
    const files = run('tar', ['tzf', tarball], dir).split('\n').filter(Boolean);
    for (const file of [
      'dist/index.js',
      'dist/index.d.ts',
      'dist/testing/index.js',
      'dist/testing/index.d.ts',
      'dist/metrics/prometheus.js',
      'dist/metrics/prometheus.d.ts',
      'dist/kubelet.js',
      'dist/kubelet.d.ts',
      'dist/parts.js',
      'dist/parts.d.ts',
      'dist/cli/main.js',
      'dist/cjs/package.json',
      'dist/cjs/index.js',
      'dist/cjs/index.d.ts',
      'dist/cjs/testing/index.js',
      'dist/cjs/testing/index.d.ts',
      'dist/cjs/metrics/prometheus.js',
      'dist/cjs/metrics/prometheus.d.ts',
      'dist/cjs/kubelet.js',
      'dist/cjs/kubelet.d.ts',
      'dist/cjs/parts.js',
      'dist/cjs/parts.d.ts',
      'README.md',
      'LICENSE',
      'package.json',
    ]) {
      expect(files).toContain(`package/${file}`);
    }
    expect(
      files.filter((f) => !/^package\/(dist\/|README\.md$|LICENSE$|package\.json$)/.test(f)),
    ).toEqual([]);
    // Source maps would point at sources the tarball does not ship.
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
  });

  it("mints certificates only with the testkit's optional peers, and says which are missing", () => {
    // The consumer installed neither @peculiar/x509 nor reflect-metadata.
    const probe = (file: string, source: string): string => {
      writeFileSync(join(consumer, file), source);
      return run(process.execPath, [file], consumer).trim();
    };
    const code = `.createCA().then(() => console.log('minted'), (e) => console.log(e.code + ' ' + e.message))`;
    for (const output of [
      probe('peer.mjs', `import('express-kubelet-auth/testing').then((t) => t${code});`),
      probe('peer.cjs', `require('express-kubelet-auth/testing')${code};`),
    ]) {
      expect(output).toMatch(
        /^ERR_MISSING_PEER .*npm install --save-dev @peculiar\/x509 reflect-metadata/,
      );
    }
  });

  it('imports from ESM and from CommonJS, every entry point', () => {
    writeFileSync(
      join(consumer, 'esm.mjs'),
      `import { kubeletAuth } from 'express-kubelet-auth';
import { kubeletSubresources } from 'express-kubelet-auth/kubelet';
import { alwaysDeny } from 'express-kubelet-auth/parts';
import { startApiServer, createCA } from 'express-kubelet-auth/testing';
import { prometheusMetrics } from 'express-kubelet-auth/metrics';
console.log(JSON.stringify([typeof kubeletAuth, kubeletSubresources('/pods'), typeof alwaysDeny, typeof startApiServer, typeof createCA, typeof prometheusMetrics]));\n`,
    );
    writeFileSync(
      join(consumer, 'cjs.cjs'),
      `const { kubeletAuth } = require('express-kubelet-auth');
const { kubeletSubresources } = require('express-kubelet-auth/kubelet');
const { alwaysDeny } = require('express-kubelet-auth/parts');
const { startApiServer, createCA } = require('express-kubelet-auth/testing');
const { prometheusMetrics } = require('express-kubelet-auth/metrics');
console.log(JSON.stringify([typeof kubeletAuth, kubeletSubresources('/pods'), typeof alwaysDeny, typeof startApiServer, typeof createCA, typeof prometheusMetrics]));\n`,
    );
    const expected = [
      'function',
      ['pods', 'proxy'],
      'function',
      'function',
      'function',
      'function',
    ];
    expect(JSON.parse(run(process.execPath, ['esm.mjs'], consumer))).toEqual(expected);
    expect(JSON.parse(run(process.execPath, ['cjs.cjs'], consumer))).toEqual(expected);
  });

  it('type-checks from ESM and CommonJS with skipLibCheck off', () => {
    writeFileSync(
      join(consumer, 'types.mts'),
      `import { kubeletAuth, TokenReviewStrategy, type KubeUser, type KubeletAuthOptions } from 'express-kubelet-auth';
import { kubeletRequestAttributes, type KubeletAttributesOptions } from 'express-kubelet-auth/kubelet';
import { alwaysDeny, type AuthorizationResult, type TokenReviewStrategyOptions } from 'express-kubelet-auth/parts';
import { startApiServer, type StandInApiServer } from 'express-kubelet-auth/testing';
import { prometheusMetrics, type AuthMetrics } from 'express-kubelet-auth/metrics';
const metrics: AuthMetrics = prometheusMetrics();
const options: KubeletAuthOptions = { nodeName: 'n', authorization: { mode: 'AlwaysAllow' }, metrics };
const user: KubeUser = { username: 'u', groups: [] };
const strategy: TokenReviewStrategyOptions = { cacheTTL: '1m' };
const attributesOptions: KubeletAttributesOptions = { nodeName: 'n', fineGrained: true };
export const denied: Promise<AuthorizationResult> = alwaysDeny().authorize(kubeletRequestAttributes(user, 'GET', '/pods', attributesOptions)[0]!);
export const used: [typeof kubeletAuth, typeof TokenReviewStrategy, typeof startApiServer, KubeletAuthOptions, KubeUser, StandInApiServer | undefined, TokenReviewStrategyOptions] =
  [kubeletAuth, TokenReviewStrategy, startApiServer, options, user, undefined, strategy];
// @ts-expect-error: the mode is checked by the types too
export const wrong: KubeletAuthOptions = { nodeName: 'n', authorization: { mode: 'RBAC' } };\n`,
    );
    writeFileSync(
      join(consumer, 'types.cts'),
      `import auth = require('express-kubelet-auth');
import kubelet = require('express-kubelet-auth/kubelet');
import parts = require('express-kubelet-auth/parts');
import testing = require('express-kubelet-auth/testing');
const user: auth.KubeUser = { username: 'u', groups: [] };
const decision: parts.Decision = 'NoOpinion';
export const used = [auth.kubeletAuth, kubelet.kubeletVerb('GET'), parts.alwaysDeny, testing.startApiServer, user, decision];\n`,
    );
    // node16 is nodenext as TypeScript read Node.js before require(esm): a CommonJS declaration
    // must then import client-node's (ESM) types with a resolution-mode attribute.
    for (const resolution of ['nodenext', 'node16']) {
      const errors = typeErrors(consumer, ['types.mts', 'types.cts'], resolution);
      expect({ resolution, errors }).toEqual({ resolution, errors: [] });
    }
    expect(
      readdirSync(join(consumer, 'node_modules', 'express-kubelet-auth', 'dist', 'testing')),
    ).toContain('index.d.ts');
  });

  it('installs the explain command as a bin', () => {
    const bin = join(consumer, 'node_modules', '.bin', 'express-kubelet-auth');
    const out = run(
      bin,
      ['explain', 'GET', '/stats/summary', '--node', 'node-a', '--user', 'alice'],
      consumer,
    );
    expect(out).toContain(
      '"resourceAttributes":{"verb":"get","version":"v1","resource":"nodes","subresource":"stats","name":"node-a"}',
    );
  });
});

describe('a Node.js / client-node pair that cannot work', () => {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const tooOld = major < 22 || (major === 22 && minor < 19);
  (tooOld ? it : it.skip)(
    'client-node 2.x on this Node.js: importing fails with one clear error, before client-node loads',
    () => {
      const client2 = installedVersion('client-node-v2');
      run(
        'npm',
        ['install', '--no-audit', '--no-fund', `@kubernetes/client-node@${client2}`],
        consumer,
      );
      writeFileSync(join(consumer, 'broken.mjs'), `import 'express-kubelet-auth';\n`);
      writeFileSync(join(consumer, 'broken.cjs'), `require('express-kubelet-auth/testing');\n`);
      for (const script of ['broken.mjs', 'broken.cjs']) {
        let stderr = '';
        try {
          run(process.execPath, [script], consumer);
        } catch (error) {
          stderr = String((error as { stderr?: string }).stderr);
        }
        expect(stderr).toContain(
          `KubeletAuthError: @kubernetes/client-node ${client2} needs Node.js 22.19 or newer, and this is Node.js ${process.versions.node}`,
        );
        expect(stderr).not.toMatch(/undici|reading 'bind'/);
      }
    },
  );
});
