import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import {
  connect as h2connect,
  createServer as createH2Server,
  type Http2Server,
  type Http2ServerRequest,
  type IncomingHttpHeaders,
} from 'node:http2';
import { connect, type AddressInfo } from 'node:net';
import connectApp from 'connect';
import {
  decodeExtraHeaderKey,
  encodeExtraHeaderKey,
  identityHeaders,
  setIdentityHeaders,
  stripIdentityHeaders,
  type IdentityHeadersOptions,
} from '../../lib/identity/identity-headers.js';
import { removeAuthorizationHeader } from '../../lib/authn/bearer.js';
import { freezeUser, type KubeUser } from '../../lib/user.js';
import type { Logger } from '../../lib/logger.js';
import { KubeletAuthError } from '../../lib/errors.js';

/** A server that answers with the identity header lines it received, UTF-8 decoded. */
let downstream: Server;
/** The server under test: each test installs what it does with a request. */
let app: Server;
let handle: (req: IncomingMessage, res: ServerResponse) => void;

function listenLocal(server: Server): Promise<void> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
}
const portOf = (server: Server): number => (server.address() as AddressInfo).port;

beforeAll(async () => {
  downstream = createServer((req, res) => {
    const lines: [string, string][] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i] as string;
      const value = Buffer.from(req.rawHeaders[i + 1] as string, 'latin1').toString('utf8');
      if (/^x-(remote|forwarded)-/i.test(name)) lines.push([name.toLowerCase(), value]);
    }
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(lines));
  });
  app = createServer((req, res) => handle(req, res));
  await Promise.all([listenLocal(downstream), listenLocal(app)]);
});
afterAll(async () => {
  for (const server of [app, downstream]) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** Sends header lines exactly as written (any case, repeated, UTF-8 bytes) and returns the body. */
function send(lines: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(portOf(app), '127.0.0.1', () =>
      socket.write(
        Buffer.from(
          ['GET /x HTTP/1.1', 'Host: localhost', ...lines, 'Connection: close', '', ''].join(
            '\r\n',
          ),
          'utf8',
        ),
      ),
    );
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0),
        body: text.slice(text.indexOf('\r\n\r\n') + 4),
      });
    });
    socket.on('error', reject);
  });
}

/**
 * Forwards the request downstream the two ways proxies do: a copy of `req.headers` (http-proxy,
 * most hand-written proxies) or `req.rawHeaders` as is.
 */
function forward(req: IncomingMessage, copy: 'headers' | 'raw'): Promise<[string, string][]> {
  return new Promise((resolve, reject) => {
    const out = httpRequest(
      {
        host: '127.0.0.1',
        port: portOf(downstream),
        path: '/',
        headers: copy === 'raw' ? req.rawHeaders : { ...req.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve(JSON.parse(body) as [string, string][]));
      },
    );
    out.on('error', reject);
    out.end();
  });
}

function json(res: ServerResponse, value: unknown): void {
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(value));
}

/** Identity headers a caller might inject: every name, odd cases, repeated. */
const INJECTED = [
  'X-Remote-User: mallory',
  'x-remote-user: mallory2',
  'X-REMOTE-GROUP: system:masters',
  'x-Remote-Group: admins',
  'X-Remote-Uid: 0',
  'X-Remote-Extra-Scopes: *',
  'x-remote-extra-authentication.kubernetes.io%2fcredential-id: forged',
];
/** Look-alikes that are not identity headers and must be left alone. */
const UNRELATED = ['X-Remote-Other: keep', 'X-Remotely: keep', 'Accept: */*'];

const ZOE: KubeUser = freezeUser({
  username: 'zoë',
  uid: 'uid-zoe',
  groups: ['a,b', 'system:authenticated'],
  extra: {
    'authentication.kubernetes.io/credential-id': ['X509SHA256=ab'],
    scopes: ['s1', 's2'],
  },
});
const ZOE_LINES: [string, string][] = [
  ['x-remote-user', 'zoë'],
  ['x-remote-uid', 'uid-zoe'],
  ['x-remote-group', 'a,b'],
  ['x-remote-group', 'system:authenticated'],
  ['x-remote-extra-authentication.kubernetes.io%2fcredential-id', 'X509SHA256=ab'],
  ['x-remote-extra-scopes', 's1'],
  ['x-remote-extra-scopes', 's2'],
];

