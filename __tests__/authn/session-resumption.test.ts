import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { constants, X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { CABundle } from '../../lib/authn/ca-bundle.js';
import { RequestHeaderAuthenticator } from '../../lib/authn/request-header.js';
import { ClientCertStrategy } from '../../lib/authn/x509.js';
import type { AuthnOutcome, AuthRequest } from '../../lib/contracts.js';
import {
  createCA,
  mintClientCert,
  mintServingCert,
  type CertificateAuthority,
  type IssuedCertificate,
} from '../../lib/testing/index.js';
import { recordingLogger, registerSecrets } from '../support/secrets.js';

/**
 * On a resumed TLS session Node shows the client's leaf certificate alone: the intermediates it
 * sent on the full handshake are not part of the session. These tests resume real sessions
 * (tickets on TLS 1.2 and 1.3, session ids on TLS 1.2) and check that the resumed connection
 * gets the answer a full handshake would get now.
 */
const HOUR = 3_600_000;

let serving: IssuedCertificate;
let root: CertificateAuthority;
let otherRoot: CertificateAuthority;
/** Issued by an intermediate CA under `root`; sends the intermediate after it. */
let carol: IssuedCertificate;
/** The front proxy's certificate, also issued by an intermediate CA under `root`. */
let frontProxy: IssuedCertificate;
/** Issued by `otherRoot`'s intermediate: never trusted here. */
let stranger: IssuedCertificate;

beforeAll(async () => {
  [serving, root, otherRoot] = await Promise.all([
    mintServingCert({ hosts: ['localhost'] }),
    createCA({ commonName: 'resumption-root' }),
    createCA({ commonName: 'resumption-other-root' }),
  ]);
  const [intermediate, otherIntermediate] = await Promise.all([
    createCA({ commonName: 'resumption-intermediate', issuer: root }),
    createCA({ commonName: 'resumption-other-intermediate', issuer: otherRoot }),
  ]);
  // The leaves expire well before their CAs, so a clock past a leaf's end expires only it.
  const notAfter = new Date(Date.now() + 2 * HOUR);
  [carol, frontProxy, stranger] = await Promise.all([
    mintClientCert({ ca: intermediate, user: 'carol', chain: [intermediate], notAfter }),
    mintClientCert({
      ca: intermediate,
      user: 'front-proxy-client',
      chain: [intermediate],
      notAfter,
    }),
    mintClientCert({ ca: otherIntermediate, user: 'carol', chain: [otherIntermediate] }),
  ]);
  registerSecrets(serving.key, root.key, otherRoot.key, carol.key, frontProxy.key, stranger.key);
});

type Mode = readonly ['TLSv1.2' | 'TLSv1.3', 'tickets' | 'session ids'];
const MODES: readonly Mode[] = [
  ['TLSv1.2', 'tickets'],
  ['TLSv1.2', 'session ids'],
  ['TLSv1.3', 'tickets'],
];

const servers: Server[] = [];
const bundles: CABundle[] = [];
afterEach(async () => {
  bundles.splice(0).forEach((bundle) => bundle.close());
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    }),
  );
});

/**
 * An HTTPS server as the kubelet runs it, limited to one TLS version and one way of resuming
 * (session ids need the server's session store: Node keeps none of its own). It answers 200
 * with the user `authenticate` found, or 401.
 */
async function serve(
  [version, resumption]: Mode,
  authenticate: (req: AuthRequest) => AuthnOutcome,
): Promise<Server> {
  const server = createServer(
    {
      key: serving.key,
      cert: serving.cert,
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: version,
      maxVersion: version,
      ...(resumption === 'session ids' ? { secureOptions: constants.SSL_OP_NO_TICKET } : {}),
    },
    (req: IncomingMessage, res: ServerResponse) => {
      const outcome = authenticate(req as unknown as AuthRequest);
      res.statusCode = outcome.kind === 'user' ? 200 : 401;
      res.end(outcome.kind === 'user' ? outcome.user.username : outcome.kind);
    },
  );
  if (resumption === 'session ids') {
    const sessions = new Map<string, Buffer>();
    server.on('newSession', (id: Buffer, data: Buffer, done: () => void) => {
      sessions.set(id.toString('hex'), data);
      done();
    });
    server.on('resumeSession', (id: Buffer, done: (e: null, data: Buffer | null) => void) =>
      done(null, sessions.get(id.toString('hex')) ?? null),
    );
  }
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

interface Exchange {
  status: number;
  body: string;
  /** Whether the client's TLS session was resumed rather than negotiated in full. */
  reused: boolean;
  /** The session to resume next time (the last one the server gave). */
  session: Buffer | undefined;
}

/** One request on a new TLS connection sending `cert`'s whole chain, resuming `session` if given. */
function exchange(
  server: Server,
  [version]: Mode,
  cert: IssuedCertificate,
  session?: Buffer,
  headers = '',
): Promise<Exchange> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    let reused = false;
    let latest = session;
    const socket = connect(
      {
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        ca: serving.cert,
        cert: cert.chain,
        key: cert.key,
        minVersion: version,
        maxVersion: version,
        ...(session ? { session } : {}),
      },
      () => {
        reused = socket.isSessionReused();
        socket.write(`GET / HTTP/1.1\r\nHost: localhost\r\n${headers}Connection: close\r\n\r\n`);
      },
    );
    let data = '';
    socket.setEncoding('utf8');
    socket.on('session', (next: Buffer) => (latest = next));
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', reject);
    socket.on('close', () =>
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0),
        body: data.slice(data.indexOf('\r\n\r\n') + 4),
        reused,
        session: latest,
      }),
    );
  });
}

