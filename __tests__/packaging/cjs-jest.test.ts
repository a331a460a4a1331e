import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { clientNodeVersion, installedVersion, packTarball, root, run } from './tarball.js';

/**
 * A CommonJS Jest project with Jest's default settings (__tests__/packaging/cjs-jest/), as most
 * existing test suites are: the packed tarball, Jest, supertest and Express installed into a copy
 * of it from the registry, then its own `npx jest` run. It exercises the middleware against the
 * testkit's stand-in API server, where client-node (ESM-only) can never load.
 */
let dir: string;
let project: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'eka-cjs-jest-'));
  const tarball = packTarball(dir);
  project = join(dir, 'project');
  cpSync(join(root, '__tests__', 'packaging', 'cjs-jest'), project, { recursive: true });
  run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      tarball,
      `@kubernetes/client-node@${clientNodeVersion()}`,
      `jest@${installedVersion('jest')}`,
      `supertest@${installedVersion('supertest')}`,
      `express@${installedVersion('express')}`,
    ],
    project,
  );
}, 600_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a CommonJS Jest project with default settings', () => {
  it('passes its supertest suite of the middleware against the stand-in API server', () => {
    // The project's own Jest, on this Node.js, with nothing inherited from the Jest running us.
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
    };
    for (const name of ['NODE_OPTIONS', 'JEST_WORKER_ID', 'NODE_ENV']) delete env[name];
    try {
      run('npx', ['jest', '--ci', '--json', '--outputFile=report.json'], project, env);
    } catch {
      // A failed suite exits non-zero; the report below says what failed.
    }
    const report = JSON.parse(readFileSync(join(project, 'report.json'), 'utf8')) as {
      numTotalTestSuites: number;
      testResults: {
        message: string;
        assertionResults: { title: string; status: string; failureMessages: string[] }[];
      }[];
    };
    expect(report.numTotalTestSuites).toBe(1);
    expect(report.testResults[0]?.message).toBe('');
    expect(
      report.testResults[0]?.assertionResults.map(({ title, status, failureMessages }) => ({
        title,
        status,
        failureMessages,
      })),
    ).toEqual(
      [
        'a token for a user the API server allows: 200, after a TokenReview and a SubjectAccessReview',
        'a token for a user the API server does not allow: 403',
        'a token the API server does not know: 401',
        'a client certificate: authenticated without a TokenReview, authorized by the API server',
        'what needs client-node says why it cannot load here, and what to do',
      ].map((title) => ({ title, status: 'passed', failureMessages: [] })),
    );
  });
});
