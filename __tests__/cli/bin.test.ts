/**
 * The command as a clone gets it: `npm ci` runs the `prepare` script, which must build the file
 * package.json's `bin` names, and `npx express-kubelet-auth …` then runs the compiled JavaScript
 * exactly as the README shows it. Done in a copy of the sources (no `dist/` of earlier runs),
 * with this checkout's node_modules linked in, and npm kept offline.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  bin: Record<string, string>;
  scripts: Record<string, string>;
};
let clone: string;

function npx(args: string[]): string {
  return execFileSync('npx', ['express-kubelet-auth', ...args], {
    cwd: clone,
    encoding: 'utf8',
    env: { ...process.env, npm_config_offline: 'true', NODE_OPTIONS: '' },
  });
}

beforeAll(() => {
  clone = mkdtempSync(join(tmpdir(), 'eka-bin-'));
  for (const entry of [
    'package.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'tsconfig.cjs.json',
    'lib',
  ]) {
    cpSync(join(root, entry), join(clone, entry), { recursive: true });
  }
  symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'), 'dir');
  execFileSync('npm', ['run', 'prepare'], { cwd: clone, stdio: 'ignore' });
}, 120_000);

afterAll(() => rmSync(clone, { recursive: true, force: true }));

describe('the express-kubelet-auth bin after prepare', () => {
  it('exists where package.json points', () => {
    const bin = manifest.bin['express-kubelet-auth'];
    expect(bin).toMatch(/^\.\/dist\/.*\.js$/);
    expect(existsSync(join(clone, bin ?? 'missing'))).toBe(true);
    expect(readFileSync(join(clone, bin ?? 'missing'), 'utf8')).toMatch(
      /^#!\/usr\/bin\/env node\n/,
    );
  });

  it('prints the version of the package.json it ships with', () => {
    expect(npx(['--version'])).toBe(`${manifest.version}\n`);
  });

  it('prints what the docs show for their explain example', () => {
    const readme = readFileSync(join(root, 'docs', 'explain.md'), 'utf8');
    // A ```sh block with one `npx express-kubelet-auth explain` line, followed by its output.
    const examples = [
      ...readme.matchAll(
        /```sh\nnpx express-kubelet-auth (explain [^\n]*)\n```\n\n```text\n([\s\S]*?)```/g,
      ),
    ];
    expect(examples.length).toBeGreaterThan(0);
    for (const [, command, output] of examples) {
      expect(npx((command ?? '').split(' '))).toBe(output);
    }
  });

  it('prints the whole report with --output=json', () => {
    const report = JSON.parse(
      npx(['explain', 'GET', '/healthz', '--node', 'node-a', '--user', 'alice', '--output=json']),
    ) as { subjectAccessReviews: unknown[]; minimalRule: unknown };
    expect(report.subjectAccessReviews).toHaveLength(2);
    expect(report.minimalRule).toEqual({
      apiGroups: [''],
      resources: ['nodes/healthz'],
      verbs: ['get'],
    });
  });
});
