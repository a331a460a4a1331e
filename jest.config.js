// Jest runs the TypeScript sources as native ES modules: @swc/jest strips the types (no
// type-check here; `npm run typecheck` does that), and `npm run jest` starts Node with
// --experimental-vm-modules, which Jest's ESM support needs.
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    // The one CommonJS source (`require` rooted in the package, lib/apiserver/package-require.cts).
    '^.+\\.cts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'commonjs' },
      },
    ],
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'es6' },
      },
    ],
  },
  moduleNameMapper: {
    // Sources import './x.js' (NodeNext style); map those to the .ts files.
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // The examples import the package by its name, as users do; here that is lib/.
    '^express-kubelet-auth$': '<rootDir>/lib/index.ts',
    '^express-kubelet-auth/kubelet$': '<rootDir>/lib/kubelet.ts',
    '^express-kubelet-auth/parts$': '<rootDir>/lib/parts.ts',
    '^express-kubelet-auth/testing$': '<rootDir>/lib/testing/index.ts',
    '^express-kubelet-auth/metrics$': '<rootDir>/lib/metrics/prometheus.ts',
    // The one CommonJS source; a general '.cjs' rule would also catch packages' own files.
    '^(\\.{1,2}/(?:.*/)?package-require)\\.cjs$': '$1.cts',
    // EKA_CLIENT_NODE=2 runs everything against client-node 2.x (installed as `client-node-v2`;
    // it needs Node ≥ 22.19), the default is the 1.x the lockfile installs by its own name.
    ...(process.env.EKA_CLIENT_NODE === '2'
      ? { '^@kubernetes/client-node$': 'client-node-v2' }
      : {}),
  },
  testMatch: ['<rootDir>/__tests__/**/*.test.ts', '<rootDir>/examples/*.test.ts'],
  testTimeout: 20000,
  setupFilesAfterEnv: ['<rootDir>/__tests__/support/no-secrets.setup.ts'],
  reporters: ['default', '<rootDir>/__tests__/summary-reporter.js'],
};
