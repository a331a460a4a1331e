import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'dist-demo/',
      'api-docs/',
      'node_modules/',
      'coverage/',
      'bench-results/',
      '__tests__/.readme-snippets-*/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // The package's modules stay small enough to read in one sitting (the testkit excepted).
    files: ['lib/**/*.ts'],
    ignores: ['lib/testing/**'],
    rules: { 'max-lines': ['error', { max: 300 }] },
  },
  {
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    // Plain-JavaScript CommonJS Jest projects, as their users write them: the example, and the
    // one __tests__/packaging/cjs-jest.test.ts installs and runs.
    files: ['examples/commonjs/**/*.js', '__tests__/packaging/cjs-jest/**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: Object.fromEntries(
        ['require', 'test', 'expect', 'beforeAll', 'afterAll', 'beforeEach'].map((name) => [
          name,
          'readonly',
        ]),
      ),
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
