import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { createKubeletApp } from '../../demo-app/app.js';
import { createNodeModel } from '../../demo-app/payloads/node-model.js';
import { DEFAULT_LOGS_ROOT } from '../../demo-app/server.js';
import { FLAG_DEFAULTS } from '../../demo-app/settings.js';

// A log root with things that must stay out of reach next to it: a secret file beside the
// root, symbolic links pointing out of it, and one harmless link inside it.
const base = mkdtempSync(join(tmpdir(), 'logs-test-'));
const root = join(base, 'root');
beforeAll(() => {
  mkdirSync(join(root, 'sub'), { recursive: true });
  writeFileSync(join(root, 'a.log'), 'line a\n');
  writeFileSync(join(root, 'sub', 'b.log'), 'line b\n');
  writeFileSync(join(root, 'odd <name>.log'), 'odd\n');
  writeFileSync(join(base, 'secret.txt'), 'TOP SECRET\n');
  symlinkSync(join(base, 'secret.txt'), join(root, 'secret-link'));
  symlinkSync(base, join(root, 'escape'));
  symlinkSync('/etc', join(root, 'etc'));
  symlinkSync(join(root, 'a.log'), join(root, 'inside-link'));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

function appFor(logsRoot: string): ReturnType<typeof createKubeletApp> {
  return createKubeletApp({
    context: {
      model: createNodeModel('node-a'),
      settings: FLAG_DEFAULTS,
      logsRoot,
      now: () => new Date(),
    },
  });
}

const app = appFor(root);

/**
 * Sends the path byte for byte: HTTP clients (and supertest) may normalize `..` away, an
 * attacker's client does not.
 */
async function rawGet(path: string): Promise<{ status: number; body: string }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port, path, method: 'GET', agent: false },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  } finally {
    server.close();
  }
}

describe('/logs/: the demo folder, like the kubelet file server', () => {
  it('/logs redirects to /logs/', async () => {
    const res = await request(app).get('/logs');
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe('/logs/');
  });

  it('/logs/ is Go’s directory listing, sorted, directories with a slash, names escaped', async () => {
    const res = await request(app).get('/logs/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toBe(
      '<!doctype html>\n<meta name="viewport" content="width=device-width">\n<pre>\n' +
        '<a href="a.log">a.log</a>\n' +
        '<a href="escape">escape</a>\n' +
        '<a href="etc">etc</a>\n' +
        '<a href="inside-link">inside-link</a>\n' +
        '<a href="odd%20%3Cname%3E.log">odd &#60;name&#62;.log</a>\n' +
        '<a href="secret-link">secret-link</a>\n' +
        '<a href="sub/">sub/</a>\n' +
        '</pre>\n',
    );
  });

  it('serves a file as plain text', async () => {
    const res = await request(app).get('/logs/sub/b.log');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.text).toBe('line b\n');
  });

  it('a directory without its slash redirects, as Go does', async () => {
    const res = await request(app).get('/logs/sub');
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe('sub/');
  });

  it('a link that stays inside the folder is followed', async () => {
    expect((await request(app).get('/logs/inside-link')).text).toBe('line a\n');
  });

  it('a file that does not exist is a 404', async () => {
    expect((await request(app).get('/logs/nope.log')).status).toBe(404);
  });

  it('the package’s demo folder has logs to show', async () => {
    const res = await request(appFor(DEFAULT_LOGS_ROOT)).get('/logs/');
    expect(res.text).toContain('<a href="kubelet.log">kubelet.log</a>');
    const log = await request(appFor(DEFAULT_LOGS_ROOT)).get('/logs/kubelet.log');
    expect(log.status).toBe(200);
    expect(log.text).toContain('Started kubelet');
  });
});

describe('/logs/: nothing outside the folder is reachable', () => {
  it.each([
    ['/logs/../secret.txt', 400],
    ['/logs/../../../../etc/passwd', 400],
    ['/logs/sub/../../secret.txt', 400],
    ['/logs/%2e%2e/secret.txt', 400],
    ['/logs/%2E%2E/%2E%2E/etc/passwd', 400],
    ['/logs/..%2fsecret.txt', 400],
    ['/logs/sub%2f..%2f..%2fsecret.txt', 400],
    ['/logs/..%5c..%5csecret.txt', 404], // a backslash is not a separator on POSIX
    ['/logs/%252e%252e/secret.txt', 404], // decoded once only: a literal "%2e%2e" folder
    ['/logs/a.log%00.txt', 400],
    ['/logs/%zz', 400],
    ['/logs/secret-link', 404],
    ['/logs/escape/secret.txt', 404],
    ['/logs/escape/', 404],
    ['/logs/etc/passwd', 404],
    ['/logs/etc/', 404],
  ])('GET %s → %i', async (path, status) => {
    const res = await rawGet(path);
    expect(res.status).toBe(status);
    expect(res.body).not.toContain('TOP SECRET');
    expect(res.body).not.toContain('root:');
  });
});
