// Runs around every test file (jest `setupFilesAfterEnv`): records the file's stdout/stderr and
// fails the file if a registered token or key appears there or in the package's log lines.
import { afterAll, expect } from '@jest/globals';
import { leakedSecrets, record } from './secrets.js';

const streams = [process.stdout, process.stderr] as const;
const originals = streams.map((stream) => stream.write.bind(stream));
streams.forEach((stream, i) => {
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    record(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return (originals[i] as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof stream.write;
});

afterAll(() => {
  expect(leakedSecrets()).toEqual([]);
});
