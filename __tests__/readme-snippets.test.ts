import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from '@jest/globals';
import * as api from '../lib/index.js';

// Every TypeScript block of the README and of the guides in docs/ type-checks (strict) against
// the package's sources, as a user would paste it. Blocks are fragments of an app: the names
// they use without declaring them (`app`, `kubeConfig`, the package's own exports, …) are
// declared for them here, with the types a real app would have.

const root = fileURLToPath(new URL('..', import.meta.url));
const entryPoints = (
  JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as {
    compilerOptions: { paths: Record<string, [string]> };
  }
).compilerOptions.paths;

/** Names README fragments use without declaring them, and what they are. */
const AMBIENT: Record<string, string> = {
  app: "import('express').Express",
  kubeConfig: "import('@kubernetes/client-node').KubeConfig",
  key: 'string',
  cert: 'string',
  clientCAFile: 'string',
  authorizer: "import('express-kubelet-auth').Authorizer",
  server: "import('node:https').Server",
  auditLog: '{ info(entry: object): void }',
  auth: "import('express-kubelet-auth').Middleware",
  authz: "import('express-kubelet-auth').Middleware",
  proxy: "import('express-kubelet-auth').Middleware",
  expect: "typeof import('@jest/globals').expect",
};

const documents = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

function blocks(): string[] {
  return documents.flatMap((document) => {
    const text = readFileSync(join(root, document), 'utf8');
    return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => `// ${document}\n${m[1]}`);
  });
}

/** Whether `block` declares or imports `name` itself. */
function declares(block: string, name: string): boolean {
  return new RegExp(
    `(\\b(const|let|var|function|class)\\s+${name}\\b)|(import[^;]*\\b${name}\\b[^;]*from)`,
  ).test(block);
}

const uses = (block: string, name: string): boolean =>
  new RegExp(`(?<![\\w.'"])${name}\\b`).test(block);

function module(block: string): string {
  const values = Object.keys(api).filter((n) => uses(block, n) && !declares(block, n));
  const head =
    values.length > 0 ? [`import { ${values.join(', ')} } from 'express-kubelet-auth';`] : [];
  for (const [name, type] of Object.entries(AMBIENT)) {
    if (uses(block, name) && !declares(block, name)) head.push(`declare const ${name}: ${type};`);
  }
  return `${head.join('\n')}\n${block}\nexport {};\n`;
}

it('every TypeScript block of the README and the guides type-checks', () => {
  const all = blocks();
  expect(all.length).toBeGreaterThan(10);
  const dir = join(root, '__tests__', `.readme-snippets-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  try {
    all.forEach((block, i) => writeFileSync(join(dir, `block-${i}.ts`), module(block)));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2023'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          types: ['node'],
          strict: true,
          esModuleInterop: true,
          skipLibCheck: true,
          noEmit: true,
          // Every entry point, as the package's own tsconfig maps it to the sources.
          paths: Object.fromEntries(
            Object.entries(entryPoints).map(([name, [file]]) => [name, [join('..', '..', file)]]),
          ),
        },
        include: ['*.ts'],
      }),
    );
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    let output = '';
    try {
      execFileSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], {
        encoding: 'utf8',
        stdio: 'pipe',
      });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error);
    }
    // Name the block and show it, so the README line is easy to find.
    const failing = [...output.matchAll(/block-(\d+)\.ts/g)].map((m) => Number(m[1]));
    const shown = [...new Set(failing)].map((i) => `--- block ${i}:\n${module(all[i] ?? '')}`);
    expect(`${output}${shown.join('\n')}`).toBe('');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
