import { expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import request from 'supertest';
import express from 'express';
import { kubeletAuth, silentLogger } from '../lib/index.js';
import { mintServingCert, startApiServer } from '../lib/testing/index.js';

// The README's "Testing with supertest" example, as written there (plus a silent logger),
// with the RBAC YAML file it shows (__tests__/fixtures/viewer-rbac.yaml).
it('the README example: viewer may read /stats/summary but not POST /exec/...', async () => {
  const api = await startApiServer({
    tokens: { 'viewer-token': { username: 'viewer' } },
    policy: { rbac: readFileSync(new URL('./fixtures/viewer-rbac.yaml', import.meta.url), 'utf8') },
  });
  const app = express();
  app.use(kubeletAuth({ nodeName: 'node-a', kubeConfig: api.kubeConfig, logger: silentLogger }));
  app.get('/stats/summary', (_req, res) => res.json({ ok: true }));

  const serving = await mintServingCert({ hosts: ['127.0.0.1'] });
  const server = https
    .createServer(
      { key: serving.key, cert: serving.cert, requestCert: true, rejectUnauthorized: false },
      app,
    )
    .listen(0, '127.0.0.1');

  await request(server)
    .get('/stats/summary')
    .ca(serving.cert)
    .set('Authorization', 'Bearer viewer-token')
    .expect(200);
  await request(server)
    .post('/exec/default/pod/c')
    .ca(serving.cert)
    .set('Authorization', 'Bearer viewer-token')
    .expect(403, 'Forbidden (user=viewer, verb=create, resource=nodes, subresource(s)=[proxy])\n');
  expect(api.reviews.subjectAccessReviews).toHaveLength(2); // what reached the API server
  await api.close();
  server.close();
});