/** A CA bundle in a file, changed by the test (then reloaded at once, not watched). */
function bundleFile(pem: string): { bundle: CABundle; replace: (pem: string) => void } {
  const file = join(mkdtempSync(join(tmpdir(), 'eka-resumption-')), 'ca.crt');
  writeFileSync(file, pem);
  const bundle = CABundle.fromFile(file, { watch: false, logger: recordingLogger });
  bundles.push(bundle);
  return {
    bundle,
    replace(next) {
      writeFileSync(file, next);
      bundle.reload();
    },
  };
}

const endOf = (cert: IssuedCertificate): number =>
  Date.parse(new X509Certificate(cert.cert).validTo);

describe.each(MODES)('ClientCertStrategy on resumed sessions (%s, %s)', (...mode) => {
  it('a certificate from an intermediate CA is the same user on the resumed session', async () => {
    const { bundle } = bundleFile(root.cert);
    const strategy = new ClientCertStrategy({ bundle, logger: recordingLogger });
    const server = await serve(mode, (req) => strategy.authenticateRequest(req));

    const full = await exchange(server, mode, carol);
    expect(full).toMatchObject({ reused: false, status: 200, body: 'carol' });
    const resumed = await exchange(server, mode, carol, full.session);
    expect(resumed).toMatchObject({ reused: true, status: 200, body: 'carol' });
    const again = await exchange(server, mode, carol, resumed.session);
    expect(again).toMatchObject({ reused: true, status: 200, body: 'carol' });
  });

  it('is refused once the CA that issued the chain is removed from the bundle', async () => {
    const { bundle, replace } = bundleFile(root.cert);
    const strategy = new ClientCertStrategy({ bundle, logger: recordingLogger });
    const server = await serve(mode, (req) => strategy.authenticateRequest(req));
    const full = await exchange(server, mode, carol);
    expect(full).toMatchObject({ reused: false, status: 200 });

    replace(otherRoot.cert);
    const resumed = await exchange(server, mode, carol, full.session);
    expect(resumed).toMatchObject({ reused: true, status: 401, body: 'refused' });
    // Trusted again when the CA comes back, as a full handshake would be.
    replace(root.cert);
    const back = await exchange(server, mode, carol, resumed.session);
    expect(back).toMatchObject({ reused: true, status: 200, body: 'carol' });
  });

  it('is refused once the certificate has expired', async () => {
    const { bundle } = bundleFile(root.cert);
    let clock = Date.now();
    const strategy = new ClientCertStrategy({ bundle, logger: recordingLogger, now: () => clock });
    const server = await serve(mode, (req) => strategy.authenticateRequest(req));
    const full = await exchange(server, mode, carol);
    expect(full).toMatchObject({ reused: false, status: 200 });

    clock = endOf(carol) + 1_000;
    const resumed = await exchange(server, mode, carol, full.session);
    expect(resumed).toMatchObject({ reused: true, status: 401, body: 'refused' });
  });

  it('a certificate refused on the full handshake is refused on the resumed session', async () => {
    const { bundle } = bundleFile(root.cert);
    const strategy = new ClientCertStrategy({ bundle, logger: recordingLogger });
    const server = await serve(mode, (req) => strategy.authenticateRequest(req));
    const full = await exchange(server, mode, stranger);
    expect(full).toMatchObject({ reused: false, status: 401 });
    const resumed = await exchange(server, mode, stranger, full.session);
    expect(resumed).toMatchObject({ reused: true, status: 401, body: 'refused' });
  });
});

describe.each(MODES)('RequestHeaderAuthenticator on resumed sessions (%s, %s)', (...mode) => {
  const asserting = 'X-Remote-User: proxied-user\r\n';

  it('trusts a front proxy certified by an intermediate CA, until its CA is removed or it expires', async () => {
    const { bundle, replace } = bundleFile(root.cert);
    let clock = Date.now();
    const authenticator = new RequestHeaderAuthenticator({
      bundle,
      allowedNames: ['front-proxy-client'],
      logger: recordingLogger,
      now: () => clock,
    });
    const server = await serve(mode, (req) => authenticator.authenticateRequest(req));

    const full = await exchange(server, mode, frontProxy, undefined, asserting);
    expect(full).toMatchObject({ reused: false, status: 200, body: 'proxied-user' });
    const resumed = await exchange(server, mode, frontProxy, full.session, asserting);
    expect(resumed).toMatchObject({ reused: true, status: 200, body: 'proxied-user' });

    replace(otherRoot.cert);
    const removed = await exchange(server, mode, frontProxy, resumed.session, asserting);
    expect(removed).toMatchObject({ reused: true, status: 401, body: 'refused' });

    replace(root.cert);
    clock = endOf(frontProxy) + 1_000;
    const expired = await exchange(server, mode, frontProxy, removed.session, asserting);
    expect(expired).toMatchObject({ reused: true, status: 401, body: 'refused' });
  });
});
