import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect as h2connect, createSecureServer, type ClientHttp2Session } from 'node:http2';
import { Agent, request as httpsRequest, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CABundle } from '../../lib/authn/ca-bundle.js';
import { ClientCertAuthenticator } from '../../lib/authn/x509.js';
import { CHAIN_WORK_CHANNEL, type ChainWork } from '../../lib/authn/chain.js';
import { credentialsRejection } from '../../lib/authn/rejection.js';
import {
  RequestHeaderAuthenticator,
  type RequestHeaderAuthenticatorOptions,
} from '../../lib/authn/request-header.js';
import type { AuthRequest } from '../../lib/contracts.js';
import type { Logger } from '../../lib/logger.js';
import {
  createCA,
  mintClientCert,
  type CertificateAuthority,
  type IssuedCertificate,
} from '../../lib/testing/index.js';
import { close, listen, makePki, rawRequest, type Pki } from '../integration/harness.js';
import { registerSecrets } from '../support/secrets.js';
import { KubeletAuthError } from '../../lib/errors.js';
import {
  LiveRequestHeaderSettings,
  requestHeaderSettings,
} from '../../lib/authn/request-header-settings.js';

const HOUR = 3_600_000;

let pki: Pki;
let frontProxyCA: CertificateAuthority;
let certs: Record<'frontProxy' | 'otherName' | 'noCN' | 'expired', IssuedCertificate>;
let server: Server;
/** What the server under test authenticates with; each test sets it. */
let authenticator: RequestHeaderAuthenticator;
/** What the strategy logs, as `<level>: <message>`. */
const logged: string[] = [];
const logger: Logger = {
  error: (m) => logged.push(`error: ${m}`),
  warn: (m) => logged.push(`warn: ${m}`),
  info: (m) => logged.push(`info: ${m}`),
  debug: (m) => logged.push(`debug: ${m}`),
};
const made: RequestHeaderAuthenticator[] = [];

/** An authenticator trusting the front-proxy CA, with `options` on top. */
function make(
  options: Partial<RequestHeaderAuthenticatorOptions> = {},
): RequestHeaderAuthenticator {
  const made1 = new RequestHeaderAuthenticator({ clientCA: frontProxyCA.cert, logger, ...options });
  made.push(made1);
  return made1;
}

interface Seen {
  outcome: { kind: string; user?: Record<string, unknown>; reason?: string };
  rejected: string | null;
  /** Identity-like header lines still on the request after authentication. */
  left: string[];
  headerKeys: string[];
}

beforeAll(async () => {
  pki = await makePki();
  frontProxyCA = await createCA({ commonName: 'front-proxy-ca' });
  const now = Date.now();
  const [frontProxy, otherName, noCN, expired] = await Promise.all([
    mintClientCert({ ca: frontProxyCA, user: 'front-proxy-client' }),
    mintClientCert({ ca: frontProxyCA, user: 'someone-else', groups: ['system:masters'] }),
    mintClientCert({ ca: frontProxyCA, user: '' }),
    mintClientCert({
      ca: frontProxyCA,
      user: 'front-proxy-client',
      notBefore: new Date(now - 48 * HOUR),
      notAfter: new Date(now - HOUR),
    }),
  ]);
  certs = {
    frontProxy: frontProxy as IssuedCertificate,
    otherName: otherName as IssuedCertificate,
    noCN: noCN as IssuedCertificate,
    expired: expired as IssuedCertificate,
  };
  registerSecrets(frontProxyCA.key, ...Object.values(certs).map((c) => c.key));
  server = await listen(pki, (req: IncomingMessage, res: ServerResponse) => {
    const outcome = authenticator.authenticateRequest(req);
    const left: string[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i] as string;
      if (/^x-(remote|proxy)-/i.test(name)) left.push(`${name}: ${req.rawHeaders[i + 1]}`);
    }
    const seen: Seen = {
      outcome: outcome as Seen['outcome'],
      rejected: credentialsRejection(req) ?? null,
      left,
      headerKeys: Object.keys(req.headers).filter((k) => /^x-(remote|proxy)-/.test(k)),
    };
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(seen));
  });
});
afterAll(async () => {
  made.forEach((a) => a.close());
  await close(server);
});
beforeEach(() => {
  logged.length = 0;
  authenticator = make({ allowedNames: ['front-proxy-client'] });
});

