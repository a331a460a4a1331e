// Jest runs the TypeScript sources as native ES modules: @swc/jest strips the types (no
// type-check here; `npm run typecheck` does that), and `npm run jest` starts Node with
// --experimental-vm-modules, which Jest's ESM support needs.
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'es6' },
      },
    ],
  },
  // Sources import './x.js' (NodeNext style); map those to the .ts files.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/__tests__/**/*.test.ts'],
  testTimeout: 20000,
  setupFilesAfterEnv: ['<rootDir>/__tests__/support/no-secrets.setup.ts'],
  reporters: ['default', '<rootDir>/__tests__/summary-reporter.js'],
};
