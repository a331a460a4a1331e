import { describe, expect, it } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import { parseBearerToken, removeAuthorizationHeader } from '../../lib/authn/bearer.js';

describe('parseBearerToken (the kubelet’s header reading, spec §2.5)', () => {
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

  it('leaves every view of a real request consistent (headersDistinct read afterwards)', async () => {
    const { createServer } = await import('node:http');
    const seen: unknown[] = [];
    const server = createServer((req, res) => {
      if (req.url === '/read-first') void req.headersDistinct;
      removeAuthorizationHeader(req);
      // Node builds headersDistinct lazily from the lines it parsed: reading it after the raw
      // list shrank used to throw in the route.
      seen.push(req.headersDistinct, req.rawHeaders, req.headers.authorization);
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      // Read before the removal (already built) and after it (built lazily from what is left).
      for (const path of ['/', '/read-first']) {
        seen.length = 0;
        const response = await fetch(`http://127.0.0.1:${port}${path}`, {
          headers: { authorization: 'Bearer tok', 'x-a': '1', 'x-b': '2' },
        });
        expect(response.status).toBe(200);
        const [distinct, raw, header] = seen as [Record<string, string[]>, string[], unknown];
        expect(distinct['x-a']).toEqual(['1']);
        expect(distinct['x-b']).toEqual(['2']);
        expect(distinct.authorization).toBeUndefined();
        expect(raw.map((l) => l.toLowerCase())).not.toContain('authorization');
        expect(raw.map((l) => l.toLowerCase())).toContain('x-b');
        expect(header).toBeUndefined();
      }
    } finally {
      server.close();
    }
  });
});
