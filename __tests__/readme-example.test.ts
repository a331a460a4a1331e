import { expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';

// The README's supertest example is examples/supertest.test.ts word for word, and Jest runs
// that file as a test (jest.config.js), so the example the README shows is one that passes.
it("the README's supertest example is examples/supertest.test.ts", () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const example = readFileSync(new URL('../examples/supertest.test.ts', import.meta.url), 'utf8');
  const section = readme.split('## A supertest test')[1] ?? '';
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  expect(block).toBe(example);
});
