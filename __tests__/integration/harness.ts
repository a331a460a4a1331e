import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RequestListener } from 'node:http';
import { recordingLogger, registerSecrets } from '../support/secrets.js';
import request from 'supertest';
import {
  createCA,
  mintClientCert,
  mintServingCert,
  startApiServer,
  type CertificateAuthority,
  type ClientCertOptions,
  type IssuedCertificate,
  type StandInApiServer,
} from '../../lib/testing/index.js';

/** Certificates for every client-certificate case the kubelet distinguishes. */
export interface Pki {
  clientCA: CertificateAuthority;
  clientCAFile: string;
  serving: IssuedCertificate;
  certs: Record<
    | 'alice'
    | 'viaIntermediate'
    | 'intermediateNotSent'
    | 'expired'
    | 'notYetValid'
    | 'wrongCA'
    | 'serverAuthOnly'
    | 'noEKU'
    | 'emptyCN'
    | 'manyGroups'
    | 'withUid'
    | 'admin',
    IssuedCertificate
  >;
}

const HOUR = 3_600_000;

export async function makePki(): Promise<Pki> {
  const dir = mkdtempSync(join(tmpdir(), 'eka-pki-'));
  const clientCA = await createCA({ commonName: 'kubelet-client-ca' });
  const clientCAFile = join(dir, 'client-ca.crt');
  writeFileSync(clientCAFile, clientCA.cert);
  const intermediate = await createCA({ commonName: 'intermediate', issuer: clientCA });
  // Same subject name as the trusted CA, different key: must not be trusted.
  const impostor = await createCA({ commonName: 'kubelet-client-ca' });
  const now = Date.now();
  const specs: Record<keyof Pki['certs'], ClientCertOptions> = {
    alice: { ca: clientCA, user: 'alice', groups: ['devs'] },
    viaIntermediate: { ca: intermediate, user: 'carol', groups: ['devs'], chain: [intermediate] },
    intermediateNotSent: { ca: intermediate, user: 'carol', groups: ['devs'] },
    expired: {
      ca: clientCA,
      user: 'alice',
      notBefore: new Date(now - 48 * HOUR),
      notAfter: new Date(now - HOUR),
    },
    notYetValid: {
      ca: clientCA,
      user: 'alice',
      notBefore: new Date(now + HOUR),
      notAfter: new Date(now + 48 * HOUR),
    },
    wrongCA: { ca: impostor, user: 'alice', groups: ['admins'] },
    serverAuthOnly: { ca: clientCA, user: 'alice', extendedKeyUsage: 'serverAuth' },
    noEKU: { ca: clientCA, user: 'alice', extendedKeyUsage: 'none' },
    emptyCN: { ca: clientCA, user: '', groups: ['devs'] },
    manyGroups: { ca: clientCA, user: 'dave', groups: ['a', 'b', 'c'] },
    withUid: { ca: clientCA, user: 'erin', uid: 'uid-erin' },
    admin: { ca: clientCA, user: 'root', groups: ['admins'] },
  };
  const [serving, ...minted] = await Promise.all([
    mintServingCert({ hosts: ['127.0.0.1', 'localhost'] }),
    ...Object.values(specs).map((options) => mintClientCert(options)),
  ]);
  const names = Object.keys(specs) as (keyof Pki['certs'])[];
  const certs = Object.fromEntries(names.map((name, i) => [name, minted[i]])) as Pki['certs'];
  registerSecrets(clientCA.key, (serving as IssuedCertificate).key, ...minted.map((c) => c.key));
  return { clientCA, clientCAFile, serving: serving as IssuedCertificate, certs };
}

/** The stand-in API server every integration test talks to through client-node. */
export const TOKENS = ['alice-token', 'bob-token', 'admin-token', 'error-token'] as const;
/** Tokens the tests send that the API server does not know: they must not leak either. */
const UNKNOWN_TOKENS = ['nope-token', 'never-issued-token', 'garbage-token', 'tökén'];

