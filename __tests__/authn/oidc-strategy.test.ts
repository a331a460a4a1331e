// The 'kube-oidc' passport strategy in a real passport chain over HTTPS, before 'kube-token'
// and 'kube-anonymous', as the guide composes it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import passport from 'passport';
import request from 'supertest';
import { AnonymousStrategy, kubeUser, OIDCStrategy, TokenReviewStrategy } from '../../lib/index.js';
import {
  mintServingCert,
  startApiServer,
  startOidcIssuer,
  type IssuedCertificate,
  type StandInApiServer,
  type StandInOidcIssuer,
} from '../../lib/testing/index.js';
import { recordingLogger, registerSecrets } from '../support/secrets.js';

let api: StandInApiServer;
let issuer: StandInOidcIssuer;
let other: StandInOidcIssuer;
let serving: IssuedCertificate;
let server: Server;

beforeAll(async () => {
  [api, issuer, other, serving] = await Promise.all([
    startApiServer(),
    startOidcIssuer(),
    startOidcIssuer(),
    mintServingCert({ hosts: ['127.0.0.1'] }),
  ]);
  registerSecrets(api.callerToken, serving.key);
  const instance = new passport.Authenticator();
  instance.use(
    new OIDCStrategy({
      issuerURL: issuer.url,
      clientID: issuer.clientID,
      ca: issuer.ca,
      usernamePrefix: '-',
      logger: recordingLogger,
    }),
  );
  instance.use(
    new TokenReviewStrategy({ reviewClient: api.reviewClient(), logger: recordingLogger }),
  );
  instance.use(new AnonymousStrategy());
  const app = express();
  const echo = (req: express.Request, res: express.Response) => {
    res.json({ user: kubeUser(req), authorization: req.headers.authorization ?? null });
  };
  const session = { session: false };
  app.get('/', instance.authenticate(['kube-oidc', 'kube-token', 'kube-anonymous'], session), echo);
  app.get('/oidc-only', instance.authenticate(['kube-oidc', 'kube-anonymous'], session), echo);
  server = createServer({ key: serving.key, cert: serving.cert }, app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await Promise.all([api.close(), issuer.close(), other.close()]);
});

function get(token?: string, path = '/'): request.Test {
  const req = request(`https://127.0.0.1:${(server.address() as AddressInfo).port}`)
    .get(path)
    .ca(serving.cert);
  return token === undefined ? req : req.set('Authorization', `Bearer ${token}`);
}

async function mint(
  from: StandInOidcIssuer,
  claims: Record<string, unknown> = {},
  options: { forged?: boolean } = {},
): Promise<string> {
  const token = await from.mintToken(claims, options);
  registerSecrets(token);
  return token;
}

describe("passport.authenticate(['kube-oidc', 'kube-token', 'kube-anonymous'])", () => {
  it("the strategy's name is 'kube-oidc'", () => {
    expect(
      new OIDCStrategy({
        issuerURL: issuer.url,
        clientID: 'k',
        ca: issuer.ca,
        logger: recordingLogger,
      }).name,
    ).toBe('kube-oidc');
  });

  it('an OIDC token: its user, with system:authenticated; the header is removed', async () => {
    const res = await get(await mint(issuer, { sub: 'alice' })).expect(200);
    expect(res.body).toEqual({
      user: { username: 'alice', groups: ['system:authenticated'] },
      authorization: null,
    });
  });

  it('a token of another issuer goes on to kube-token', async () => {
    const token = await mint(other, { sub: 'sa' });
    api.setTokens({ [token]: { username: 'system:serviceaccount:ns:sa' } });
    const res = await get(token).expect(200);
    expect(res.body.user.username).toBe('system:serviceaccount:ns:sa');
  });

  it('a bad OIDC token that kube-token refuses too is 401, not anonymous', async () => {
    await get(await mint(issuer, { sub: 'alice' }, { forged: true })).expect(401);
  });

  it('a token of another issuer that kube-token refuses is 401, not anonymous', async () => {
    await get(await mint(other)).expect(401);
  });

  it('no credentials: anonymous', async () => {
    const res = await get().expect(200);
    expect(res.body.user).toEqual({
      username: 'system:anonymous',
      groups: ['system:unauthenticated'],
    });
  });
});

describe("passport.authenticate(['kube-oidc', 'kube-anonymous'])", () => {
  it('a token of another issuer, which nothing else checks, is 401, not anonymous', async () => {
    await get(await mint(other), '/oidc-only').expect(401);
    await get('opaque-token', '/oidc-only').expect(401);
  });

  it('an OIDC token is its user; no credentials are anonymous', async () => {
    const res = await get(await mint(issuer, { sub: 'alice' }), '/oidc-only').expect(200);
    expect(res.body.user.username).toBe('alice');
    const anonymous = await get(undefined, '/oidc-only').expect(200);
    expect(anonymous.body.user.username).toBe('system:anonymous');
  });
});