/** One request with these header lines exactly as written (case, repetition, UTF-8). */
async function send(lines: string[], cert?: IssuedCertificate): Promise<Seen> {
  const head = ['GET /stats/summary HTTP/1.1', ...lines].join('\r\n');
  const res = await rawRequest(server, pki, head, cert);
  expect(res.status).toBe(200);
  return JSON.parse(res.body) as Seen;
}

/** Requests over one kept-alive TLS connection, in order. */
async function overOneConnection(
  cert: IssuedCertificate,
  headers: Record<string, string>[],
  before: (index: number) => void = () => undefined,
): Promise<Seen[]> {
  const agent = new Agent({
    keepAlive: true,
    maxSockets: 1,
    ca: pki.serving.cert,
    cert: cert.cert,
    key: cert.key,
  });
  const port = (server.address() as AddressInfo).port;
  const seen: Seen[] = [];
  for (const [index, h] of headers.entries()) {
    before(index);
    seen.push(
      await new Promise<Seen>((resolve, reject) => {
        const req = httpsRequest(
          { host: '127.0.0.1', port, path: '/', servername: 'localhost', agent, headers: h },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (body += c));
            res.on('end', () => resolve(JSON.parse(body) as Seen));
          },
        );
        req.on('error', reject);
        req.end();
      }),
    );
  }
  agent.destroy();
  return seen;
}

describe('a verified front proxy: the user its headers name', () => {
  it('reads user, uid, every group line and extra, then removes them from the request', async () => {
    const seen = await send(
      [
        'X-Remote-User: fp-user',
        'X-Remote-Uid: uid-1',
        'X-Remote-Group: g1',
        'x-remote-group: g2',
        'X-Remote-Group:',
        'X-Remote-Extra-Scopes: a',
        'x-remote-extra-scopes: b',
        'X-Remote-Extra-Authentication.kubernetes.io%2fcredential-id: c',
        'X-Remote-Extra-Empty:',
        'X-Proxy-Note: stays',
      ],
      certs.frontProxy,
    );
    expect(seen.outcome).toEqual({
      kind: 'user',
      user: {
        username: 'fp-user',
        uid: 'uid-1',
        groups: ['g1', 'g2', 'system:authenticated'],
        extra: {
          scopes: ['a', 'b'],
          'authentication.kubernetes.io/credential-id': ['c'],
          empty: [''],
        },
      },
    });
    expect(seen.left).toEqual(['X-Proxy-Note: stays']);
    expect(seen.headerKeys).toEqual(['x-proxy-note']);
    expect(seen.rejected).toBeNull();
    expect(logged).toEqual([]);
  });

  it.each<[string, string[], Partial<RequestHeaderAuthenticatorOptions>, Record<string, unknown>]>([
    [
      'the first line of a header wins; repeated lines are not joined',
      ['X-Remote-User: first', 'x-remote-user: second'],
      {},
      { username: 'first', groups: ['system:authenticated'] },
    ],
    [
      'an empty first line moves on to the next configured header, not the next line',
      ['X-Remote-User:', 'X-Remote-User: ignored', 'X-Proxy-User: from-second-header'],
      { usernameHeaders: ['X-Remote-User', 'X-Proxy-User'] },
      { username: 'from-second-header', groups: ['system:authenticated'] },
    ],
    [
      'a group value with a comma is one group',
      ['X-Remote-User: u', 'X-Remote-Group: a,b'],
      {},
      { username: 'u', groups: ['a,b', 'system:authenticated'] },
    ],
    [
      'groups come from every group header, in the configured order',
      ['X-Remote-User: u', 'X-Proxy-Groups: p', 'X-Remote-Group: r1', 'X-Remote-Group: r2'],
      { groupHeaders: ['X-Remote-Group', 'X-Proxy-Groups'] },
      { username: 'u', groups: ['r1', 'r2', 'p', 'system:authenticated'] },
    ],
    [
      'extra from every prefix',
      ['X-Remote-User: u', 'X-Proxy-Extra-Team: t', 'X-Remote-Extra-Team: r'],
      { extraHeaderPrefixes: ['X-Remote-Extra-', 'X-Proxy-Extra-'] },
      { username: 'u', groups: ['system:authenticated'], extra: { team: ['r', 't'] } },
    ],
    [
      'UTF-8 text as a Go proxy sends it',
      ['X-Remote-User: zoë', 'X-Remote-Group: équipe'],
      {},
      { username: 'zoë', groups: ['équipe', 'system:authenticated'] },
    ],
    [
      'system:authenticated is not added twice',
      ['X-Remote-User: u', 'X-Remote-Group: system:authenticated', 'X-Remote-Group: g'],
      {},
      { username: 'u', groups: ['system:authenticated', 'g'] },
    ],
    [
      'custom header names only: X-Remote-* is then not read',
      ['X-Remote-User: ignored', 'X-Proxy-User: p', 'X-Remote-Uid: ignored'],
      { usernameHeaders: ['X-Proxy-User'], uidHeaders: [] },
      { username: 'p', groups: ['system:authenticated'] },
    ],
  ])('%s', async (_name, lines, options, user) => {
    authenticator = make(options);
    const seen = await send(lines, certs.frontProxy);
    expect(seen.outcome).toEqual({ kind: 'user', user });
  });

  it('a verified certificate without a user name header is no credentials; headers stay', async () => {
    const seen = await send(['X-Remote-User:', 'X-Remote-Group: admins'], certs.frontProxy);
    expect(seen.outcome).toEqual({ kind: 'none' });
    expect(seen.left).toEqual(['X-Remote-User: ', 'X-Remote-Group: admins']);
    expect(seen.rejected).toBeNull();
  });

  it('without allowedNames, any certificate the front-proxy CA signed is trusted', async () => {
    authenticator = make();
    const seen = await send(['X-Remote-User: u'], certs.otherName);
    expect(seen.outcome).toEqual({
      kind: 'user',
      user: { username: 'u', groups: ['system:authenticated'] },
    });
    // …even one without a CN, as upstream (only allowedNames looks at the CN).
    expect((await send(['X-Remote-User: u'], certs.noCN)).outcome.kind).toBe('user');
  });
});

