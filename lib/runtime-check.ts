import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { KubeletAuthError } from './errors.js';

/**
 * Refuses, at import time and in one sentence, the combinations of Node.js and
 * `@kubernetes/client-node` that cannot work, before client-node itself is loaded: client-node
 * 2.x needs Node.js 22.19 or newer (on Node 20 it fails deep inside undici), and this package
 * needs client-node 1.4 or newer. Every entry point imports this module first.
 */
export function runtimeProblem(
  nodeVersion: string,
  clientNodeVersion: string | undefined,
): string | undefined {
  if (clientNodeVersion === undefined) {
    return 'express-kubelet-auth needs its peer dependency @kubernetes/client-node, which is not installed: run `npm install @kubernetes/client-node` (on Node.js 20: `@kubernetes/client-node@1`).';
  }
  const [clientMajor = 0, clientMinor = 0] = numbers(clientNodeVersion);
  if (clientMajor < 1 || (clientMajor === 1 && clientMinor < 4) || clientMajor > 2) {
    return `express-kubelet-auth works with @kubernetes/client-node 1.4 or newer 1.x, or 2.x; ${clientNodeVersion} is installed: run \`npm install @kubernetes/client-node@2\` (on Node.js 20: \`@kubernetes/client-node@1\`).`;
  }
  const [nodeMajor = 0, nodeMinor = 0] = numbers(nodeVersion);
  if (clientMajor === 2 && (nodeMajor < 22 || (nodeMajor === 22 && nodeMinor < 19))) {
    return `@kubernetes/client-node ${clientNodeVersion} needs Node.js 22.19 or newer, and this is Node.js ${nodeVersion}: run \`npm install @kubernetes/client-node@1\`, or move to Node.js 22.19+ or 24.`;
  }
  return undefined;
}

function numbers(version: string): number[] {
  return version
    .replace(/^v/, '')
    .split('.')
    .map((part) => Number.parseInt(part, 10));
}

/** The installed client-node's version, read from its package.json without loading it. */
function installedClientNodeVersion(): string | undefined {
  try {
    const file = createRequire(import.meta.url).resolve('@kubernetes/client-node/package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

const problem = runtimeProblem(process.versions.node, installedClientNodeVersion());
if (problem !== undefined) throw new KubeletAuthError('ERR_UNSUPPORTED_RUNTIME', problem);
