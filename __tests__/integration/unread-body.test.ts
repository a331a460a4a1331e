/**
 * A refused request whose body is still arriving, over real TLS: the package answers (401, 403),
 * then closes the connection rather than read the rest, so a client the API server never vouched
 * for cannot make the server take in an endless body. A body sent in full keeps the connection.
 * Express and Fastify alike. What is asserted is what the client received and how much the server
 * took, never how long anything took.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Agent, createServer, request, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { closeIfBodyUnread, kubeletAuth, type KubeletAuthMiddleware } from '../../lib/index.js';
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
let fastify: FastifyInstance;
/** Servers a test opened itself, closed at the end. */
const opened: Server[] = [];

beforeAll(async () => {
  [pki, api] = await Promise.all([makePki(), startPolicyApiServer()]);
  auth = kubeletAuth(webhookOptions(api));
  const app = express();
  app.use(auth);
  app.post('/pods', (_req, res) => res.send('not reached'));
  server = await listen(pki, app);
  fastify = Fastify({
    serverFactory: (handler) =>
      createServer({ key: pki.serving.key, cert: pki.serving.cert }, handler),
  });
  await fastify.register(fastifyKubeletAuth, webhookOptions(api));
  fastify.post('/pods', () => 'not reached');
  await fastify.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  auth.close();
  await Promise.all([close(server), fastify.close(), api.close(), ...opened.map(close)]);
});

function tls(port: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca: pki.serving.cert }, () =>
      resolve(socket),
    );
    socket.once('error', reject);
  });
}

/** Resolves with everything received once the connection has closed. */
function received(socket: TLSSocket): Promise<string> {
  let data = '';
  socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  return new Promise((resolve) => socket.once('close', () => resolve(data)));
}

function drainedOrClosed(socket: TLSSocket): Promise<void> {
  return new Promise((resolve) => {
    const go = () => {
      socket.off('drain', go);
      socket.off('close', go);
      resolve();
    };
    socket.once('drain', go);
    socket.once('close', go);
  });
}

/** The most a test sends: a server that read a body to its end would take all of it. */
const LIMIT = 64 * 1024 ** 2;

/** Writes `head`, then `chunk` again and again as long as the server takes it, up to `LIMIT`. */
async function sendUntilClosed(socket: TLSSocket, head: string, chunk: Buffer): Promise<number> {
  socket.write(head);
  let open = true;
  socket.once('close', () => (open = false));
  let sent = 0;
  while (open && sent < LIMIT) {
    sent += chunk.length;
    if (!socket.write(chunk)) await drainedOrClosed(socket);
  }
  return sent;
}

/** Announces a gigabyte and sends it, as {@link sendUntilClosed}. */
function endlessBody(socket: TLSSocket, headers: string): Promise<number> {
  return sendUntilClosed(
    socket,
    `POST /pods HTTP/1.1\r\nHost: node-a\r\n${headers}Content-Length: ${1024 ** 3}\r\n\r\n`,
    Buffer.alloc(64 * 1024, 'x'),
  );
}

const ports = {
  express: () => (server.address() as AddressInfo).port,
  fastify: () => (fastify.server.address() as AddressInfo).port,
};

describe.each(Object.entries(ports))('%s: a refused request with a body', (_name, port) => {
  it('no credentials, a body still arriving: the 401 in full, then the connection closes', async () => {
    const socket = await tls(port());
    const data = received(socket);
    const sent = await endlessBody(socket, '');
    const answer = await data;
    expect(statusLines(answer)).toEqual(['HTTP/1.1 401 Unauthorized']);
    expect(answer.endsWith('\r\n\r\nUnauthorized')).toBe(true);
    expect(sent).toBeLessThan(LIMIT);
  });

  it('a token the API server refuses the verb: the 403 after the review, then the connection closes', async () => {
    const socket = await tls(port());
    const data = received(socket);
    const sent = await endlessBody(socket, 'Authorization: Bearer bob-token\r\n');
    const answer = await data;
    expect(statusLines(answer)).toEqual(['HTTP/1.1 403 Forbidden']);
    expect(answer).toContain(
      'Forbidden (user=bob, verb=create, resource=nodes, subresource(s)=[pods proxy])',
    );
    expect(sent).toBeLessThan(LIMIT);
  });

  it('a chunked body of one-byte chunks with long extensions: counted off the wire, the connection closes', async () => {
    const socket = await tls(port());
    const data = received(socket);
    // Almost nothing of this is body data: a count of body bytes alone would never stop it.
    const sent = await sendUntilClosed(
      socket,
      'POST /pods HTTP/1.1\r\nHost: node-a\r\nTransfer-Encoding: chunked\r\n\r\n',
      Buffer.from(`1;${'e'.repeat(8000)}\r\nx\r\n`),
    );
    expect(statusLines(await data)).toEqual(['HTTP/1.1 401 Unauthorized']);
    expect(sent).toBeLessThan(LIMIT);
  });

  it('a small body still arriving when refused is read to its end: the next request reuses the connection', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: pki.serving.cert });
    const sockets = new Set<Socket>();
    const send = (method: string, body?: [string, string]) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: port(), path: '/pods', method, agent });
        req.on('socket', (socket) => sockets.add(socket));
        req.on('error', reject);
        req.on('response', (res) => {
          // The rest of the body goes only once the answer is in: it arrives after the answer.
          if (body) req.end(body[1]);
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        if (body) {
          req.setHeader('Content-Length', body.join('').length);
          req.write(body[0]);
        } else req.end();
      });
    try {
      expect(await send('POST', ['{"a":', '1}'])).toBe(401);
      expect(await send('GET')).toBe(401);
      expect(sockets.size).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  it('a body sent in full keeps the connection: the next request on it is answered too', async () => {
    const socket = await tls(port());
    const data = received(socket);
    const post = (last: boolean) =>
      `POST /pods HTTP/1.1\r\nHost: node-a\r\nContent-Length: 5\r\n${last ? 'Connection: close\r\n' : ''}\r\nhello`;
    socket.write(post(false));
    socket.write(post(true));
    expect(statusLines(await data)).toEqual([
      'HTTP/1.1 401 Unauthorized',
      'HTTP/1.1 401 Unauthorized',
    ]);
  });
});

describe('closeIfBodyUnread for every answer of a server', () => {
  it('a handler that answers first and then reads the body gets all of it', async () => {
    const own = await listen(pki, (req, res) => {
      res.writeHead(202).end('accepted');
      req.on('data', (chunk: Buffer) => (got += chunk.length));
      req.once('end', () => done());
    });
    own.on('request', closeIfBodyUnread);
    opened.push(own);
    let got = 0;
    let done!: () => void;
    const ended = new Promise<void>((resolve) => (done = resolve));
    const size = 2 * 1024 ** 2;
    const req = request({
      host: '127.0.0.1',
      port: (own.address() as AddressInfo).port,
      path: '/upload',
      method: 'POST',
      ca: pki.serving.cert,
      headers: { 'Content-Length': size },
    });
    // The body goes once the answer is in, so all of it arrives after the answer.
    req.on('response', (res) => {
      res.resume();
      req.end(Buffer.alloc(size, 'x'));
    });
    req.flushHeaders();
    await ended;
    expect(got).toBe(size);
  });
});