describe('an untrusted certificate: headers ignored, refused (never anonymous), as upstream', () => {
  it.each([
    [
      'a client-CA certificate',
      () => pki.certs.alice,
      'x509: certificate signed by unknown authority',
    ],
    [
      'a CN not in allowedNames',
      () => certs.otherName,
      'x509: subject with cn=someone-else is not in the allowed list',
    ],
    [
      'no CN when allowedNames is set',
      () => certs.noCN,
      'x509: subject with cn= is not in the allowed list',
    ],
    ['an expired front-proxy certificate', () => certs.expired, 'x509: certificate has expired'],
  ])('%s', async (_name, cert, reason) => {
    const seen = await send(['X-Remote-User: mallory', 'X-Remote-Group: system:masters'], cert());
    expect(seen.outcome).toEqual({ kind: 'refused', reason });
    expect(seen.rejected).toBe(reason);
    // Not cleared: only a trusted assertion is consumed (stripIdentityHeaders is for the rest).
    expect(seen.left).toEqual(['X-Remote-User: mallory', 'X-Remote-Group: system:masters']);
    expect(logged).toEqual([
      `debug: request-header identity ignored: the client certificate is not a front proxy's: ${reason}`,
    ]);
  });

  it.each<[string, string[]]>([
    ['no identity header', []],
    ['an empty user name header', ['X-Remote-User:']],
    ['groups without a user name', ['X-Remote-Group: system:masters']],
  ])(
    'an untrusted certificate with %s: refused (never anonymous), not a front-proxy attempt, no log line',
    async (_name, lines) => {
      const seen = await send(lines, pki.certs.alice);
      const reason = 'x509: certificate signed by unknown authority';
      expect(seen.outcome).toEqual({ kind: 'refused', reason, attempted: false });
      expect(seen.rejected).toBe(reason);
      expect(logged).toEqual([]);
    },
  );

  it('15 same-key CAs named like the front-proxy CA: refused after a bounded number of checks', async () => {
    const flood = await sameKeyFlood();
    const work = await chainWork(async () => {
      const seen = await send(['X-Remote-User: mallory'], flood);
      expect(seen.outcome).toEqual({
        kind: 'refused',
        reason: 'x509: certificate signed by unknown authority',
      });
    });
    const checks = work.map((w) => w.signatureChecks);
    // One verification: the leaf against the trusted CA and each CA sent, then each CA sent
    // against the trusted CA, whose key identifier differs (Go tries it still); the CAs sent are
    // one issuer to a chain, so none is tried above another.
    expect(checks).toEqual([1 + 15 + 15]);
  });

  it('no client certificate: no credentials, whatever the headers say', async () => {
    const seen = await send(['X-Remote-User: mallory']);
    expect(seen.outcome).toEqual({ kind: 'none' });
    expect(seen.rejected).toBeNull();
    expect(logged).toEqual([]);
  });
});

