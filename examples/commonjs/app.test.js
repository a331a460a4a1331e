// A CommonJS project (require, Jest without ESM support) testing an app protected by
// kubeletAuth. The stand-in API server's review client is handed to the middleware, so the
// test sends its reviews to the stand-in without loading a KubeConfig.
const https = require('node:https');
const express = require('express');
const request = require('supertest');
const { kubeletAuth, silentLogger } = require('express-kubelet-auth');
const { mintServingCert, startApiServer } = require('express-kubelet-auth/testing');

let api;
let server;
let serverCert;

beforeAll(async () => {
  api = await startApiServer({
    tokens: { 'viewer-token': { username: 'viewer' } },
    policy: { rules: [{ users: ['viewer'], verbs: ['get'], resources: ['nodes/stats'] }] },
  });
  const app = express();
  app.use(
    kubeletAuth({
      nodeName: 'node-a',
      reviewClient: api.reviewClient(),
      logger: silentLogger,
    }),
  );
  app.get('/stats/summary', (_req, res) => res.json({ ok: true }));

  const serving = await mintServingCert({ hosts: ['127.0.0.1'] });
  serverCert = serving.cert;
  server = https.createServer({ key: serving.key, cert: serving.cert }, app);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await api.close();
});

test('viewer reads /stats/summary, but may not exec', async () => {
  const asViewer = (req) => req.ca(serverCert).set('Authorization', 'Bearer viewer-token');
  await asViewer(request(server).get('/stats/summary')).expect(200, { ok: true });
  await asViewer(request(server).post('/exec/default/pod/c')).expect(403);
});
