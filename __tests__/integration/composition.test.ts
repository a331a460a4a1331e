import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:https';
import connect from 'connect';
import express from 'express';
import express4 from 'express4';
import passport from 'passport';
import {
  AnonymousStrategy,
  ClientCertStrategy,
  kubeletAuth,
  kubeletAuthz,
  kubeUser,
  TokenReviewStrategy,
  webhookAuthorizer,
} from '../../lib/index.js';
import { recordingLogger } from '../support/secrets.js';
import type { StandInApiServer } from '../../lib/testing/index.js';
import { call, close, listen, makePki, startPolicyApiServer, type Pki } from './harness.js';
import { KubeletAuthError } from '../../lib/errors.js';

let pki: Pki;
let api: StandInApiServer;
const servers: Server[] = [];
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  [pki, api] = await Promise.all([makePki(), startPolicyApiServer()]);
});
afterAll(async () => {
  cleanups.forEach((c) => c());
  await Promise.all(servers.map(close));
  await api.close();
});
beforeEach(() => api.resetReviews());

function echo(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ user: kubeUser(req) ?? null }));
}

async function serve(app: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const server = await listen(pki, app);
  servers.push(server);
  return server;
}

describe('composed from passport pieces', () => {
  let server: Server;
  beforeAll(async () => {
    const certs = new ClientCertStrategy({
      clientCAFile: pki.clientCAFile,
      logger: recordingLogger,
    });
    cleanups.push(() => certs.close());
    const instance = new passport.Authenticator();
    instance.use(certs);
    instance.use(
      new TokenReviewStrategy({
        kubeConfig: api.kubeConfig,
        cacheTTL: '2m',
        logger: recordingLogger,
      }),
    );
    instance.use(new AnonymousStrategy());
    const app = express();
    app.use(
      instance.authenticate(['kube-x509', 'kube-token', 'kube-anonymous'], { session: false }),
    );
    app.use(
      kubeletAuthz({
        nodeName: 'node-a',
        authorizer: webhookAuthorizer({ kubeConfig: api.kubeConfig }),
      }),
    );
    app.use(echo);
    server = await serve(app);
  });

  it('the strategies have the documented names', () => {
    expect(new AnonymousStrategy().name).toBe('kube-anonymous');
    const token = new TokenReviewStrategy({ kubeConfig: api.kubeConfig });
    expect(token.name).toBe('kube-token');
    const certs = new ClientCertStrategy({ clientCA: pki.clientCA.cert });
    expect(certs.name).toBe('kube-x509');
  });

  it('a client certificate authenticates and the authorizer lets it in', async () => {
    const res = await call(server, pki, '/stats/summary', { cert: pki.certs.alice }).expect(200);
    expect(res.body.user).toMatchObject({
      username: 'alice',
      groups: ['devs', 'system:authenticated'],
    });
  });

  it('a token authenticates through TokenReview', async () => {
    const res = await call(server, pki, '/stats/summary', {
      authorization: 'Bearer alice-token',
    }).expect(200);
    expect(res.body.user.username).toBe('alice');
    expect(api.reviews.tokenReviews.map((r) => r.spec)).toEqual([{ token: 'alice-token' }]);
  });

  it('refused credentials never fall through to anonymous: 401', async () => {
    await call(server, pki, '/stats/summary', { cert: pki.certs.wrongCA }).expect(401);
    await call(server, pki, '/stats/summary', { authorization: 'Bearer nope-token' }).expect(401);
  });

  it('no credentials: anonymous, then 403 from the authorizer', async () => {
    await call(server, pki, '/stats/summary').expect(
      403,
      'Forbidden (user=system:anonymous, verb=get, resource=nodes, subresource(s)=[stats])\n',
    );
  });

  it('ClientCertStrategy needs a CA bundle at construction', () => {
    expect(() => new ClientCertStrategy({})).toThrow(KubeletAuthError);
  });
});

describe.each([
  ['Express 5', () => express()],
  ['Express 4', () => express4()],
  ['Connect', () => connect()],
] as const)('%s', (_name, makeApp) => {
  let server: Server;
  beforeAll(async () => {
    const auth = kubeletAuth({
      nodeName: 'node-a',
      kubeConfig: api.kubeConfig,
      authentication: { x509: { clientCAFile: pki.clientCAFile } },
      logger: recordingLogger,
    });
    cleanups.push(() => auth.close());
    const app = makeApp();
    app.use(auth);
    app.use(echo);
    server = await serve(app as unknown as (req: IncomingMessage, res: ServerResponse) => void);
  });

  it('allows what the policy allows', async () => {
    const res = await call(server, pki, '/stats/summary', { cert: pki.certs.alice }).expect(200);
    expect(res.body.user.username).toBe('alice');
  });

  it('answers the kubelet’s 403 and 401', async () => {
    await call(server, pki, '/logs/', { cert: pki.certs.alice }).expect(
      403,
      'Forbidden (user=alice, verb=get, resource=nodes, subresource(s)=[log])\n',
    );
    await call(server, pki, '/stats/summary').expect(401, 'Unauthorized');
  });
});