/**
 * A chain of 15 CAs named like the front-proxy CA, all with one key, above mallory's
 * certificate: refused, after many signature checks.
 */
async function sameKeyFlood(): Promise<IssuedCertificate> {
  const first = await createCA({ commonName: 'front-proxy-ca' });
  const rest = await Promise.all(
    Array.from({ length: 14 }, () => createCA({ commonName: 'front-proxy-ca', keys: first.keys })),
  );
  const flood = await mintClientCert({ ca: first, user: 'mallory', chain: [first, ...rest] });
  registerSecrets(flood.key);
  return { ...flood, cert: flood.chain };
}

/** The work of each chain verification `run` caused. */
async function chainWork(run: () => Promise<void>): Promise<ChainWork[]> {
  const work: ChainWork[] = [];
  const onWork = (message: unknown): void => {
    work.push(message as ChainWork);
  };
  subscribe(CHAIN_WORK_CHANNEL, onWork);
  try {
    await run();
  } finally {
    unsubscribe(CHAIN_WORK_CHANNEL, onWork);
  }
  return work;
}

/** The body of one GET on `session` naming `user` in `X-Remote-User`. */
function h2Body(session: ClientHttp2Session, user: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': '/stats/summary', 'x-remote-user': user });
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => resolve(body));
    req.on('error', reject);
    req.end();
  });
}

