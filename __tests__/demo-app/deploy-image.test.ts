/**
 * The mock kubelet's image, checked without a Docker engine: demo-app/deploy/Dockerfile is
 * replayed step by step (its own COPY and build commands, in temp folders), then the compiled
 * result is started the way the image's ENTRYPOINT starts it and answers over HTTPS. What the
 * replay cannot do — `npm ci` from the registry — is checked on the files it would install from:
 * the runtime stage's package.json must name every package the compiled code imports, and its
 * lockfile must pin what the package's own lockfile (the one the tests run on) pins.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import ts from 'typescript';
import { parse as parseYaml } from 'yaml';
import type { NpmCi, ReplayedStage, Stage } from './support/dockerfile.js';
import { parseDockerfile, replayDockerfile } from './support/dockerfile.js';
import { httpsRequest } from './support/https-client.js';

const ROOT = process.cwd();
const DEPLOY = join(ROOT, 'demo-app', 'deploy');
const stages: Stage[] = parseDockerfile(readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'deploy-image-'));
let runtime: ReplayedStage;
let npmCi: NpmCi[];

interface Lockfile {
  packages: Record<string, { version?: string; dependencies?: Record<string, string> }>;
}
const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

/** Every file under `folder` (node_modules left out), as paths relative to it. */
function files(folder: string): string[] {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(folder, join(entry.parentPath, entry.name)))
    .filter((path) => !path.split('/').includes('node_modules'));
}

/** The name in the package.json nearest above `file` (its package scope), if any. */
function packageScope(file: string): string | undefined {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) return readJson<{ name?: string }>(manifest).name;
  }
  return undefined;
}

beforeAll(() => {
  const replay = replayDockerfile({
    stages,
    context: ROOT,
    dockerignore: join(DEPLOY, 'Dockerfile.dockerignore'),
    into: dir,
    nodeModules: join(ROOT, 'node_modules'),
  });
  npmCi = replay.npmCi;
  runtime = replay.stages.at(-1)!;
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('demo-app/deploy/Dockerfile', () => {
  it('is multi-stage: a build stage with the dev dependencies, a runtime stage without', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages[0]?.name).toBeDefined();
    const [first, last] = [npmCi.find((ci) => ci.stage === 0), npmCi.at(-1)];
    expect(first?.flags).not.toContain('--omit=dev');
    expect(last?.stage).toBe(stages.length - 1);
    expect(last?.flags).toContain('--omit=dev');
    // The runtime install is the image's own manifest, not the package's (whose runtime
    // dependencies leave out Express, client-node and what else the demo needs).
    expect(readFileSync(join(last!.dir, 'package-lock.json'), 'utf8')).toBe(
      readFileSync(join(DEPLOY, 'package-lock.json'), 'utf8'),
    );
  });

  it('runs compiled JavaScript with node: no TypeScript, no tsx in the image', () => {
    expect(runtime.entrypoint?.[0]).toBe('node');
    expect(runtime.entrypoint?.[1]).toMatch(/\.js$/);
    expect(runtime.entrypoint).not.toContain('tsx');
    const shipped = files(runtime.root);
    expect(shipped).toContain(join('app', runtime.entrypoint?.[1] ?? 'missing'));
    expect(shipped.filter((path) => /\.[cm]?ts$/.test(path))).toEqual([]);
    const manifest = readJson<{ dependencies?: Record<string, string> }>(
      join(runtime.workdir, 'package.json'),
    );
    expect(Object.keys(manifest.dependencies ?? {})).not.toContain('tsx');
  });

  it('runs as a numeric non-root user, the one the DaemonSet declares', () => {
    const [uid, gid] = (runtime.user ?? '').split(':');
    expect(uid).toMatch(/^[1-9]\d*$/);
    expect(gid).toMatch(/^[1-9]\d*$/);
    const daemonSet = parseYaml(readFileSync(join(DEPLOY, 'daemonset.yaml'), 'utf8')) as {
      spec: { template: { spec: { containers: { securityContext: Record<string, unknown> }[] } } };
    };
    expect(daemonSet.spec.template.spec.containers[0]?.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: Number(uid),
      runAsGroup: Number(gid),
    });
  });

  it('installs every package the compiled code imports, with the runtime install only', () => {
    const imported = new Set<string>();
    const selfReferences = new Set<string>();
    for (const path of files(runtime.workdir).filter((p) => p.endsWith('.js'))) {
      const source = readFileSync(join(runtime.workdir, path), 'utf8');
      const scope = packageScope(join(runtime.workdir, path));
      for (const { fileName } of ts.preProcessFile(source, true, true).importedFiles) {
        if (fileName.startsWith('.') || fileName.startsWith('node:')) continue;
        // A package name, without a subpath: '@scope/name' or 'name'.
        const name = fileName
          .split('/')
          .slice(0, fileName.startsWith('@') ? 2 : 1)
          .join('/');
        // The package's own name, imported from inside it: its exports resolve it, no install.
        if (name === scope) selfReferences.add(name);
        else imported.add(name);
      }
    }
    expect(imported.size).toBeGreaterThan(0);
    // The demo uses the package as its users do: by name, never by a path into its files.
    expect([...selfReferences]).toEqual(['express-kubelet-auth']);
    const manifest = readJson<{ dependencies: Record<string, string> }>(
      join(runtime.workdir, 'package.json'),
    );
    expect([...imported].filter((name) => !(name in manifest.dependencies))).toEqual([]);
    // npm ci refuses a lockfile out of step with package.json.
    const lock = readJson<Lockfile>(join(runtime.workdir, 'package-lock.json'));
    expect(lock.packages['']?.dependencies).toEqual(manifest.dependencies);
  });

  it('pins what the package lockfile pins, so the image runs the versions the tests run', () => {
    const lock = readJson<Lockfile>(join(DEPLOY, 'package-lock.json'));
    const tested = readJson<Lockfile>(join(ROOT, 'package-lock.json'));
    const differing = Object.entries(lock.packages)
      .filter(([path, { version }]) => path !== '' && tested.packages[path]?.version !== version)
      .map(
        ([path, { version }]) => `${path} ${version} (tested: ${tested.packages[path]?.version})`,
      );
    // To bring it in step: cp package-lock.json demo-app/deploy/ && cd demo-app/deploy &&
    // npm install --package-lock-only --ignore-scripts
    expect(differing).toEqual([]);
  });

  it('the compiled mock kubelet starts as the ENTRYPOINT starts it, and serves', async () => {
    const [, main, ...args] = runtime.entrypoint ?? [];
    // Dev mode: it reads policy.yaml and serves logs-root, which the runtime stage copies.
    const child = spawn(process.execPath, [main ?? 'missing', ...args], {
      cwd: runtime.workdir,
      env: { ...process.env, ...runtime.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          stdout += chunk;
          if (stdout.includes('Press Ctrl+C to stop.')) resolve();
        });
        void exited.then((code) => reject(new Error(`exited (${code}): ${stderr}`)));
      });
      const url = /serving on (https:\/\/\S+)/.exec(stdout)?.[1];
      const ca = /--cacert (\S+)/.exec(stdout)?.[1];
      const token = /Bearer (alice-[\w-]+)/.exec(stdout)?.[1];
      const answer = await httpsRequest(`${url}/logs/`, {
        ca: readFileSync(ca ?? 'missing', 'utf8'),
        token,
      });
      expect(answer.status).toBe(200);
      expect(answer.body).toContain('kubelet.log');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 30_000);
});