describe('encodeExtraHeaderKey / decodeExtraHeaderKey (client-go and apiserver escaping)', () => {
  it.each([
    ['scopes', 'scopes'],
    ['authentication.kubernetes.io/credential-id', 'authentication.kubernetes.io%2Fcredential-id'],
    ['100%', '100%25'],
    ['a b', 'a%20b'],
    ['a:b', 'a%3Ab'],
    ["it's~ok!|#$&*+^_`", "it's~ok!|#$&*+^_`"],
    ['ключ', '%D0%BA%D0%BB%D1%8E%D1%87'],
    ['Upper', 'Upper'],
  ])('encodes %j as %j', (key, encoded) => {
    expect(encodeExtraHeaderKey(key)).toBe(encoded);
  });

  it.each([
    ['authentication.kubernetes.io%2fcredential-id', 'authentication.kubernetes.io/credential-id'],
    ['authentication.kubernetes.io%2Fcredential-id', 'authentication.kubernetes.io/credential-id'],
    ['Scopes', 'scopes'],
    ['a%20b', 'a b'],
    ['a+b', 'a+b'],
    ['%D0%BA%D0%BB%D1%8E%D1%87', 'ключ'],
    // Lower-cased before unescaping, as upstream: an escaped capital survives.
    ['%41', 'A'],
    // Malformed escapes keep the (lower-cased) text, as upstream.
    ['%zz', '%zz'],
    ['100%', '100%'],
    ['Bad%2', 'bad%2'],
    ['', ''],
  ])('decodes %j as %j', (suffix, key) => {
    expect(decodeExtraHeaderKey(suffix)).toBe(key);
  });

  it('round-trips every lower-case key through a valid header name', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 12 }), (raw) => {
        const key = raw.replace(/[A-Z]/g, (c) => c.toLowerCase());
        const encoded = encodeExtraHeaderKey(key);
        expect(encoded === '' || /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(encoded)).toBe(true);
        expect(decodeExtraHeaderKey(encoded)).toBe(key);
      }),
    );
  });
});

describe('stripIdentityHeaders', () => {
  it.each([
    ['before anything read the headers', false],
    ['after req.headers and req.headersDistinct were read', true],
  ])('removes every inbound identity header from all three views, %s', async (_when, read) => {
    handle = (req, res) => {
      if (read) void [req.headers, req.headersDistinct];
      const removed = stripIdentityHeaders(req);
      json(res, {
        removed,
        headers: req.headers,
        distinct: req.headersDistinct,
        raw: req.rawHeaders,
      });
    };
    const res = await send([...INJECTED, ...UNRELATED]);
    const body = JSON.parse(res.body) as {
      removed: number;
      headers: Record<string, unknown>;
      distinct: Record<string, unknown>;
      raw: string[];
    };
    expect(body.removed).toBe(INJECTED.length);
    const kept = {
      host: 'localhost',
      'x-remote-other': 'keep',
      'x-remotely': 'keep',
      accept: '*/*',
      connection: 'close',
    };
    expect(body.headers).toEqual(kept);
    expect(Object.keys(body.distinct).sort()).toEqual(Object.keys(kept).sort());
    expect(body.raw).toEqual([
      'Host',
      'localhost',
      'X-Remote-Other',
      'keep',
      'X-Remotely',
      'keep',
      'Accept',
      '*/*',
      'Connection',
      'close',
    ]);
  });

  it.each(['headers', 'raw'] as const)(
    'nothing injected reaches a proxy that copies req.%s',
    async (copy) => {
      handle = (req, res) => {
        stripIdentityHeaders(req);
        forward(req, copy).then((lines) => json(res, lines));
      };
      const res = await send(INJECTED);
      expect(JSON.parse(res.body)).toEqual([]);
    },
  );

  it('strips the header names it is given', async () => {
    handle = (req, res) => {
      const removed = stripIdentityHeaders(req, {
        username: 'X-Forwarded-User',
        group: 'X-Forwarded-Groups',
      });
      json(res, { removed, headers: req.headers });
    };
    const res = await send([
      'x-forwarded-user: eve',
      'X-Forwarded-Groups: root',
      'X-Remote-Uid: 1',
    ]);
    const body = JSON.parse(res.body) as { removed: number; headers: Record<string, string> };
    expect(body.removed).toBe(3);
    expect(body.headers).toEqual({ host: 'localhost', connection: 'close' });
  });

  /** Spellings a CGI-, WSGI- or PHP-style server behind reads as an identity header. */
  const LOOK_ALIKES = [
    'X_Remote_User: admin',
    'x-remote_USER: admin',
    'X_REMOTE_GROUP: system:masters',
    'X-Remote_Group: system:masters',
    'x_remote_uid: 0',
    'X_Remote_Extra_Scopes: *',
    'X-Remote-Extra_Scopes: *',
    'x_remote_extra_authentication.kubernetes.io%2fcredential-id: forged',
    'X.Remote.User: admin',
    "x~remote'group: root",
  ];

  it('removes every spelling a server behind may read as an identity header', async () => {
    handle = (req, res) => {
      const removed = stripIdentityHeaders(req);
      json(res, {
        removed,
        headers: req.headers,
        distinct: Object.keys(req.headersDistinct),
        raw: req.rawHeaders,
      });
    };
    const res = await send([
      ...LOOK_ALIKES,
      ...UNRELATED,
      'X_Remotely: keep',
      'X-Remote-Users: keep',
      'XRemoteUser: keep',
    ]);
    const body = JSON.parse(res.body) as {
      removed: number;
      headers: Record<string, string>;
      distinct: string[];
      raw: string[];
    };
    expect(body.removed).toBe(LOOK_ALIKES.length);
    const kept = {
      host: 'localhost',
      'x-remote-other': 'keep',
      'x-remotely': 'keep',
      accept: '*/*',
      x_remotely: 'keep',
      'x-remote-users': 'keep',
      xremoteuser: 'keep',
      connection: 'close',
    };
    expect(body.headers).toEqual(kept);
    expect(body.distinct.sort()).toEqual(Object.keys(kept).sort());
    expect(body.raw.filter((_, i) => i % 2 === 0)).toEqual([
      'Host',
      'X-Remote-Other',
      'X-Remotely',
      'Accept',
      'X_Remotely',
      'X-Remote-Users',
      'XRemoteUser',
      'Connection',
    ]);
  });

  it('removes the spellings of the header names it is given', async () => {
    handle = (req, res) => {
      const removed = stripIdentityHeaders(req, { username: 'X-Forwarded-User' });
      json(res, { removed, raw: req.rawHeaders });
    };
    const res = await send([
      'x_forwarded_user: eve',
      'X-Forwarded_User: eve',
      'X_Remote_Uid: 1',
      'X-Remote-User: not the user header here',
    ]);
    expect(JSON.parse(res.body)).toEqual({
      removed: 3,
      raw: [
        'Host',
        'localhost',
        'X-Remote-User',
        'not the user header here',
        'Connection',
        'close',
      ],
    });
  });

  it('returns 0 and changes nothing when there is nothing to strip', async () => {
    handle = (req, res) => {
      const raw = req.rawHeaders;
      const removed = stripIdentityHeaders(req);
      json(res, { removed, same: req.rawHeaders === raw });
    };
    expect(JSON.parse((await send(UNRELATED)).body)).toEqual({ removed: 0, same: true });
  });
});