describe('per connection', () => {
  it('verifies the certificate once per connection and reads headers on every request', async () => {
    const bundle = CABundle.fromPEM(frontProxyCA.cert);
    let verifications = 0;
    const counted = new Proxy(bundle, {
      get(target, property) {
        if (property === 'certificates') verifications++;
        return Reflect.get(target, property, target) as unknown;
      },
    });
    authenticator = make({ bundle: counted });
    const seen = await overOneConnection(certs.frontProxy, [
      { 'X-Remote-User': 'first' },
      { 'X-Remote-User': 'second' },
      {},
    ]);
    expect(seen.map((s) => s.outcome.user?.username ?? s.outcome.kind)).toEqual([
      'first',
      'second',
      'none',
    ]);
    expect(verifications).toBe(1);
  });

  it('verifies again once the chain has expired, on the same connection', async () => {
    // The chain's earliest expiry: the CA, minted first, may end a second before the leaf.
    const validTo = Math.min(
      ...[certs.frontProxy.cert, frontProxyCA.cert].map((pem) =>
        Date.parse(new X509Certificate(pem).validTo),
      ),
    );
    let now = Date.now();
    authenticator = make({ now: () => now });
    const seen = await overOneConnection(
      certs.frontProxy,
      [{ 'X-Remote-User': 'u' }, { 'X-Remote-User': 'u' }, { 'X-Remote-User': 'u' }],
      (i) => {
        if (i === 1) now = validTo;
        if (i === 2) now = validTo + 1;
      },
    );
    expect(seen.map((s) => s.outcome.reason ?? s.outcome.kind)).toEqual([
      'user',
      'user',
      'x509: certificate has expired',
    ]);
  });

  it('follows settings that change, verifying the connection again when the allowed names do', async () => {
    const settings = new LiveRequestHeaderSettings();
    const at = (input: Parameters<typeof requestHeaderSettings>[0]) =>
      requestHeaderSettings(input, { where: 'test', defaults: true });
    settings.set(at({ allowedNames: ['front-proxy-client'] }));
    authenticator = make({ settings });
    const seen = await overOneConnection(
      certs.frontProxy,
      [
        { 'X-Remote-User': 'a', 'X-Proxy-User': 'b' },
        { 'X-Remote-User': 'a', 'X-Proxy-User': 'b' },
        { 'X-Remote-User': 'a', 'X-Proxy-User': 'b' },
      ],
      (i) => {
        if (i === 1)
          settings.set(
            at({ usernameHeaders: ['X-Proxy-User'], allowedNames: ['front-proxy-client'] }),
          );
        if (i === 2)
          settings.set(at({ usernameHeaders: ['X-Proxy-User'], allowedNames: ['someone-else'] }));
      },
    );
    expect(seen.map((s) => s.outcome.user?.username ?? s.outcome.reason)).toEqual([
      'a',
      'b',
      'x509: subject with cn=front-proxy-client is not in the allowed list',
    ]);
    // The second request's headers were removed by the names in force for it.
    expect(seen[1]?.left).toEqual(['X-Remote-User: a']);
    expect(
      settings.set(at({ usernameHeaders: ['X-Proxy-User'], allowedNames: ['someone-else'] })),
    ).toBe(false);
    expect(settings.version).toBe(3);
  });

  it('verifies a chain once for every connection that sends it, trusted or refused', async () => {
    const flood = await sameKeyFlood();
    const work = await chainWork(async () => {
      for (let i = 0; i < 3; i++) {
        expect((await send(['X-Remote-User: u'], certs.frontProxy)).outcome.kind).toBe('user');
        expect((await send(['X-Remote-User: u'], flood)).outcome.kind).toBe('refused');
      }
    });
    expect(work.map((w) => w.ok)).toEqual([true, false]);
  });

  it.each(['front proxy', 'client certificate'] as const)(
    'over HTTP/2, the %s is read and verified once per session, whatever the streams',
    async (kind) => {
      const flood = await sameKeyFlood();
      const checker: Pick<RequestHeaderAuthenticator, 'authenticateRequest'> =
        kind === 'front proxy'
          ? authenticator
          : new ClientCertAuthenticator({ clientCA: frontProxyCA.cert, logger });
      // How often each session's certificate was read: once per verification.
      const reads: number[] = [];
      const h2 = createSecureServer(
        {
          key: pki.serving.key,
          cert: pki.serving.cert,
          requestCert: true,
          rejectUnauthorized: false,
        },
        (req, res) => {
          const outcome = checker.authenticateRequest(req as unknown as AuthRequest);
          res.end(outcome.kind === 'user' ? outcome.user.username : outcome.kind);
        },
      );
      h2.on('secureConnection', (socket: TLSSocket) => {
        const index = reads.push(0) - 1;
        const read = socket.getPeerCertificate.bind(socket);
        socket.getPeerCertificate = ((detailed: boolean) => {
          reads[index] = (reads[index] ?? 0) + 1;
          return read(detailed);
        }) as TLSSocket['getPeerCertificate'];
      });
      await new Promise<void>((resolve) => h2.listen(0, '127.0.0.1', resolve));
      const { port } = h2.address() as AddressInfo;
      const streams = async (cert: IssuedCertificate): Promise<string[]> => {
        const session = h2connect(`https://127.0.0.1:${port}`, {
          ca: pki.serving.cert,
          servername: 'localhost',
          cert: cert.cert,
          key: cert.key,
        });
        const bodies: string[] = [];
        try {
          for (let i = 0; i < 4; i++) bodies.push(await h2Body(session, `user-${i}`));
        } finally {
          session.close();
        }
        return bodies;
      };
      try {
        const seen: string[][] = [];
        const work = await chainWork(async () => {
          seen.push(await streams(certs.frontProxy), await streams(flood));
        });
        const trusted =
          kind === 'front proxy'
            ? ['user-0', 'user-1', 'user-2', 'user-3']
            : Array<string>(4).fill('front-proxy-client');
        expect(seen).toEqual([trusted, Array<string>(4).fill('refused')]);
        expect(work.map((w) => w.ok)).toEqual([true, false]);
        expect(reads).toEqual([1, 1]);
      } finally {
        await new Promise<void>((resolve) => h2.close(() => resolve()));
      }
    },
  );

  it('logs an untrusted certificate’s identity headers once per connection', async () => {
    await overOneConnection(pki.certs.alice, [
      { 'X-Remote-User': 'mallory' },
      { 'X-Remote-User': 'mallory' },
      { 'X-Remote-User': 'mallory' },
    ]);
    expect(logged).toHaveLength(1);
  });
});

