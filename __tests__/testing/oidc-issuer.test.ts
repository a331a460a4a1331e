// The testkit's stand-in OIDC issuer, read the way any relying party reads an issuer: plain
// node:https for discovery and keys, jose for the tokens.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'node:https';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { startOidcIssuer, type StandInOidcIssuer } from '../../lib/testing/index.js';
import { registerSecrets } from '../support/secrets.js';

let issuer: StandInOidcIssuer;
beforeAll(async () => {
  issuer = await startOidcIssuer({ path: '/realms/test', clientID: 'my-client' });
});
afterAll(() => issuer.close());

/** GET over HTTPS trusting the issuer's CA: status and body (or the connection error's code). */
function fetch(url: string): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = request(url, { ca: issuer.ca, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? 'error' }));
    req.end();
  });
}

async function json(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url);
  if (!('status' in res) || res.status !== 200) throw new Error(`${url}: ${JSON.stringify(res)}`);
  return JSON.parse(res.body) as Record<string, unknown>;
}

const discoveryURL = () => `${issuer.url}/.well-known/openid-configuration`;

describe('startOidcIssuer', () => {
  it('serves discovery over HTTPS under the issuer URL, naming itself and its keys', async () => {
    expect(issuer.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/realms\/test$/);
    const document = await json(discoveryURL());
    expect(document).toMatchObject({
      issuer: issuer.url,
      jwks_uri: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+\/realms\/test\/keys$/),
      id_token_signing_alg_values_supported: ['RS256'],
    });
  });

  it('mints tokens its published keys verify, with the defaults and the claims given', async () => {
    const token = await issuer.mintToken({ sub: 'alice', groups: ['devs'], iat: undefined });
    registerSecrets(token);
    const keys = (await json(`${issuer.url}/keys`)) as unknown as JSONWebKeySet;
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(keys), {
      issuer: issuer.url,
      audience: 'my-client',
    });
    expect(protectedHeader).toEqual({ alg: 'RS256', kid: issuer.kid, typ: 'JWT' });
    expect(payload).toEqual({
      iss: issuer.url,
      aud: 'my-client',
      sub: 'alice',
      groups: ['devs'],
      exp: expect.any(Number),
    });
  });

  it('rotates keys: a new key ID, the old key dropped or kept', async () => {
    const first = issuer.kid;
    const second = await issuer.rotateKeys();
    expect(second).not.toBe(first);
    expect(issuer.kid).toBe(second);
    const kids = async () =>
      ((await json(`${issuer.url}/keys`)).keys as { kid: string }[]).map((k) => k.kid);
    expect(await kids()).toEqual([second]);
    const third = await issuer.rotateKeys({ keepPrevious: true });
    expect(await kids()).toEqual([second, third]);
    const token = await issuer.mintToken();
    registerSecrets(token);
    expect(decodeProtectedHeader(token).kid).toBe(third);
  });

  it('counts requests by endpoint, and injects faults on one endpoint a number of times', async () => {
    issuer.resetRequests();
    await issuer.setFault({ type: 'status', status: 500, on: 'jwks', times: 1 });
    expect(await fetch(discoveryURL())).toMatchObject({ status: 200 });
    expect(await fetch(`${issuer.url}/keys`)).toMatchObject({ status: 500 });
    expect(await fetch(`${issuer.url}/keys`)).toMatchObject({ status: 200 });
    await issuer.setFault({ type: 'malformed', on: 'discovery' });
    const malformed = await fetch(discoveryURL());
    expect(() => JSON.parse((malformed as { body: string }).body)).toThrow();
    await issuer.setFault({ type: 'refuse' });
    expect(await fetch(discoveryURL())).toEqual({ error: 'ECONNREFUSED' });
    await issuer.setFault();
    expect(await fetch(discoveryURL())).toMatchObject({ status: 200 });
    expect(issuer.requests).toEqual({ discovery: 3, jwks: 2 });
  });

  it('close() ends hung requests', async () => {
    const hung = await startOidcIssuer();
    await hung.setFault({ type: 'hang' });
    const pending = new Promise<{ status: number; body: string } | { error: string }>((resolve) => {
      const req = request(
        `${hung.url}/.well-known/openid-configuration`,
        { ca: hung.ca, agent: false },
        (res) => resolve({ status: res.statusCode ?? 0, body: '' }),
      );
      req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? '' }));
      req.end();
    });
    while (hung.requests.discovery === 0) await new Promise((resolve) => setImmediate(resolve));
    await hung.close();
    expect(await pending).toEqual({ error: 'ECONNRESET' });
  });

  it('refuses a path that does not start with "/"', async () => {
    await expect(startOidcIssuer({ path: 'realms' })).rejects.toThrow(
      'startOidcIssuer: path must start with "/"',
    );
  });
});