describe('setIdentityHeaders', () => {
  it.each(['headers', 'raw'] as const)(
    'a proxy copying req.%s sends exactly the user, never what was injected',
    async (copy) => {
      handle = (req, res) => {
        setIdentityHeaders(req, ZOE);
        forward(req, copy).then((lines) => json(res, lines));
      };
      const res = await send([...INJECTED, ...UNRELATED]);
      // The look-alike passes untouched; the identity lines are the user's, in order.
      expect(JSON.parse(res.body)).toEqual([['x-remote-other', 'keep'], ...ZOE_LINES]);
    },
  );

  it('works after other code shortened rawHeaders in place (the token strategy does)', async () => {
    handle = (req, res) => {
      // What TokenReviewStrategy does after accepting a token, before anything built
      // req.headersDistinct: Node's lazy view would then be built past the end of the list.
      void req.headers;
      removeAuthorizationHeader(req);
      setIdentityHeaders(req, { username: 'bob', groups: ['g'] });
      json(res, { distinct: req.headersDistinct, raw: req.rawHeaders });
    };
    const res = await send(['Authorization: Bearer abcd', 'X-Remote-User: mallory']);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({
      distinct: {
        host: ['localhost'],
        connection: ['close'],
        'x-remote-user': ['bob'],
        'x-remote-group': ['g'],
      },
      raw: [
        'Host',
        'localhost',
        'Connection',
        'close',
        'X-Remote-User',
        'bob',
        'X-Remote-Group',
        'g',
      ],
    });
  });

  it('represents repeated headers as arrays in req.headers, one value as a string', async () => {
    handle = (req, res) => {
      setIdentityHeaders(req, ZOE);
      json(res, {
        user: req.headers['x-remote-user'],
        groups: req.headers['x-remote-group'],
        scopes: req.headersDistinct['x-remote-extra-scopes'],
      });
    };
    const body = JSON.parse((await send(INJECTED)).body) as Record<string, unknown>;
    // Node keeps header text one byte per character: the UTF-8 bytes of "zoë".
    expect(body).toEqual({
      user: Buffer.from('zoë').toString('latin1'),
      groups: ['a,b', 'system:authenticated'],
      scopes: ['s1', 's2'],
    });
  });

  it('writes no uid, group or extra lines for a user without them', async () => {
    handle = (req, res) => {
      setIdentityHeaders(req, { username: 'bob', groups: [] });
      forward(req, 'headers').then((lines) => json(res, lines));
    };
    expect(JSON.parse((await send(INJECTED)).body)).toEqual([['x-remote-user', 'bob']]);
  });

  it('uses the header names it is given, and strips those', async () => {
    handle = (req, res) => {
      setIdentityHeaders(req, ZOE, {
        username: 'X-Forwarded-User',
        uid: 'X-Forwarded-Uid',
        group: 'X-Forwarded-Group',
        extraPrefix: 'X-Forwarded-Extra-',
      });
      forward(req, 'raw').then((lines) => json(res, lines));
    };
    const res = await send(['X-Forwarded-User: mallory', 'x-forwarded-extra-x: y']);
    expect(JSON.parse(res.body)).toEqual(
      ZOE_LINES.map(([name, value]) => [name.replace('x-remote-', 'x-forwarded-'), value]),
    );
  });

  it.each([
    [{ username: '', groups: [] }, /empty name/],
    [{ username: 'a\r\nX-Remote-Group: system:masters', groups: [] }, /user name.*control/],
    [{ username: 'a', groups: ['g\n'] }, /group.*control/],
    [{ username: 'a', groups: [], uid: 'u\0' }, /uid.*control/],
    [{ username: 'a', groups: [], extra: { k: ['\x7f'] } }, /extra value.*control/],
  ])('refuses a user it cannot write: %j', (user, message) => {
    const req = {
      headers: { 'x-remote-user': 'mallory' },
      rawHeaders: ['X-Remote-User', 'mallory'],
    };
    expect(() => setIdentityHeaders(req, user)).toThrow(KubeletAuthError);
    expect(() => setIdentityHeaders(req, user)).toThrow(message);
    // Nothing changed: the caller decides what to do with the request.
    expect(req.rawHeaders).toEqual(['X-Remote-User', 'mallory']);
  });
});

