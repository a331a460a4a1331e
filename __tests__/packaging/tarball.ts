import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package as users get it, for the packaging suites: packed as a release is, and the
 * versions a consumer project installs alongside it.
 */
export const root = fileURLToPath(new URL('../../', import.meta.url));

/** Runs a command to completion and returns its standard output; throws when it fails. */
export function run(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  return execFileSync(command, args, {
    cwd,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 300_000,
  });
}

/** The version of a package this checkout has installed, so consumers install the same. */
export function installedVersion(name: string): string {
  // Read from the folder: a package's exports need not list its package.json.
  const manifest = readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8');
  return (JSON.parse(manifest) as { version: string }).version;
}

/**
 * The client-node a consumer installs in this run: 2.x with EKA_CLIENT_NODE=2 (as
 * `npm run test:matrix` asks on Node 22 and 24), else 1.x, at the version the lockfile pins.
 */
export function clientNodeVersion(): string {
  return installedVersion(
    process.env.EKA_CLIENT_NODE === '2' ? 'client-node-v2' : '@kubernetes/client-node',
  );
}

/** What a copy of the checkout leaves out: installed, built, or not part of a build. */
const LEFT_OUT = new Set(['node_modules', '.git', 'dist', 'coverage', '__tests__']);

/**
 * Packs the package with `npm pack` (its `prepack` builds dist/) from a copy of the checkout
 * in `into`, its node_modules linked: suites that pack at the same time never read a dist/
 * another one is rebuilding, and the checkout's own dist/ is left as it was. Returns the
 * tarball's path.
 */
export function packTarball(into: string): string {
  const stage = join(into, 'stage');
  cpSync(root, stage, {
    recursive: true,
    filter: (source) => !LEFT_OUT.has(relative(root, source).split(sep)[0] ?? ''),
  });
  symlinkSync(join(root, 'node_modules'), join(stage, 'node_modules'), 'dir');
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', into], stage)) as {
    filename: string;
  }[];
  return join(into, packed[0]?.filename ?? 'missing.tgz');
}

/**
 * Type-checks `files` in the consumer project with `skipLibCheck` off, under `resolution` (module
 * and moduleResolution alike), and returns the errors. Those inside client-node's own
 * declarations and their isomorphic-ws, which reference 'ws' without its types, do not count:
 * nothing of ours may drag other packages' types in (passport's would bring @types/express).
 */
export function typeErrors(consumer: string, files: string[], resolution: string): string[] {
  const config = `tsconfig.${resolution}.json`;
  writeFileSync(
    join(consumer, config),
    JSON.stringify({
      compilerOptions: {
        module: resolution,
        moduleResolution: resolution,
        target: 'es2022',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: ['node'],
      },
      files,
    }),
  );
  let output = '';
  try {
    output = run(
      process.execPath,
      [join(root, 'node_modules/typescript/bin/tsc'), '-p', config],
      consumer,
    );
  } catch (error) {
    output = String((error as { stdout?: string }).stdout ?? error);
  }
  return output
    .split('\n')
    .filter((line) => /error TS/.test(line))
    .filter((line) => !/^node_modules\/(@kubernetes\/client-node|isomorphic-ws)\//.test(line));
}
