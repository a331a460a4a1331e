import type * as ClientNodeModule from '@kubernetes/client-node' with {
  'resolution-mode': 'import',
};
import { readFileSync } from 'node:fs';
import { KubeletAuthError } from '../errors.js';
import { runtimeProblem } from '../runtime-check.js';
import packageRequire from './package-require.cjs';

/** The `@kubernetes/client-node` module. */
export type ClientNode = typeof ClientNodeModule;

/**
 * client-node is loaded on first need, never when an entry point is imported: it is ESM-only,
 * and the package's CommonJS build must load in environments that cannot load an ES module
 * (CommonJS Jest), where tests use a `reviewClient` instead. Both loaders share one instance.
 */
let loaded: ClientNode | undefined;

/**
 * client-node, for code that may wait (a review, starting the testkit's API server): a dynamic
 * `import()`, which works wherever ES modules do, Jest's native ESM mode on every Node.js
 * included. Rejects with a `KubeletAuthError` naming cause and fix when it cannot work.
 */
export async function importClientNode(): Promise<ClientNode> {
  if (loaded) return loaded;
  refuseUnsupportedRuntime();
  try {
    loaded = await import('@kubernetes/client-node');
  } catch (error) {
    throw unloadable(error);
  }
  return loaded;
}

/**
 * client-node, for code that must have it now (building the default KubeConfig at start-up):
 * the instance already loaded, else `require(esm)`, which Node.js 20.19+ supports, and Jest
 * only from Node.js 24.9 with --experimental-vm-modules.
 */
export function requireClientNode(): ClientNode {
  if (loaded) return loaded;
  refuseUnsupportedRuntime();
  try {
    loaded = packageRequire('@kubernetes/client-node') as ClientNode;
  } catch (error) {
    throw unloadable(error);
  }
  return loaded;
}

/**
 * Throws the one clear error for an installed client-node that cannot work on this Node.js (or
 * with this package). A client-node not installed at all is left to the first use: code that
 * passes its own `reviewClient` never needs it. Every entry point runs this when imported.
 */
export function refuseIncompatibleClientNode(): void {
  const version = installedVersion();
  if (version === undefined) return;
  const problem = runtimeProblem(process.versions.node, version);
  if (problem !== undefined) throw new KubeletAuthError('ERR_UNSUPPORTED_RUNTIME', problem);
}

/** Throws the one clear error for a Node.js / client-node pair that cannot work. */
function refuseUnsupportedRuntime(): void {
  const problem = runtimeProblem(process.versions.node, installedVersion());
  if (problem !== undefined) throw new KubeletAuthError('ERR_UNSUPPORTED_RUNTIME', problem);
}

/** The installed client-node's version, read from its package.json without loading it. */
function installedVersion(): string | undefined {
  try {
    const file = packageRequire.resolve('@kubernetes/client-node/package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** What the runtime says when it cannot load an ES module from where it was asked to. */
const CANNOT_LOAD_ESM = new Set([
  'ERR_REQUIRE_ESM',
  'ERR_REQUIRE_ASYNC_MODULE',
  'ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING',
  'ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING_FLAG',
]);

/** The environment's refusal to load an ES module, told with its cause and its fixes. */
function unloadable(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !CANNOT_LOAD_ESM.has(code)) return error;
  return new KubeletAuthError(
    'ERR_UNSUPPORTED_RUNTIME',
    "@kubernetes/client-node is ESM-only and cannot be loaded in this environment (CommonJS Jest without --experimental-vm-modules; Jest loads an ES module with require() only with that flag, on Node.js 24.9+): pass `reviewClient` instead of a KubeConfig (in tests, the stand-in API server's `api.reviewClient()` from express-kubelet-auth/testing), or run Jest with native ESM (`node --experimental-vm-modules node_modules/jest/bin/jest.js`).",
    { cause: error },
  );
}