describe('on HTTP/2 compatibility requests', () => {
  /** An HTTP/2 (cleartext) server: `rawHeaders` and `headers` are getters there. */
  let h2: Http2Server;
  let handleH2: (req: Http2ServerRequest, streamHeaders: IncomingHttpHeaders) => unknown;
  beforeAll(async () => {
    h2 = createH2Server();
    let streamHeaders: IncomingHttpHeaders = {};
    h2.on('stream', (_stream, headers) => (streamHeaders = headers));
    h2.on('request', (req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(handleH2(req, streamHeaders)));
    });
    await new Promise<void>((resolve) => h2.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => h2.close(() => resolve())));

  /** One HTTP/2 request with these header fields; the JSON answer. */
  function sendH2(fields: Record<string, string | string[]>): Promise<unknown> {
    const session = h2connect(`http://127.0.0.1:${(h2.address() as AddressInfo).port}`);
    return new Promise((resolve, reject) => {
      const stream = session.request({ ':path': '/x', ...fields });
      let body = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (body += chunk));
      stream.on('end', () => {
        session.close();
        resolve(JSON.parse(body));
      });
      stream.on('error', reject);
      stream.end();
    });
  }
  const FORGED = {
    'x-remote-user': 'admin',
    'x-remote-group': ['system:masters', 'admins'],
    x_remote_user: 'admin',
    'x-remote_extra_scopes': '*',
    accept: '*/*',
  };
  const regular = (lines: readonly string[]) =>
    lines.filter((_, i) => !(lines[i - (i % 2)] as string).startsWith(':'));

  it('strips from req.headers, req.rawHeaders and the headers the stream carries', async () => {
    handleH2 = (req, streamHeaders) => ({
      removed: stripIdentityHeaders(req),
      headers: Object.keys(req.headers).filter((k) => !k.startsWith(':')),
      raw: regular(req.rawHeaders),
      stream: Object.keys(streamHeaders).filter((k) => !k.startsWith(':')),
    });
    expect(await sendH2(FORGED)).toEqual({
      removed: 5,
      headers: ['accept'],
      raw: ['accept', '*/*'],
      stream: ['accept'],
    });
  });

  it('setIdentityHeaders leaves exactly the user in req.headers and req.rawHeaders', async () => {
    handleH2 = (req) => {
      setIdentityHeaders(req, { username: 'bob', groups: ['g1', 'g2'] });
      return {
        user: req.headers['x-remote-user'],
        groups: req.headers['x-remote-group'],
        raw: regular(req.rawHeaders),
      };
    };
    expect(await sendH2(FORGED)).toEqual({
      user: 'bob',
      groups: ['g1', 'g2'],
      raw: [
        'accept',
        '*/*',
        'X-Remote-User',
        'bob',
        'X-Remote-Group',
        'g1',
        'X-Remote-Group',
        'g2',
      ],
    });
  });
});

