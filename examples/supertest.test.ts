import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import express from 'express';
import request from 'supertest';
import { kubeletAuth, silentLogger, type KubeletAuthMiddleware } from 'express-kubelet-auth';
import {
  createCA,
  mintClientCert,
  mintServingCert,
  startApiServer,
  type CertificateAuthority,
  type StandInApiServer,
} from 'express-kubelet-auth/testing';

let api: StandInApiServer; // a stand-in API server: TokenReview, SubjectAccessReview, real RBAC
let clientCA: CertificateAuthority; // the CA the app trusts for client certificates
let auth: KubeletAuthMiddleware;
let server: https.Server;
let serverCert: string; // the app's self-signed serving certificate, trusted by the test
const dir = mkdtempSync(join(tmpdir(), 'kubelet-auth-test-'));

beforeAll(async () => {
  api = await startApiServer({
    tokens: { 'viewer-token': { username: 'viewer' } },
    policy: { rbac: readFileSync(new URL('./viewer-rbac.yaml', import.meta.url), 'utf8') },
  });
  clientCA = await createCA();
  writeFileSync(join(dir, 'client-ca.crt'), clientCA.cert);
  auth = kubeletAuth({
    nodeName: 'node-a',
    kubeConfig: api.kubeConfig,
    authentication: { x509: { clientCAFile: join(dir, 'client-ca.crt') } },
    logger: silentLogger,
  });
  const app = express();
  app.use(auth);
  app.get('/stats/summary', (_req, res) => res.json({ ok: true }));

  const serving = await mintServingCert({ hosts: ['127.0.0.1'] });
  serverCert = serving.cert;
  server = https.createServer(
    { key: serving.key, cert: serving.cert, requestCert: true, rejectUnauthorized: false },
    app,
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  auth.close(); // stops watching the CA file
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

test('viewer reads /stats/summary with a token', async () => {
  await request(server)
    .get('/stats/summary')
    .ca(serverCert)
    .set('Authorization', 'Bearer viewer-token')
    .expect(200, { ok: true });
});

test('viewer reads /stats/summary with a client certificate', async () => {
  const viewer = await mintClientCert({ ca: clientCA, user: 'viewer' });
  await request(server)
    .get('/stats/summary')
    .ca(serverCert)
    .cert(viewer.cert)
    .key(viewer.key)
    .expect(200);
});

test('viewer may not exec, and the API server was asked', async () => {
  api.resetReviews();
  await request(server)
    .post('/exec/default/pod/c')
    .ca(serverCert)
    .set('Authorization', 'Bearer viewer-token')
    .expect(403, 'Forbidden (user=viewer, verb=create, resource=nodes, subresource(s)=[proxy])\n');
  expect(api.reviews.subjectAccessReviews).toHaveLength(1);
});

test('no credentials: 401', async () => {
  await request(server).get('/stats/summary').ca(serverCert).expect(401, 'Unauthorized');
});