export async function startPolicyApiServer(): Promise<StandInApiServer> {
  registerSecrets(...TOKENS, ...UNKNOWN_TOKENS);
  const api = await startApiServer({
    tokens: {
      'alice-token': {
        username: 'alice',
        uid: 'uid-alice',
        groups: ['devs'],
        extra: { scopes: ['node'] },
      },
      'bob-token': { username: 'bob' },
      'admin-token': { username: 'root', groups: ['admins'] },
      'error-token': { error: 'token store unavailable' },
    },
    policy: {
      rules: [
        {
          users: ['alice', 'carol', 'dave', 'erin'],
          verbs: ['get'],
          resources: ['nodes/stats', 'nodes/pods', 'nodes/healthz', 'nodes/metrics'],
        },
        { groups: ['admins'], verbs: ['*'], resources: ['nodes/*'] },
      ],
    },
  });
  registerSecrets(api.callerToken, api.authority.key);
  return api;
}

/**
 * `kubeletAuth`'s options for node `node-a` against `api`: bearer tokens through TokenReview,
 * Webhook authorization, anonymous off, logged to the secret-checking logger.
 */
export function webhookOptions(api: StandInApiServer) {
  return {
    nodeName: 'node-a',
    kubeConfig: api.kubeConfig,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true } },
    authorization: { mode: 'Webhook' as const },
    logger: recordingLogger,
  };
}

/** The status lines of every answer (interim ones included) in what a raw connection received. */
export const statusLines = (data: string): string[] =>
  data.match(/HTTP\/1\.1 \d{3}[^\r\n]*/g) ?? [];

/** An HTTPS server as the kubelet runs it: asks for, but does not verify, client certificates. */
export async function listen(pki: Pki, app: RequestListener): Promise<Server> {
  const server = createServer(
    { key: pki.serving.key, cert: pki.serving.cert, requestCert: true, rejectUnauthorized: false },
    app,
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

export function urlOf(server: Server): string {
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export interface Call {
  method?: string;
  cert?: IssuedCertificate;
  /** Send the full chain (leaf + intermediates) rather than the leaf alone. */
  sendChain?: boolean;
  authorization?: string | string[];
}

/** One HTTPS request with supertest, trusting the serving certificate. */
export function call(server: Server, pki: Pki, path: string, options: Call = {}): request.Test {
  const method = (options.method ?? 'GET').toLowerCase() as 'get';
  let req = request(urlOf(server))[method](path).ca(pki.serving.cert);
  if (options.cert)
    req = req
      .cert(options.sendChain ? options.cert.chain : options.cert.cert)
      .key(options.cert.key);
  const auth = options.authorization;
  if (typeof auth === 'string') req = req.set('Authorization', auth);
  return req;
}

export function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Writes `head` (request line and headers, CRLF-separated, without the final blank line) as is
 * over TLS, with a client certificate, and returns the status (0 when the server closed the
 * connection without answering) and body. For requests clients would normalise.
 */
export async function rawRequest(
  server: Server,
  pki: Pki,
  head: string,
  cert?: IssuedCertificate,
): Promise<{ status: number; body: string }> {
  const { connect } = await import('node:tls');
  const port = (server.address() as AddressInfo).port;
  return new Promise((resolve, reject) => {
    const socket = connect(
      {
        host: '127.0.0.1',
        port,
        ca: pki.serving.cert,
        servername: 'localhost',
        cert: cert?.cert,
        key: cert?.key,
      },
      () => socket.write(`${head}\r\nHost: localhost\r\nConnection: close\r\n\r\n`),
    );
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('end', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
      resolve({ status, body: data.slice(data.indexOf('\r\n\r\n') + 4) });
    });
    socket.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNRESET' ? resolve({ status: 0, body: '' }) : reject(error),
    );
  });
}