describe('a request whose header views are getters that build a new copy on each read', () => {
  class CopyingRequest {
    private readonly lines = ['X-Remote-User', 'mallory', 'X_Remote_Group', 'root', 'A', 'b'];
    get rawHeaders(): string[] {
      return [...this.lines];
    }
    get headers(): Record<string, string> {
      const headers: Record<string, string> = {};
      for (let i = 0; i < this.lines.length; i += 2) {
        headers[(this.lines[i] as string).toLowerCase()] = this.lines[i + 1] as string;
      }
      return headers;
    }
  }

  it('is shadowed by the edited views, so the edit is what every later reader sees', () => {
    const req = new CopyingRequest();
    expect(stripIdentityHeaders(req)).toBe(2);
    expect(req.rawHeaders).toEqual(['A', 'b']);
    expect(req.headers).toEqual({ a: 'b' });
    setIdentityHeaders(req, { username: 'bob', groups: [] });
    expect(req.rawHeaders).toEqual(['A', 'b', 'X-Remote-User', 'bob']);
    expect(req.headers).toEqual({ a: 'b', 'x-remote-user': 'bob' });
  });
});

describe('identityHeaders middleware', () => {
  const errors: string[] = [];
  const logger: Logger = { error: (m) => errors.push(m), warn: (m) => errors.push(`warn: ${m}`) };
  beforeEach(() => {
    errors.length = 0;
  });

  /** connect(): optional "authentication" putting a user on req.user, the middleware, a proxy. */
  function serve(options: IdentityHeadersOptions, user?: KubeUser): void {
    const stack = connectApp();
    if (user)
      stack.use((req: IncomingMessage, _res: ServerResponse, next: () => void) => {
        (req as IncomingMessage & { user?: KubeUser }).user = user;
        next();
      });
    stack.use(identityHeaders({ logger, ...options }));
    stack.use((req: IncomingMessage, res: ServerResponse) => {
      forward(req, 'headers').then((lines) => json(res, lines));
    });
    handle = stack as unknown as typeof handle;
  }

  it('replaces inbound identity headers with req.user', async () => {
    serve({}, ZOE);
    const res = await send(INJECTED);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual(ZOE_LINES);
  });

  it('without req.user, only strips', async () => {
    serve({});
    expect(JSON.parse((await send(INJECTED)).body)).toEqual([]);
  });

  it('with set: false, only strips even when there is a user', async () => {
    serve({ set: false }, ZOE);
    expect(JSON.parse((await send(INJECTED)).body)).toEqual([]);
  });

  it('answers 500 for a user that cannot be written, and logs why without the value', async () => {
    serve({}, { username: 'eve\nX-Remote-Group: system:masters', groups: [] });
    const res = await send(INJECTED);
    expect(res.status).toBe(500);
    expect(res.body).toBe('Internal Server Error');
    expect(errors).toEqual([
      'identity headers not sent: user name holds a control character and cannot be sent as a header',
    ]);
  });

  it.each([
    [
      { headers: { username: 'X Remote User' } },
      'identityHeaders: headers.username: not a header name',
    ],
    [{ headers: { extraPrefix: '' } }, 'identityHeaders: headers.extraPrefix: not a header name'],
    [{ headers: { usrname: 'X-User' } }, 'identityHeaders: headers: unknown option "usrname"'],
    [{ headers: { Username: 'X-User' } }, '(did you mean "username"?)'],
    [{ set: 'yes' }, 'identityHeaders: set: expected true or false, got "yes"'],
    [null, 'identityHeaders: options must be an object'],
  ])('bad options throw a TypeError naming the option: %j', (options, message) => {
    expect(() => identityHeaders(options as IdentityHeadersOptions)).toThrow(KubeletAuthError);
    expect(() => identityHeaders(options as IdentityHeadersOptions)).toThrow(message);
  });
});
