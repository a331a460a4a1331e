/**
 * `Expect: 100-continue` over real TLS, with `continueWhenBodyRead` on the server: `100 Continue`
 * goes out only when a handler reads the body, as Go's server sends it. A refused client gets its
 * 401 or 403 without an invitation to upload, and the connection closes after it; an authorized
 * request whose handler reads the body gets the invitation, then its answer. HTTP/1.1 (connect
 * and Fastify) and HTTP/2.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  connect as h2connect,
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import connect from 'connect';
import Fastify, { type FastifyInstance } from 'fastify';
import { continueWhenBodyRead, kubeletAuth, type KubeletAuthMiddleware } from '../../lib/index.js';
import { fastifyKubeletAuth } from '../../lib/fastify/index.js';
import type { StandInApiServer } from '../../lib/testing/index.js';
import {
  close,
  listen,
  makePki,
  startPolicyApiServer,
  statusLines,
  webhookOptions,
  type Pki,
} from './harness.js';

let pki: Pki;
let api: StandInApiServer;
let auth: KubeletAuthMiddleware;
let server: Server;
let h2server: Http2SecureServer;
let fastify: FastifyInstance;

/**
 * `/echo` reads the body and says how long it was, `/iterate` the same with `for await`;
 * `/missing` goes on to connect's final handler (a 404 once the body is drained); `/stream` sets
 * its headers, then sends the body back; any other path answers without reading it.
 */
function route(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  if (req.url === '/missing') {
    next();
    return;
  }
  if (req.url === '/stream') {
    res.writeHead(200, { 'content-length': '5' });
    req.pipe(res);
    return;
  }
  if (req.url === '/iterate') {
    void (async () => {
      let length = 0;
      for await (const chunk of req) length += (chunk as Buffer).length;
      res.end(`got ${length}`);
    })();
    return;
  }
  if (req.url !== '/echo') {
    res.end('not read');
    return;
  }
  let length = 0;
  req.on('data', (chunk: Buffer) => (length += chunk.length));
  req.on('end', () => res.end(`got ${length}`));
}

beforeAll(async () => {
  [pki, api] = await Promise.all([makePki(), startPolicyApiServer()]);
  auth = kubeletAuth(webhookOptions(api));
  // connect rather than Express: it serves HTTP/2 compatibility requests as they are.
  const app = connect();
  app.use(auth);
  app.use(route);
  server = await listen(pki, app);
  continueWhenBodyRead(server);
  // A second call changes nothing: the tests below would see two invitations and two answers.
  continueWhenBodyRead(server);
  h2server = createSecureServer(
    { key: pki.serving.key, cert: pki.serving.cert },
    // connect's types name node:http's request; HTTP/2 compatibility requests serve it too.
    app as unknown as (req: Http2ServerRequest, res: Http2ServerResponse) => void,
  );
  continueWhenBodyRead(h2server);
  await new Promise<void>((resolve) => h2server.listen(0, '127.0.0.1', resolve));
  fastify = Fastify({
    serverFactory: (handler) =>
      createServer({ key: pki.serving.key, cert: pki.serving.cert }, handler),
  });
  continueWhenBodyRead(fastify.server);
  await fastify.register(fastifyKubeletAuth, webhookOptions(api));
  fastify.post('/echo', (request) => `got ${String(request.body).length}`);
  await fastify.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  auth.close();
  await close(server);
  await new Promise<void>((resolve) => h2server.close(() => resolve()));
  await Promise.all([fastify.close(), api.close()]);
});

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

/** True once `data` holds a whole final answer (one with a `Content-Length`). */
function answered(data: string): boolean {
  const final = data.startsWith(CONTINUE) ? data.slice(CONTINUE.length) : data;
  const end = final.indexOf('\r\n\r\n');
  const length = /\r\ncontent-length: (\d+)/i.exec(final.slice(0, end));
  return end >= 0 && length !== null && final.length - end - 4 >= Number(length[1]);
}

