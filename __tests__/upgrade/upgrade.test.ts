import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { IncomingMessage } from 'node:http';
import type { Server } from 'node:https';
import express from 'express';
import { kubeletAuth, kubeletUpgradeAuth } from '../../lib/index.js';
import type { StandInApiServer } from '../../lib/testing/index.js';
import {
  close,
  listen,
  makePki,
  rawRequest,
  startPolicyApiServer,
  type Pki,
} from '../integration/harness.js';
import { recordingLogger } from '../support/secrets.js';

let pki: Pki;
let api: StandInApiServer;
let server: Server;
const reached: IncomingMessage[] = [];
let closeAuth: () => void = () => undefined;

const entry = (token: string) =>
  `base64url.bearer.authorization.k8s.io.${Buffer.from(token).toString('base64url')}`;
const upgrade = (path: string, extra: string[] = []) =>
  [
    `GET ${path} HTTP/1.1`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Version: 13',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    ...extra,
  ].join('\r\n');

beforeAll(async () => {
  [pki, api] = await Promise.all([makePki(), startPolicyApiServer()]);
  const auth = kubeletAuth({
    nodeName: 'node-a',
    kubeConfig: api.kubeConfig,
    authentication: { x509: { clientCAFile: pki.clientCAFile } },
    logger: recordingLogger,
  });
  closeAuth = () => auth.close();
  const guard = kubeletUpgradeAuth(auth);
  // Ordinary requests go through the same middleware; upgrades through the guard.
  server = await listen(pki, express().use(auth));
  server.on('upgrade', (req: IncomingMessage, socket) => {
    void guard(req, socket).then((allowed) => {
      if (!allowed) return;
      reached.push(req);
      // Stands in for a WebSocket library's handshake.
      socket.end(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
      );
    });
  });
});
afterAll(async () => {
  closeAuth();
  await close(server);
  await api.close();
});
beforeEach(() => {
  reached.length = 0;
  api.resetReviews();
});

describe('kubeletUpgradeAuth: WebSocket upgrades get the same authentication and authorization', () => {
  it('no credentials: 401 on the raw socket, and the app never sees the upgrade', async () => {
    const res = await rawRequest(server, pki, upgrade('/exec/ns/pod/c'));
    expect(res.status).toBe(401);
    expect(res.body).toBe('Unauthorized');
    expect(reached).toHaveLength(0);
  });

  it('a client certificate without nodes/proxy: 403 with the kubelet’s body, before any handshake', async () => {
    const res = await rawRequest(server, pki, upgrade('/exec/ns/pod/c'), pki.certs.alice);
    expect(res.status).toBe(403);
    expect(res.body).toBe(
      'Forbidden (user=alice, verb=get, resource=nodes, subresource(s)=[proxy])\n',
    );
    expect(reached).toHaveLength(0);
  });

  it('an allowed upgrade reaches the app with req.user set; GET is asked as get on nodes/proxy', async () => {
    const res = await rawRequest(server, pki, upgrade('/exec/ns/pod/c'), pki.certs.admin);
    expect(res.status).toBe(101);
    expect(reached).toHaveLength(1);
    expect((reached[0] as IncomingMessage & { user?: { username: string } }).user?.username).toBe(
      'root',
    );
    expect(api.reviews.subjectAccessReviews.map((r) => r.spec.resourceAttributes)).toEqual([
      { verb: 'get', version: 'v1', resource: 'nodes', subresource: 'proxy', name: 'node-a' },
    ]);
  });

  it('a token in Sec-WebSocket-Protocol authenticates, and is removed from what the app sees', async () => {
    const res = await rawRequest(
      server,
      pki,
      upgrade('/exec/ns/pod/c', [
        `Sec-WebSocket-Protocol: v4.channel.k8s.io, ${entry('admin-token')}`,
      ]),
    );
    expect(res.status).toBe(101);
    expect(reached[0]?.headers['sec-websocket-protocol']).toBe('v4.channel.k8s.io');
    expect(JSON.stringify(reached[0]?.rawHeaders)).not.toContain('YWRtaW4tdG9rZW4');
    expect(api.reviews.tokenReviews.map((r) => r.spec.token)).toEqual(['admin-token']);
  });

  it('a bad Authorization header does not stop a valid subprotocol token (as upstream)', async () => {
    const res = await rawRequest(
      server,
      pki,
      upgrade('/exec/ns/pod/c', [
        'Authorization: Bearer never-issued-token',
        `Sec-WebSocket-Protocol: v4.channel.k8s.io, ${entry('admin-token')}`,
      ]),
    );
    expect(res.status).toBe(101);
  });

  it.each([
    ['two token entries', `${entry('admin-token')}, ${entry('admin-token')}, v4.channel.k8s.io`],
    ['no other subprotocol', entry('admin-token')],
    ['bad encoding', 'base64url.bearer.authorization.k8s.io.***, v4.channel.k8s.io'],
    ['an unknown token', `${entry('never-issued-token')}, v4.channel.k8s.io`],
  ])('%s: 401, never anonymous', async (_name, protocols) => {
    const res = await rawRequest(
      server,
      pki,
      upgrade('/exec/ns/pod/c', [`Sec-WebSocket-Protocol: ${protocols}`]),
    );
    expect(res.status).toBe(401);
    expect(reached).toHaveLength(0);
  });

  it('the subprotocol token is only read on a WebSocket upgrade', async () => {
    const res = await rawRequest(
      server,
      pki,
      `GET /exec/ns/pod/c HTTP/1.1\r\nSec-WebSocket-Protocol: v4.channel.k8s.io, ${entry('admin-token')}`,
    );
    // An ordinary request carrying only a subprotocol token has no credentials: 401.
    expect(res.status).toBe(401);
    expect(api.reviews.tokenReviews).toHaveLength(0);
  });
});
