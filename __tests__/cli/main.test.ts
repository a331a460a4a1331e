import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../lib/cli/main.js';

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
  });
  return { code, stdout, stderr };
}

describe('main', () => {
  it('explains one request, SubjectAccessReview JSON included', async () => {
    const { code, stdout, stderr } = await run(
      'explain',
      'GET',
      '/stats/summary',
      '--node',
      'node-a',
      '--user',
      'alice',
    );
    expect([code, stderr]).toEqual([0, '']);
    expect(stdout).toContain(
      '{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":' +
        '{"resourceAttributes":{"verb":"get","version":"v1","resource":"nodes","subresource":"stats","name":"node-a"},' +
        '"user":"alice","groups":["system:authenticated"]}}',
    );
    expect(stdout).toContain('    - nodes/stats');
  });

  it('--version prints the version in package.json', async () => {
    const { version } = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    const { code, stdout, stderr } = await run('--version');
    expect([code, stdout, stderr]).toEqual([0, `${version}\n`, '']);
  });

  describe('explain --output=json prints the whole report as one JSON document', () => {
    it('for an accepted request: request, user, attributes, reviews, rule and notes', async () => {
      const { code, stdout, stderr } = await run(
        'explain',
        'GET',
        '/pods?x=1',
        '--node',
        'node-a',
        '--user',
        'alice',
        '--group',
        'ops',
        '--uid',
        '7',
        '--output=json',
      );
      expect([code, stderr]).toEqual([0, '']);
      const review = (subresource: string) => ({
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          resourceAttributes: {
            verb: 'get',
            version: 'v1',
            resource: 'nodes',
            subresource,
            name: 'node-a',
          },
          user: 'alice',
          groups: ['ops', 'system:authenticated'],
          uid: '7',
        },
      });
      const attributes = (subresource: string) => ({
        verb: 'get',
        namespace: '',
        apiGroup: '',
        apiVersion: 'v1',
        resource: 'nodes',
        subresource,
        name: 'node-a',
        resourceRequest: true,
        path: '/pods',
      });
      expect(JSON.parse(stdout)).toEqual({
        request: { method: 'GET', url: '/pods?x=1' },
        refused: null,
        decodedPath: '/pods',
        user: {
          username: 'alice',
          groups: ['ops', 'system:authenticated'],
          uid: '7',
          example: false,
        },
        attributes: [attributes('pods'), attributes('proxy')],
        subjectAccessReviews: [review('pods'), review('proxy')],
        minimalRule: { apiGroups: [''], resources: ['nodes/pods'], verbs: ['get'] },
        proxyFallback: true,
        notes: [expect.stringContaining('a "nodes/proxy" grant with verb get would also allow it')],
      });
    });

    it('says when the user is an example, and has no notes when there are none', async () => {
      const { stdout } = await run('explain', 'HEAD', '/stats', '--node', 'n', '--output=json');
      expect(JSON.parse(stdout)).toMatchObject({
        user: { username: 'example-user', groups: ['system:authenticated'], example: true },
        attributes: [{ verb: 'get', subresource: 'stats' }],
        minimalRule: { resources: ['nodes/stats'], verbs: ['get'] },
        proxyFallback: false,
        notes: [],
      });
    });

    it('for a path refused with 400: the refusal and its reason, nothing asked, exit 1', async () => {
      const { code, stdout } = await run(
        'explain',
        'GET',
        '/stats/%2e%2e/exec',
        '--node',
        'n',
        '--output=json',
      );
      expect(code).toBe(1);
      expect(JSON.parse(stdout)).toEqual({
        request: { method: 'GET', url: '/stats/%2e%2e/exec' },
        refused: { status: 400, reason: expect.stringContaining('".." segment') },
        decodedPath: null,
        user: null,
        attributes: [],
        subjectAccessReviews: [],
        minimalRule: null,
        proxyFallback: false,
        notes: [],
      });
    });

    it('escapes what could drive a terminal, and the JSON still reads back the input', async () => {
      const path = '/pods/%C2%9Bx\u2028y';
      const { code, stdout } = await run(
        'explain',
        'G\u009bET',
        path,
        '--node',
        'n\u202e',
        '--output=json',
      );
      expect(code).toBe(0);
      expect(stdout).not.toMatch(/[\u0080-\u009f\u2028\u202e]/);
      expect(JSON.parse(stdout)).toMatchObject({
        request: { method: 'G\u009bET', url: path },
        decodedPath: '/pods/\u009bx\u2028y',
        attributes: [{ name: 'n\u202e' }, { name: 'n\u202e' }],
      });
    });
  });

  it('exits 1 for a path refused with 400', async () => {
    const { code, stdout } = await run('explain', 'GET', '/stats/../exec/a/b/c', '--node', 'n');
    expect(code).toBe(1);
    expect(stdout).toContain('400 Bad Request');
  });

  it('prints a ClusterRole for an --rbac file, and lists refused lines on stderr', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eka-cli-'));
    try {
      const file = join(dir, 'requests.txt');
      writeFileSync(file, '# agent\nGET /stats/summary\nGET /metrics\n');
      const ok = await run('explain', '--rbac', file, '--name', 'agent');
      expect([ok.code, ok.stderr]).toEqual([0, '']);
      expect(ok.stdout).toBe(
        [
          'apiVersion: rbac.authorization.k8s.io/v1',
          'kind: ClusterRole',
          'metadata:',
          '  name: agent',
          'rules:',
          '  - apiGroups:',
          '      - ""',
          '    resources:',
          '      - nodes/metrics',
          '      - nodes/stats',
          '    verbs:',
          '      - get',
          '',
        ].join('\n'),
      );

      writeFileSync(file, 'GET /stats/summary\r\nGET /stats/%2e%2e/exec\r\n');
      const refused = await run('explain', '--rbac', file);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        /^line 2: GET \/stats\/%2e%2e\/exec is refused with 400: .*\n$/,
      );
      expect(refused.stdout).toContain('- nodes/stats');

      writeFileSync(file, 'GET /a\nnonsense\n');
      const bad = await run('explain', '--rbac', file);
      expect(bad).toMatchObject({ code: 1, stdout: '' });
      expect(bad.stderr).toMatch(/^express-kubelet-auth: line 2: expected "METHOD PATH".*\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [['explain', 'GET', '/x', '--node', 'n', '--bogus'], "Unknown option '--bogus'"],
    [['explain', 'GET', '/x'], '--node is required'],
    [['explain', 'GET', '--node', 'n'], 'needs METHOD and PATH'],
    [['explain', 'GET', '/x', '--node', 'n', '--fine-grained=maybe'], '--fine-grained must be'],
    [['explain', 'GET', '/x', '--node', 'n', '--output=xml'], '--output must be'],
    [['explain', 'GET', '/x', '--node', 'n', '--user', 'system:anonymous', '--uid', '1'], 'no uid'],
    [['explain', '--rbac', '/no/such/file'], 'ENOENT'],
    [['frobnicate'], 'unknown command'],
    [[], 'missing command'],
  ])('%j: exit 1 with one line on stderr', async (argv, message) => {
    const { code, stdout, stderr } = await run(...argv);
    expect([code, stdout]).toEqual([1, '']);
    expect(stderr).toContain(message);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr).not.toMatch(/\bat .*:\d+:\d+/);
  });

  describe('never echoes a control character to the terminal', () => {
    /** What may drive a terminal, forge a line or reorder the display (line breaks aside). */
    const UNSAFE =
      // eslint-disable-next-line no-control-regex
      /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;
    const node = ['--node', 'node-a'];
    const dir = mkdtempSync(join(tmpdir(), 'eka-cli-'));
    const requests = join(dir, 'requests.txt');
    writeFileSync(requests, 'GET /pods\n');
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it.each([
      ['a path refused with 400', ['explain', 'GET', '/stats/\x1b]0;owned\x07', ...node]],
      ['a decoded path', ['explain', 'GET', '/pods/%C2%9B31m%E2%80%A8x', ...node]],
      ['a method', ['explain', 'G\u009bET', '/pods', ...node]],
      [
        'the user, groups, uid and node',
        [
          'explain',
          'GET',
          '/pods',
          '--node',
          'n\u0085',
          '--user',
          'eve\x1b[2J',
          '--group',
          'g\u2028forged line',
          '--uid',
          'u\u202eevil',
        ],
      ],
      ['an unknown option', ['explain', 'GET', '/pods', ...node, '--\x1b[31mbogus']],
      ['an option value', ['explain', 'GET', '/pods', ...node, '--output', 'x\u009b']],
      ['an unexpected argument', ['explain', 'GET', '/pods', 'x\x7f\u2029', ...node]],
      ['an unknown command', ['\x1b[8mhidden']],
      ['a role name', ['explain', '--rbac', requests, '--name', 'r\u009b31m\u2028']],
      ['a file name', ['explain', '--rbac', '/no/such/\x1b[31mfile']],
    ])('%s', async (_what, argv) => {
      const { stdout, stderr } = await run(...argv);
      expect(stdout + stderr).not.toMatch(UNSAFE);
      // What was escaped is still there to read.
      expect(stdout + stderr).toMatch(/\\(u00[0-9a-f]{2}|u20[0-9a-f]{2}|n)/);
    });

    it.each([
      'G\x1b[2JET /pods',
      'GET /stats/\x1b[2J',
      'GET /stats/\u009b/../x',
      'GET /pods \u0085extra',
      'GET /pods\u2028x',
    ])('in the line %j of an --rbac file', async (line) => {
      const file = join(dir, 'lines.txt');
      writeFileSync(file, `GET /pods\n${line}\n`);
      const { code, stdout, stderr } = await run('explain', '--rbac', file);
      expect(code).toBe(1);
      expect(stdout + stderr).not.toMatch(UNSAFE);
      expect(stderr).toMatch(/^(express-kubelet-auth: )?line 2: .*\\u/);
    });
  });

  it.each(['--help', '-h', 'explain --help'])('%s prints usage, exit 0', async (args) => {
    const { code, stdout, stderr } = await run(...args.split(' '));
    expect([code, stderr]).toEqual([0, '']);
    expect(stdout).toMatch(/^Usage:\n {2}express-kubelet-auth explain <METHOD> <PATH> --node/);
  });

  it('runs as a real process', () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const stdout = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'lib/cli/main.ts',
        'explain',
        'GET',
        '/stats/summary',
        '--node',
        'node-a',
        '--user',
        'alice',
      ],
      { cwd: root, encoding: 'utf8' },
    );
    expect(stdout).toMatch(/^Request: GET \/stats\/summary\n/);
    expect(stdout).toContain('"subresource":"stats","name":"node-a"},"user":"alice"');
  });
});
