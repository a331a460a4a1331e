import { describe, expect, it } from '@jest/globals';
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
      headers: { authorization: 'Bearer tok', host: 'x' } as Record<string, unknown>,
      rawHeaders: ['Host', 'x', 'Authorization', 'Bearer tok', 'authorization', 'Bearer two'],
    };
    removeAuthorizationHeader(req);
    expect(req.headers).toEqual({ host: 'x' });
    expect(req.rawHeaders).toEqual(['Host', 'x']);
  });
});
