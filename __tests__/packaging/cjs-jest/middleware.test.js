// CommonJS, Jest's defaults (babel-jest, no --experimental-vm-modules): @kubernetes/client-node,
// which is ESM-only, can never load here. The middleware reviews through the stand-in API
// server's own client instead, over real HTTPS.
const { mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const { createServer } = require('node:https');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const express = require('express');
const request = require('supertest');
const { kubeletAuth } = require('express-kubelet-auth');
const {
  createCA,
  mintClientCert,
  mintServingCert,
  startApiServer,
} = require('express-kubelet-auth/testing');

let api;
let auth;
let server;
let dir;
let serving;
let carol;

beforeAll(async () => {
  api = await startApiServer({
    tokens: {
      'alice-token': { username: 'alice', groups: ['devs'] },
      'bob-token': { username: 'bob' },
    },
    policy: {
      rules: [
        { users: ['alice'], verbs: ['get'], resources: ['nodes/pods'] },
        { groups: ['ops'], verbs: ['get'], resources: ['nodes/pods'] },
      ],
    },
  });
  const clientCA = await createCA({ commonName: 'client CA' });
  [serving, carol] = await Promise.all([
    mintServingCert({ hosts: ['127.0.0.1'] }),
    mintClientCert({ ca: clientCA, user: 'carol', groups: ['ops'] }),
  ]);
  dir = mkdtempSync(join(tmpdir(), 'cjs-jest-'));
  writeFileSync(join(dir, 'client-ca.crt'), clientCA.cert);

  auth = kubeletAuth({
    nodeName: 'node-a',
    reviewClient: api.reviewClient(),
    authentication: { x509: { clientCAFile: join(dir, 'client-ca.crt') } },
  });
  const app = express();
  app.use(auth);
  app.get('/pods', (req, res) => res.json(req.user));
  server = createServer(
    { key: serving.key, cert: serving.cert, requestCert: true, rejectUnauthorized: false },
    app,
  );
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  auth.close();
  await new Promise((resolve) => server.close(resolve));
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => api.resetReviews());

const url = () => `https://127.0.0.1:${server.address().port}`;

test('a token for a user the API server allows: 200, after a TokenReview and a SubjectAccessReview', async () => {
  const res = await request(url())
    .get('/pods')
    .ca(serving.cert)
    .set('Authorization', 'Bearer alice-token');
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ username: 'alice', groups: ['devs', 'system:authenticated'] });
  expect(api.reviews.tokenReviews.map((review) => review.spec.token)).toEqual(['alice-token']);
  expect(api.reviews.subjectAccessReviews.map((review) => review.spec)).toEqual([
    {
      user: 'alice',
      groups: ['devs', 'system:authenticated'],
      resourceAttributes: {
        verb: 'get',
        version: 'v1',
        resource: 'nodes',
        subresource: 'pods',
        name: 'node-a',
      },
    },
  ]);
});

test('a token for a user the API server does not allow: 403', async () => {
  const res = await request(url())
    .get('/pods')
    .ca(serving.cert)
    .set('Authorization', 'Bearer bob-token');
  expect(res.status).toBe(403);
  expect(res.text).toBe(
    'Forbidden (user=bob, verb=get, resource=nodes, subresource(s)=[pods proxy])\n',
  );
  expect(api.reviews.subjectAccessReviews.map((review) => review.spec.user)).toEqual([
    'bob',
    'bob',
  ]);
});

test('a token the API server does not know: 401', async () => {
  const res = await request(url())
    .get('/pods')
    .ca(serving.cert)
    .set('Authorization', 'Bearer unknown-token');
  expect(res.status).toBe(401);
  expect(api.reviews.subjectAccessReviews).toEqual([]);
});

test('a client certificate: authenticated without a TokenReview, authorized by the API server', async () => {
  const res = await request(url()).get('/pods').ca(serving.cert).cert(carol.cert).key(carol.key);
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ username: 'carol', groups: ['ops', 'system:authenticated'] });
  expect(api.reviews.tokenReviews).toEqual([]);
  expect(api.reviews.subjectAccessReviews.map((review) => review.spec.user)).toEqual(['carol']);
});

test('what needs client-node says why it cannot load here, and what to do', () => {
  expect(() => api.kubeConfig).toThrow(
    /@kubernetes\/client-node is ESM-only and cannot be loaded in this environment \(CommonJS Jest without --experimental-vm-modules.*pass `reviewClient`.*or run Jest with native ESM/,
  );
});