interface Exchange {
  /** Everything received up to the whole final answer (or the close, if that came first). */
  data: string;
  /** Whether the server closed the connection after its answer. */
  closed: Promise<boolean>;
}

/**
 * POSTs `path` with `Expect: 100-continue` and a 5-byte body, which is sent only if the server
 * says `100 Continue` (`'continued'`), or at once (`'at once'`, as a client that does not wait);
 * `'none'` is a GET without a body.
 */
function post(
  port: number,
  path: string,
  token?: string,
  body: 'continued' | 'at once' | 'none' = 'continued',
): Promise<Exchange> {
  const bodiless = body === 'none';
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = tlsConnect({ host: '127.0.0.1', port, ca: pki.serving.cert }, () =>
      socket.write(
        `${bodiless ? 'GET' : 'POST'} ${path} HTTP/1.1\r\nHost: node-a\r\n` +
          (token ? `Authorization: Bearer ${token}\r\n` : '') +
          (bodiless ? '' : 'Content-Type: text/plain\r\nContent-Length: 5\r\n') +
          'Expect: 100-continue\r\n\r\n' +
          (body === 'at once' ? 'hello' : ''),
      ),
    );
    // The client ends only a connection its answer says is kept: an end before that is the server's.
    let endedHere = false;
    const closed = new Promise<boolean>((done) => socket.once('end', () => done(!endedHere)));
    let data = '';
    let sent = false;
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      if (body === 'continued' && data.startsWith(CONTINUE) && !sent) {
        sent = true;
        socket.write('hello');
      }
      if (answered(data)) {
        resolve({ data, closed });
        if (connection(data) !== 'close') {
          endedHere = true;
          socket.end();
        }
      }
    });
    socket.once('close', () => resolve({ data, closed }));
  });
}

const connection = (data: string): string | undefined =>
  /\r\nconnection: ([^\r\n]*)/i.exec(data)?.[1]?.toLowerCase();

const ports = {
  connect: () => (server.address() as AddressInfo).port,
  fastify: () => (fastify.server.address() as AddressInfo).port,
};

describe.each(Object.entries(ports))('%s: Expect: 100-continue over HTTP/1.1', (_name, port) => {
  it('no credentials: the 401 without 100 Continue, and the connection closes after it', async () => {
    const { data, closed } = await post(port(), '/echo');
    expect(statusLines(data)).toEqual(['HTTP/1.1 401 Unauthorized']);
    expect(data.endsWith('\r\n\r\nUnauthorized')).toBe(true);
    expect(connection(data)).toBe('close');
    expect(await closed).toBe(true);
  });

  it('a token the API server refuses the verb: the 403 without 100 Continue', async () => {
    const { data } = await post(port(), '/echo', 'bob-token');
    expect(statusLines(data)).toEqual(['HTTP/1.1 403 Forbidden']);
    expect(connection(data)).toBe('close');
  });

  it('authorized, and the handler reads the body: 100 Continue, then the answer to the whole body', async () => {
    const { data } = await post(port(), '/echo', 'admin-token');
    expect(statusLines(data)).toEqual(['HTTP/1.1 100 Continue', 'HTTP/1.1 200 OK']);
    expect(data.endsWith('\r\n\r\ngot 5')).toBe(true);
    expect(connection(data)).toBe('keep-alive');
  });
});

it('connect: authorized, and the handler reads the body with for await: 100 Continue, then the answer', async () => {
  const { data } = await post(ports.connect(), '/iterate', 'admin-token');
  expect(statusLines(data)).toEqual(['HTTP/1.1 100 Continue', 'HTTP/1.1 200 OK']);
  expect(data.endsWith('\r\n\r\ngot 5')).toBe(true);
});

it('connect: authorized, a path no route serves: the final handler drains the body, so 100 Continue, then its 404', async () => {
  const { data } = await post(ports.connect(), '/missing', 'admin-token');
  expect(statusLines(data)).toEqual(['HTTP/1.1 100 Continue', 'HTTP/1.1 404 Not Found']);
});

