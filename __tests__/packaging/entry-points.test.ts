import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import ts from 'typescript';
import { root } from './tarball.js';

/**
 * The package's entry points as users see them: a small root, internals nowhere, the names of
 * the root, /kubelet and /parts listed in docs/api.md, and every subpath of package.json's
 * `exports` wired the same way everywhere the sources stand in for the built package (tsconfig
 * `paths`, Jest's `moduleNameMapper`) and documented (typedoc).
 */

/** The root's budget, values and types together. Keep what a user composing the middleware needs. */
const ROOT_BUDGET = 50;

/** Internal helpers that once leaked from the root; no entry point may export them. */
const INTERNALS = [
  'writeForbidden',
  'writeUnauthorized',
  'writeAuthorizationError',
  'isSubpath',
  'authenticateUnion',
  'credentialsRejection',
  'DEFAULT_RETRY_BACKOFF',
  'resolveKubeletAuthConfig',
];

interface Conditions {
  import: { types: string; default: string };
  require: { types: string; default: string };
}
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, Conditions>;
};
const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as {
  compilerOptions: { paths: Record<string, string[]> };
};
const typedoc = JSON.parse(readFileSync(join(root, 'typedoc.json'), 'utf8')) as {
  entryPoints: string[];
};

/** `./metrics` → `express-kubelet-auth/metrics`; `.` → `express-kubelet-auth`. */
const specifier = (subpath: string): string =>
  subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`;

/** The source file an export builds from: `./dist/metrics/prometheus.js` → `lib/metrics/prometheus.ts`. */
const sourceOf = (conditions: Conditions): string =>
  conditions.import.default.replace(/^\.\/dist\/(.*)\.js$/, 'lib/$1.ts');

const entries = Object.entries(manifest.exports).map(([subpath, conditions]) => ({
  name: specifier(subpath),
  conditions,
  source: sourceOf(conditions),
}));

/**
 * Every name (value or type) each entry point exports, read by the type checker, with the
 * declaration it stands for.
 */
function exportedNames(): Map<string, Map<string, ts.Declaration | undefined>> {
  const program = ts.createProgram(
    entries.map((entry) => join(root, entry.source)),
    {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      types: ['node'],
      skipLibCheck: true,
      noEmit: true,
    },
  );
  const checker = program.getTypeChecker();
  return new Map(
    entries.map((entry) => {
      const file = program.getSourceFile(join(root, entry.source));
      const module = file && checker.getSymbolAtLocation(file);
      if (!module) throw new Error(`${entry.source}: not a module`);
      const exported = checker.getExportsOfModule(module).map((symbol) => {
        const target =
          symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
        return [symbol.name, target.declarations?.[0]] as const;
      });
      return [entry.name, new Map(exported)];
    }),
  );
}

describe('the entry points', () => {
  const names = exportedNames();

  it(`the root exports at most ${ROOT_BUDGET} names, values and types together`, () => {
    const rootNames = [...(names.get(manifest.name)?.keys() ?? [])];
    expect(rootNames.length).toBeGreaterThan(0);
    expect(rootNames.length).toBeLessThanOrEqual(ROOT_BUDGET);
  });

  it('no entry point exports an internal helper', () => {
    for (const [entry, exported] of names) {
      expect([entry, [...exported.keys()].filter((n) => INTERNALS.includes(n))]).toEqual([
        entry,
        [],
      ]);
    }
  });

  it('a name exported by two entry points is the same thing in both', () => {
    const seen = new Map<string, ts.Declaration | undefined>();
    const differing: string[] = [];
    for (const [entry, exported] of names) {
      for (const [name, declaration] of exported) {
        if (seen.has(name) && seen.get(name) !== declaration) differing.push(`${entry}: ${name}`);
        seen.set(name, declaration);
      }
    }
    expect(seen.size).toBeGreaterThan(names.get(manifest.name)?.size ?? 0);
    expect(differing).toEqual([]);
  });

  it.each([manifest.name, `${manifest.name}/kubelet`, `${manifest.name}/parts`])(
    '%s: docs/api.md lists every name it exports',
    (entry) => {
      const api = readFileSync(join(root, 'docs', 'api.md'), 'utf8');
      const section = api.split(/^## /m).find((s) => s.startsWith(`\`${entry}\`\n`)) ?? '';
      const prose = section.replace(/```[\s\S]*?```/g, '');
      const listed = new Set([...prose.matchAll(/`(\w+)`/g)].map((m) => m[1]));
      expect([...(names.get(entry)?.keys() ?? [])].filter((n) => !listed.has(n))).toEqual([]);
      expect(listed.size).toBeGreaterThan(0);
    },
  );

  it.each(entries)(
    '$name: built for ESM and CommonJS, mapped to its source for tsc and Jest, documented',
    async ({ name, conditions, source }) => {
      const built = source.replace(/^lib\/(.*)\.ts$/, '$1');
      expect(conditions).toEqual({
        import: { types: `./dist/${built}.d.ts`, default: `./dist/${built}.js` },
        require: { types: `./dist/cjs/${built}.d.ts`, default: `./dist/cjs/${built}.js` },
      });
      expect(tsconfig.compilerOptions.paths[name]).toEqual([`./${source}`]);
      const jest = (await import(join(root, 'jest.config.js'))) as {
        default: { moduleNameMapper: Record<string, string> };
      };
      expect(jest.default.moduleNameMapper[`^${name}$`]).toBe(`<rootDir>/${source}`);
      expect(typedoc.entryPoints).toContain(source);
    },
  );
});
