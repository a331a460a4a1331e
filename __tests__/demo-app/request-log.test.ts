import { describe, expect, it } from '@jest/globals';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import request from 'supertest';
import { markAuthorized, requestLog } from '../../demo-app/request-log.js';

/** An app with a stand-in for kubeletAuth: the X-Test-User header decides who calls and the outcome. */
function appLogging(lines: string[]): express.Express {
  const app = express();
  app.use(requestLog((line) => lines.push(line)));
  app.use((req: Request, res: Response, next: NextFunction) => {
    const who = req.headers['x-test-user'];
    if (who === undefined) {
      res.status(401).end('Unauthorized');
      return;
    }
    (req as Request & { user?: unknown }).user = { username: who, groups: [] };
    if (who === 'bob') {
      res.status(403).end('Forbidden');
      return;
    }
    next();
  });
  app.use(markAuthorized);
  app.get('/pods', (_req, res) => {
    res.end('[]');
  });
  return app;
}

const LINE =
  /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z method=\S+ path=\S+ user=\S+ decision=\S+ status=\S+ latency=\d+\.\dms$/;

describe('requestLog: one line per request, no secrets', () => {
  it.each([
    ['alice', '/pods', 'method=GET path=/pods user="alice" decision=allowed status=200'],
    ['alice', '/nope', 'method=GET path=/nope user="alice" decision=allowed status=404'],
    ['bob', '/pods', 'method=GET path=/pods user="bob" decision=forbidden status=403'],
    [undefined, '/pods', 'method=GET path=/pods user=- decision=unauthenticated status=401'],
  ])('%s GET %s', async (user, path, expected) => {
    const lines: string[] = [];
    const req = request(appLogging(lines)).get(path);
    if (user) req.set('X-Test-User', user);
    await req;
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(LINE);
    expect(lines[0]).toContain(expected);
  });

  it('never logs the Authorization header, the query string or the token in it', async () => {
    const lines: string[] = [];
    await request(appLogging(lines))
      .get('/pods?access_token=s3cr3t-query&tailLines=1')
      .set('Authorization', 'Bearer s3cr3t-header')
      .set('X-Test-User', 'alice');
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/s3cr3t|access_token|Bearer|tailLines/);
    expect(lines[0]).toContain('path=/pods ');
  });

  it('a user name reaches the log with its control characters escaped', async () => {
    const lines: string[] = [];
    // C1 controls (CSI, NEL) are valid header bytes.
    await request(appLogging(lines)).get('/pods').set('X-Test-User', 'eve\u009b2J\u0085x');
    expect(lines[0]).toContain('user="eve\\u009b2J\\u0085x"');
    // eslint-disable-next-line no-control-regex
    expect(lines[0]).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });

  it('a user name cannot forge fields or lines', async () => {
    const lines: string[] = [];
    await request(appLogging(lines)).get('/pods').set('X-Test-User', 'eve" decision=allowed');
    expect(lines[0]).toContain('user="eve\\" decision=allowed"');
    expect(lines[0]).not.toContain('\n');
  });

  it('logs an absolute-form target by its routed path, never its authority (user:password@host)', async () => {
    const lines: string[] = [];
    const server = appLogging(lines).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () =>
        socket.write(
          'GET http://admin:s3cr3t-userinfo@node-a:10250/pods?x=1 HTTP/1.1\r\nHost: node-a\r\nX-Test-User: alice\r\nConnection: close\r\n\r\n',
        ),
      );
      let data = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (data += chunk));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    await new Promise((resolve) => server.close(resolve));
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('method=GET path=/pods user="alice" decision=allowed status=200');
    expect(lines[0]).not.toMatch(/s3cr3t|admin|node-a/);
  });
});
