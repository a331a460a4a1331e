import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import connect from 'connect';
import {
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import {
  connect as h2connect,
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type OutgoingHttpHeaders,
} from 'node:http2';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { kubeletAuth, type KubeletAuthMiddleware } from '../../lib/index.js';
import type { StandInApiServer } from '../../lib/testing/index.js';
import { recordingLogger } from '../support/secrets.js';
import { close, listen, makePki, rawRequest, startPolicyApiServer, type Pki } from './harness.js';

/**
 * client ──TLS, HTTP/1.1 or HTTP/2──▶ app (kubeletAuth with identity headers, then a proxy)
 * ──HTTP/1.1──▶ a backend that reads headers as CGI does: `HTTP_<NAME>`, upper-cased, every
 * character but letters and digits read as `_`, repeated headers joined with commas. The backend
 * must see exactly the user authenticated and authorized here, whatever spellings a caller sent.
 */
let pki: Pki;
let api: StandInApiServer;
let backend: HttpServer;
let auth: KubeletAuthMiddleware;
const servers: { close(): Promise<void> }[] = [];

type Copy = 'headers' | 'rawHeaders' | 'headersDistinct';
type AppRequest = IncomingMessage | Http2ServerRequest;

/** The CGI environment of the identity headers (and of `Authorization`) the backend got. */
function cgiEnvironment(req: IncomingMessage): Record<string, string> {
  const env: Record<string, string> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const key = `HTTP_${(req.rawHeaders[i] as string).toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
    if (!/^HTTP_(X_REMOTE_|AUTHORIZATION$)/.test(key)) continue;
    const value = req.rawHeaders[i + 1] as string;
    env[key] = key in env ? `${env[key]},${value}` : value;
  }
  return env;
}

/**
 * The lines a proxy copying one view of the request sends on: `Host` its own, pseudo-headers
 * left out.
 */
function outgoingLines(req: AppRequest, copy: Copy): string[] {
  const lines: string[] = ['Host', 'backend'];
  const add = (name: string, value: string | string[] | undefined) => {
    if (name.startsWith(':') || name.toLowerCase() === 'host' || value === undefined) return;
    for (const v of Array.isArray(value) ? value : [value]) lines.push(name, v);
  };
  if (copy === 'rawHeaders') {
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      add(req.rawHeaders[i] as string, req.rawHeaders[i + 1]);
    }
    return lines;
  }
  const view = copy === 'headers' ? req.headers : (req as IncomingMessage).headersDistinct;
  for (const [name, value] of Object.entries(view)) add(name, value);
  return lines;
}

/** A minimal reverse proxy to the backend that copies one view of the request's headers. */
function proxy(copy: Copy) {
  const port = (backend.address() as AddressInfo).port;
  return function proxyMiddleware(req: AppRequest, res: ServerResponse | Http2ServerResponse) {
    const out = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path: req.url,
        method: req.method,
        headers: outgoingLines(req, copy),
      },
      (upstream) => {
        let body = '';
        upstream.setEncoding('utf8');
        upstream.on('data', (chunk: string) => (body += chunk));
        upstream.on('end', () => {
          res.statusCode = upstream.statusCode ?? 502;
          res.setHeader('Content-Type', 'application/json');
          res.end(body);
        });
      },
    );
    out.on('error', () => {
      res.statusCode = 502;
      res.end();
    });
    out.end();
  };
}

function app(copy: Copy) {
  const stack = connect();
  stack.use(auth);
  stack.use(proxy(copy));
  return stack;
}

beforeAll(async () => {
  [pki, api] = await Promise.all([makePki(), startPolicyApiServer()]);
  auth = kubeletAuth({
    nodeName: 'node-a',
    kubeConfig: api.kubeConfig,
    authentication: {
      webhook: { enabled: true, cacheTTL: '0s' },
      x509: { clientCAFile: pki.clientCAFile },
    },
    authorization: { webhook: { cacheAuthorizedTTL: '0s' } },
    identityHeaders: true,
    logger: recordingLogger,
  });
  backend = createHttpServer((req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(cgiEnvironment(req)));
  });
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  servers.push({
    close: () => new Promise<void>((resolve) => backend.close(() => resolve())),
  });
});
afterAll(async () => {
  auth.close();
  backend.closeAllConnections();
  await Promise.all(servers.map((s) => s.close()));
  await api.close();
});
beforeEach(() => api.resetReviews());

/** What the backend may see of alice, authenticated by her token here. */
const ALICE = {
  HTTP_X_REMOTE_USER: 'alice',
  HTTP_X_REMOTE_UID: 'uid-alice',
  HTTP_X_REMOTE_GROUP: 'devs,system:authenticated',
  HTTP_X_REMOTE_EXTRA_SCOPES: 'node',
};
/** What the backend may see of alice, authenticated by her client certificate here. */
const ALICE_CERT = {
  HTTP_X_REMOTE_USER: 'alice',
  HTTP_X_REMOTE_GROUP: 'devs,system:authenticated',
  HTTP_X_REMOTE_EXTRA_AUTHENTICATION_KUBERNETES_IO_2FCREDENTIAL_ID:
    expect.stringMatching(/^X509SHA256=[0-9a-f]{64}$/),
};

/**
 * Identity header spellings a caller forges (HTTP/2 names are lower case): the names themselves,
 * and the names with `_` (or another separator a CGI-style backend reads as `_`) for `-`.
 */
const FORGED_H2: [string, string][] = [
  ['x-remote-user', 'mallory'],
  ['x-remote-group', 'system:masters'],
  ['x_remote_user', 'admin'],
  ['x_remote_group', 'system:masters'],
  ['x-remote_group', 'root'],
  ['x_remote_uid', '0'],
  ['x-remote-extra_scopes', 'everything'],
  ['x_remote_extra_scopes', 'everything'],
  ['x.remote.user', 'dot'],
  ['x-remote-extra-authentication.kubernetes.io%2fcredential-id', 'forged'],
  ['x_remote_extra_authentication.kubernetes.io%2fcredential-id', 'forged'],
];
/** The same, in the mixed cases an HTTP/1.1 caller may send. */
const FORGED_H1 = [
  'X-Remote-User: mallory',
  'X-REMOTE-GROUP: system:masters',
  'X_Remote_User: admin',
  'X_Remote_Group: system:masters',
  'x-Remote_GROUP: root',
  'X_REMOTE_UID: 0',
  'X-Remote-Extra_Scopes: everything',
  'X_Remote_Extra_Scopes: everything',
  'X.Remote.User: dot',
  'X_Remote_Extra_Authentication.kubernetes.io%2fcredential-id: forged',
];

describe.each(['headers', 'rawHeaders', 'headersDistinct'] as const)(
  'HTTP/1.1, a proxy copying req.%s',
  (copy) => {
    let server: HttpsServer;
    beforeAll(async () => {
      server = await listen(pki, app(copy));
      servers.push({ close: () => close(server) });
    });

    const get = (lines: string[], cert?: Pki['certs']['alice']) =>
      rawRequest(server, pki, ['GET /stats/summary HTTP/1.1', ...lines].join('\r\n'), cert);

    it('the backend sees the token’s user and no forged spelling, nor the token', async () => {
      const res = await get([...FORGED_H1, 'Authorization: Bearer alice-token']);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual(ALICE);
      expect(api.reviews.subjectAccessReviews.map((r) => r.spec.user)).toEqual(['alice']);
    });

    it('the backend sees the certificate’s user and no forged spelling', async () => {
      const res = await get(FORGED_H1, pki.certs.alice);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual(ALICE_CERT);
    });
  },
);

describe.each(['headers', 'rawHeaders'] as const)('HTTP/2, a proxy copying req.%s', (copy) => {
  let server: Http2SecureServer;
  beforeAll(async () => {
    server = createSecureServer(
      {
        key: pki.serving.key,
        cert: pki.serving.cert,
        requestCert: true,
        rejectUnauthorized: false,
      },
      // connect's types name node:http's request; HTTP/2 compatibility requests serve it too.
      app(copy) as unknown as (req: Http2ServerRequest, res: Http2ServerResponse) => void,
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
  });

  /** GET /stats/summary over HTTP/2 with these header fields, each sent as its own field. */
  function get(
    fields: [string, string][],
    cert?: Pki['certs']['alice'],
  ): Promise<{ status: number; body: string }> {
    const port = (server.address() as AddressInfo).port;
    const session = h2connect(`https://127.0.0.1:${port}`, {
      ca: pki.serving.cert,
      servername: 'localhost',
      ...(cert ? { cert: cert.cert, key: cert.key } : {}),
    });
    const headers: OutgoingHttpHeaders = { ':path': '/stats/summary' };
    for (const [name, value] of fields) {
      const previous = headers[name];
      headers[name] = previous === undefined ? value : [...[previous].flat().map(String), value];
    }
    return new Promise((resolve, reject) => {
      const stream = session.request(headers);
      let status = 0;
      let body = '';
      stream.setEncoding('utf8');
      stream.on('response', (head) => (status = Number(head[':status'])));
      stream.on('data', (chunk: string) => (body += chunk));
      stream.on('end', () => {
        session.close();
        resolve({ status, body });
      });
      stream.on('error', (error) => {
        session.destroy();
        reject(error);
      });
      stream.end();
    });
  }

  it('the backend sees the token’s user and no forged spelling, nor the token', async () => {
    const res = await get([...FORGED_H2, ['authorization', 'Bearer alice-token']]);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual(ALICE);
    expect(api.reviews.subjectAccessReviews.map((r) => r.spec.user)).toEqual(['alice']);
  });

  it('the backend sees the certificate’s user and no forged spelling', async () => {
    const res = await get(FORGED_H2, pki.certs.alice);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual(ALICE_CERT);
  });
});
