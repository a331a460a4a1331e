import { describe, expect, it } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import {
  authorizationHeader,
  parseBearerToken,
  removeAuthorizationHeader,
} from '../../lib/authn/bearer.js';

describe('parseBearerToken (the kubelet’s header reading, k8s.io/apiserver bearertoken)', () => {
  it.each([
    ['Bearer tok', 'tok'],
    ['bearer tok', 'tok'],
    ['BEARER tok', 'tok'],
    ['bEaReR tok', 'tok'],
    ['Bearer a b', 'a'],
    ['Bearer a b c d', 'a'],
    ['   Bearer tok  ', 'tok'],
    ['\tBearer tok\t', 'tok'],
  ])('%j → token %j', (header, token) => {
    expect(parseBearerToken(header)).toBe(token);
  });

  it.each([
    [undefined],
    [''],
    ['   '],
    ['Bearer'],
    ['Bearer '],
    ['Bearer  tok'], // two spaces: the token part is empty
    ['Bearer\ttok'], // tabs are not separators
    ['Basic dXNlcjpwYXNz'],
    ['Token tok'],
    ['Bearez tok'],
    ['Bearers tok'],
    ['Bearer\u0130 tok'], // a letter that lower-cases to more than one character
    ['tok'],
  ])('%j → no bearer token (not an error)', (header) => {
    expect(parseBearerToken(header)).toBeUndefined();
  });
});

describe('removeAuthorizationHeader', () => {
  it('removes the header from headers and every copy from rawHeaders', () => {
    const req = {
      headers: { authorization: 'Bearer tok', host: 'x' } as Record<string, string>,
      rawHeaders: ['Host', 'x', 'Authorization', 'Bearer tok', 'authorization', 'Bearer two'],
    };
    removeAuthorizationHeader(req);
    expect(req.headers).toEqual({ host: 'x' });
    expect(req.rawHeaders).toEqual(['Host', 'x']);
  });

  it('edits the headers object in place, the other keys kept in their order and values', () => {
    const headers: Record<string, string | string[]> = {
      host: 'x',
      'user-agent': 'p',
      authorization: 'Bearer tok',
      accept: '*/*',
      'x-b': ['1', '2'],
    };
    const req = { headers, rawHeaders: ['Host', 'x', 'Authorization', 'Bearer tok'] };
    removeAuthorizationHeader(req);
    expect(req.headers).toBe(headers);
    expect(Object.entries(headers)).toEqual([
      ['host', 'x'],
      ['user-agent', 'p'],
      ['accept', '*/*'],
      ['x-b', ['1', '2']],
    ]);
  });

  it.each([
    [
      'a key after it that cannot be deleted',
      (h: Record<string, unknown>) =>
        Object.defineProperty(h, 'x-fixed', { value: 'f', enumerable: true }),
    ],
    [
      'an object that takes no new keys',
      (h: Record<string, unknown>) => {
        h['x-after'] = 'a';
        return Object.preventExtensions(h);
      },
    ],
    [
      'an own __proto__ key after it',
      (h: Record<string, unknown>) =>
        Object.defineProperty(h, '__proto__', {
          value: ['a'],
          enumerable: true,
          writable: true,
          configurable: true,
        }),
    ],
  ])('removes the header from an unusual headers object too: %s', (_name, shape) => {
    const headers: Record<string, unknown> = { host: 'x', authorization: 'Bearer tok' };
    shape(headers);
    if (Object.isExtensible(headers)) headers['x-last'] = 'l';
    const before = Object.entries(headers).filter(([key]) => key !== 'authorization');
    const req = {
      headers: headers as Record<string, string>,
      rawHeaders: ['Authorization', 'Bearer tok'],
    };
    removeAuthorizationHeader(req);
    expect(req.headers).toBe(headers);
    expect(Object.entries(headers)).toEqual(before);
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect(req.rawHeaders).toEqual([]);
  });

  it('keeps the other lines in order, and a trailing name without a value', () => {
    const req = {
      headers: {} as Record<string, string>,
      rawHeaders: [
        'Authorization',
        'Bearer a',
        'X-A',
        '1',
        'authorization',
        'b',
        'X-B',
        '2',
        'X-C',
      ],
    };
    removeAuthorizationHeader(req);
    expect(req.rawHeaders).toEqual(['X-A', '1', 'X-B', '2', 'X-C']);
  });

  it.each([
    ['no view built before', []],
    ['headers read before', ['headers']],
    ['headersDistinct read before', ['headersDistinct']],
    ['both read before', ['headers', 'headersDistinct']],
  ] as const)(
    'reads the first Authorization line and leaves every view of a real request consistent: %s',
    async (_name, readFirst) => {
      const { createServer } = await import('node:http');
      const { connect } = await import('node:net');
      let seen: { before?: string; headers: unknown; distinct: unknown; raw: string[] } | undefined;
      const server = createServer((req, res) => {
        for (const view of readFirst) void req[view];
        const before = authorizationHeader(req);
        removeAuthorizationHeader(req);
        // Node builds its header views lazily from the lines it parsed: read after the raw list
        // shrank, they must show what is left (reading headersDistinct used to throw here).
        seen = {
          ...(before === undefined ? {} : { before }),
          headers: { ...req.headers },
          distinct: { ...req.headersDistinct },
          raw: [...req.rawHeaders],
        };
        res.end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address() as AddressInfo;
        // Two Authorization lines (Node keeps the first) in two spellings, and other headers
        // around them, one of them a name of the same length.
        const request =
          'GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nAuthorization: Bearer one\r\n' +
          'X-B: 2\r\naUTHORIZATION: Bearer two\r\nAuthorizatio0: kept\r\n' +
          'Connection: close\r\n\r\n';
        const answer = await new Promise<string>((resolve, reject) => {
          const socket = connect(port, '127.0.0.1', () => socket.end(request));
          let text = '';
          socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
          socket.on('end', () => resolve(text));
          socket.on('error', reject);
        });
        expect(answer.startsWith('HTTP/1.1 200')).toBe(true);
        expect(seen).toEqual({
          before: 'Bearer one',
          headers: {
            host: 'h',
            'x-a': '1',
            'x-b': '2',
            authorizatio0: 'kept',
            connection: 'close',
          },
          distinct: {
            host: ['h'],
            'x-a': ['1'],
            'x-b': ['2'],
            authorizatio0: ['kept'],
            connection: ['close'],
          },
          raw: [
            'Host',
            'h',
            'X-A',
            '1',
            'X-B',
            '2',
            'Authorizatio0',
            'kept',
            'Connection',
            'close',
          ],
        });
      } finally {
        server.close();
      }
    },
  );

  it('reads the first Authorization value from a plain request object too', () => {
    expect(authorizationHeader({ headers: { authorization: 'Bearer a' } })).toBe('Bearer a');
    expect(authorizationHeader({ headers: { authorization: ['Bearer a', 'Bearer b'] } })).toBe(
      'Bearer a',
    );
    expect(authorizationHeader({ headers: {} })).toBeUndefined();
  });
});
