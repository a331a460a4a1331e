/**
 * A client that leaves while its request is being authorized gets nothing more: no answer is
 * written to its closed connection and no handler runs for it, whatever the authorizer decides
 * afterwards. Over real TLS, with an authorizer the test answers when it chooses.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { IncomingMessage } from 'node:http';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import express from 'express';
import { kubeletAuthz } from '../../lib/index.js';
import type { AuthorizationResult, Authorizer } from '../../lib/contracts.js';
import { close, listen, makePki, type Pki } from '../integration/harness.js';
import { recordingLogger } from '../support/secrets.js';

let pki: Pki;
let server: Server;
const handled: string[] = [];
/** Each authorize call, waiting for the test to answer it. */
const pending: ((result: AuthorizationResult) => void)[] = [];
/** Server-side requests, to see their connection close. */
const requests: IncomingMessage[] = [];
let wake: () => void = () => undefined;

const gated: Authorizer = {
  authorize: () =>
    new Promise((resolve) => {
      pending.push(resolve);
      wake();
    }),
};

beforeAll(async () => {
  pki = await makePki();
  const app = express();
  app.use((req, _res, next) => {
    requests.push(req);
    (req as IncomingMessage & { user?: unknown }).user = { username: 'alice', groups: [] };
    next();
  });
  app.use(kubeletAuthz({ nodeName: 'node-a', authorizer: gated, logger: recordingLogger }));
  app.use((req, res) => {
    handled.push(req.url);
    res.end('handled');
  });
  server = await listen(pki, app);
});
afterAll(() => close(server));

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise<void>((resolve) => (wake = resolve));
}

it('a client that leaves during the review: the allowed handler never runs, nothing is written', async () => {
  const socket = connect({
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    ca: pki.serving.cert,
    servername: 'localhost',
  });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('secureConnect', resolve));
  socket.write(
    'POST /checkpoint/ns/pod/c HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n',
  );
  await until(() => pending.length === 1);
  const req = requests[0] as IncomingMessage;
  const gone = new Promise<void>((resolve) => req.once('close', resolve));
  socket.destroy();
  await gone;
  pending[0]?.({ decision: 'Allow' });
  // Let the authorization's continuation run.
  await new Promise((resolve) => setImmediate(resolve));
  expect(handled).toEqual([]);
});
