/**
 * The combinations of Node.js and `@kubernetes/client-node` that cannot work, told in one
 * sentence naming the cause and the fix: client-node 2.x needs Node.js 22.19 or newer (on
 * Node 20 it fails deep inside undici), and this package needs client-node 1.4 or newer.
 * Checked before client-node is loaded (`lib/apiserver/client-node.ts`), so that its own crash
 * never comes first.
 */
export function runtimeProblem(
  nodeVersion: string,
  clientNodeVersion: string | undefined,
): string | undefined {
  const [nodeMajor = 0, nodeMinor = 0] = numbers(nodeVersion);
  const runsTwo = nodeMajor > 22 || (nodeMajor === 22 && nodeMinor >= 19);
  // The major that works on this Node.js: npm's default (2.x) needs 22.19.
  const install = runsTwo ? '@kubernetes/client-node@2' : '@kubernetes/client-node@1';
  if (clientNodeVersion === undefined) {
    return `express-kubelet-auth needs its peer dependency @kubernetes/client-node, which is not installed: run \`npm install ${install}\` (the version for Node.js ${nodeVersion}).`;
  }
  const [clientMajor = 0, clientMinor = 0] = numbers(clientNodeVersion);
  if (clientMajor < 1 || (clientMajor === 1 && clientMinor < 4) || clientMajor > 2) {
    return `express-kubelet-auth works with @kubernetes/client-node 1.4 or newer 1.x, or 2.x; ${clientNodeVersion} is installed: run \`npm install ${install}\` (the version for Node.js ${nodeVersion}).`;
  }
  if (clientMajor === 2 && !runsTwo) {
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