it("connect: a request without a body gets Node's own answer, and keeps the connection", async () => {
  const { data } = await post(ports.connect(), '/ignore', 'admin-token', 'none');
  expect(statusLines(data)).toEqual(['HTTP/1.1 100 Continue', 'HTTP/1.1 200 OK']);
  expect(connection(data)).toBe('keep-alive');
});

it('a server with a checkContinue listener of its own: refused, as both would pass requests on', () => {
  const other = createServer();
  other.on('checkContinue', () => undefined);
  expect(() => continueWhenBodyRead(other)).toThrow(
    expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
  );
});

it('a checkContinue listener added afterwards: refused as it is added', () => {
  const later = createServer();
  continueWhenBodyRead(later);
  expect(() => later.on('checkContinue', () => undefined)).toThrow(
    expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
  );
  expect(later.listenerCount('checkContinue')).toBe(1);
});

it('its listener removed: another may be added, and calling it again, once that is gone, puts it back', () => {
  const server = createServer();
  continueWhenBodyRead(server);
  server.removeAllListeners('checkContinue');
  const own = () => undefined;
  server.on('checkContinue', own);
  expect(() => continueWhenBodyRead(server)).toThrow(
    expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
  );
  server.off('checkContinue', own);
  continueWhenBodyRead(server);
  expect(server.listenerCount('checkContinue')).toBe(1);
  expect(() => server.on('checkContinue', own)).toThrow(
    expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
  );
});

// Node.js 24 refuses 100 Continue once headers are set; the invitation never follows them.
it('connect: headers set before the body is read: no 100 Continue after them', async () => {
  const { data } = await post(ports.connect(), '/stream', 'admin-token', 'at once');
  expect(statusLines(data)).toEqual(['HTTP/1.1 200 OK']);
  expect(data.endsWith('\r\n\r\nhello')).toBe(true);
});

// Fastify parses a POST's body before any route runs: there, every authorized body is read.
it('connect: authorized, and the handler answers without reading: no 100 Continue, and the connection closes', async () => {
  const { data, closed } = await post(ports.connect(), '/ignore', 'admin-token');
  expect(statusLines(data)).toEqual(['HTTP/1.1 200 OK']);
  expect(data.endsWith('\r\n\r\nnot read')).toBe(true);
  expect(await closed).toBe(true);
});

describe('Expect: 100-continue over HTTP/2', () => {
  /**
   * What an HTTP/2 client sees: whether `100` came, the status, and the body. The body goes on
   * `100`, or with `eager` also once the answer's headers are in (a client that stops waiting).
   */
  async function h2post(
    path: string,
    token?: string,
    eager = false,
  ): Promise<[boolean, number, string]> {
    const { port } = h2server.address() as AddressInfo;
    const session = h2connect(`https://127.0.0.1:${port}`, { ca: pki.serving.cert });
    try {
      return await new Promise((resolve, reject) => {
        const stream = session.request(
          {
            ':method': 'POST',
            ':path': path,
            'content-length': '5',
            expect: '100-continue',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          { endStream: false },
        );
        let continued = false;
        let status = 0;
        let body = '';
        stream.on('continue', () => {
          continued = true;
          stream.end('hello');
        });
        stream.on('response', (headers) => {
          status = Number(headers[':status']);
          if (eager && !continued) stream.end('hello');
        });
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => (body += chunk));
        stream.on('end', () => resolve([continued, status, body]));
        stream.on('error', reject);
      });
    } finally {
      session.destroy();
    }
  }

  it('no credentials: the 401 without 100', async () => {
    expect(await h2post('/echo')).toEqual([false, 401, 'Unauthorized']);
  });

  it('authorized, and the handler reads the body: 100, then the answer to the whole body', async () => {
    expect(await h2post('/echo', 'admin-token')).toEqual([true, 200, 'got 5']);
  });

  it('headers set before the body is read: no 100 after them', async () => {
    expect(await h2post('/stream', 'admin-token', true)).toEqual([false, 200, 'hello']);
  });
});
