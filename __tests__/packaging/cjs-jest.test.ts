import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { clientNodeVersion, installedVersion, packTarball, root, run } from './tarball.js';

/**
 * CommonJS Jest projects with Jest's default settings, as most existing test suites are: this
 * folder's cjs-jest/ and the README's examples/commonjs/. The packed tarball, Jest, supertest and
 * Express are installed from the registry into a folder above copies of both, then each runs its
 * own Jest. They exercise the middleware against the testkit's stand-in API server, where
 * client-node (ESM-only) can never load.
 */
let dir: string;
let project: string;
let example: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'eka-cjs-jest-'));
  const tarball = packTarball(dir);
  project = join(dir, 'project');
  example = join(dir, 'example');
  cpSync(join(root, '__tests__', 'packaging', 'cjs-jest'), project, { recursive: true });
  cpSync(join(root, 'examples', 'commonjs'), example, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"name":"consumers","private":true}\n');
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
      // The testkit's optional peers, for minting certificates.
      `@peculiar/x509@${installedVersion('@peculiar/x509')}`,
      `reflect-metadata@${installedVersion('reflect-metadata')}`,
    ],
    dir,
  );
}, 600_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a project's Jest, on this Node.js, with nothing inherited from the Jest running us. */
function jestReport(cwd: string): JestReport {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
  };
  for (const name of ['NODE_OPTIONS', 'JEST_WORKER_ID', 'NODE_ENV']) delete env[name];
  const jest = join(dir, 'node_modules', 'jest', 'bin', 'jest.js');
  try {
    run(process.execPath, [jest, '--ci', '--json', '--outputFile=report.json'], cwd, env);
  } catch {
    // A failed suite exits non-zero; the report says what failed.
  }
  return JSON.parse(readFileSync(join(cwd, 'report.json'), 'utf8')) as JestReport;
}

interface JestReport {
  numTotalTestSuites: number;
  testResults: {
    message: string;
    assertionResults: { title: string; status: string; failureMessages: string[] }[];
  }[];
}

function outcomes(
  report: JestReport,
): { title: string; status: string; failureMessages: string[] }[] {
  return (report.testResults[0]?.assertionResults ?? []).map(
    ({ title, status, failureMessages }) => ({ title, status, failureMessages }),
  );
}

describe('a CommonJS Jest project with default settings', () => {
  it('passes its supertest suite of the middleware against the stand-in API server', () => {
    const report = jestReport(project);
    expect(report.numTotalTestSuites).toBe(1);
    expect(report.testResults[0]?.message).toBe('');
    expect(outcomes(report)).toEqual(
      [
        'a token for a user the API server allows: 200, after a TokenReview and a SubjectAccessReview',
        'a token for a user the API server does not allow: 403',
        'a token the API server does not know: 401',
        'a client certificate: authenticated without a TokenReview, authorized by the API server',
        'what needs client-node says why it cannot load here, and what to do',
      ].map((title) => ({ title, status: 'passed', failureMessages: [] })),
    );
  });

  it('runs the CommonJS example as its README shows it', () => {
    const report = jestReport(example);
    expect(report.testResults[0]?.message).toBe('');
    expect(outcomes(report)).toEqual([
      {
        title: 'viewer reads /stats/summary, but may not exec',
        status: 'passed',
        failureMessages: [],
      },
    ]);
  });
});