describe('construction', () => {
  it('is a passport strategy named kube-request-header', () => {
    expect(make().name).toBe('kube-request-header');
  });

  it('reads the CA from a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eka-rh-'));
    const file = join(dir, 'front-proxy-ca.crt');
    writeFileSync(file, frontProxyCA.cert);
    authenticator = new RequestHeaderAuthenticator({ clientCAFile: file, logger });
    made.push(authenticator);
    expect((await send(['X-Remote-User: u'], certs.frontProxy)).outcome.kind).toBe('user');
  });

  it.each<[string, unknown, string]>([
    ['no CA', {}, 'one of clientCAFile, clientCA or bundle is required'],
    ['no options', undefined, 'options are required'],
    [
      'an unreadable CA file',
      { clientCAFile: '/nonexistent/ca.crt' },
      'RequestHeaderAuthenticator: clientCAFile: cannot read /nonexistent/ca.crt: ENOENT',
    ],
    [
      'CA text without a certificate',
      { clientCA: 'nope' },
      'RequestHeaderAuthenticator: clientCA: invalid CA bundle',
    ],
    [
      'an empty header name',
      { clientCA: 'x', usernameHeaders: [' '] },
      'usernameHeaders: not a header name: " "',
    ],
    [
      'a header name with a space',
      { clientCA: 'x', groupHeaders: ['X Group'] },
      'groupHeaders: not a header name',
    ],
    [
      'no username header',
      { clientCA: 'x', usernameHeaders: [] },
      'usernameHeaders: at least one is needed',
    ],
    [
      'a string for a list',
      { clientCA: 'x', extraHeaderPrefixes: 'X-Remote-Extra-' },
      'extraHeaderPrefixes: expected an array',
    ],
    [
      'an empty allowed name',
      { clientCA: 'x', allowedNames: [''] },
      'allowedNames: expected an array of non-empty common names',
    ],
    [
      'upstream’s option name',
      { clientCA: 'x', allowedClientNames: ['a'] },
      'unknown option "allowedClientNames" (did you mean "allowedNames"?)',
    ],
    [
      'a typo',
      { clientCA: 'x', clientCaFile: 'f' },
      'unknown option "clientCaFile" (did you mean "clientCAFile"?)',
    ],
    ['a singular', { clientCA: 'x', usernameHeader: ['X'] }, '(did you mean "usernameHeaders"?)'],
    [
      'settings and a setting of its own',
      { clientCA: 'x', settings: new LiveRequestHeaderSettings(), allowedNames: ['a'] },
      'RequestHeaderAuthenticator: allowedNames: cannot be given with settings, which decide it',
    ],
    [
      'settings that are not a source',
      { clientCA: 'x', settings: { usernameHeaders: ['X'] } },
      'RequestHeaderAuthenticator: settings: expected a source with current and version',
    ],
  ])('%s throws a TypeError naming the option', (_name, options, message) => {
    const build = (): unknown =>
      new RequestHeaderAuthenticator(options as RequestHeaderAuthenticatorOptions);
    expect(build).toThrow(KubeletAuthError);
    expect(build).toThrow(message);
  });
});
