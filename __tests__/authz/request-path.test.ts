import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { checkRequestPath, PATH_REFUSALS, requestPath } from '../../lib/authz/request-path.js';

describe('requestPath: the decoded URL path the kubelet authorizes', () => {
  it.each([
    ['/stats/summary', '/stats/summary'],
    ['/stats/summary?only_cpu_and_memory=true', '/stats/summary'],
    ['/%73tats/summary', '/stats/summary'],
    ['//stats/summary', '//stats/summary'],
    ['/stats//summary', '/stats//summary'],
    ['/stats/.hidden', '/stats/.hidden'],
    ['/stats/...', '/stats/...'],
    ['/stats.', '/stats.'],
    ['/a+b', '/a+b'],
    ['/caf%C3%A9', '/café'],
    ['http://node-a:10250/pods?x=1', '/pods'],
    ['*', '*'],
  ])('%j → %j', (url, path) => {
    expect(requestPath({ url })).toBe(path);
  });

  it('prefers originalUrl, which Express keeps when routers strip a mount path', () => {
    expect(requestPath({ url: '/summary', originalUrl: '/stats/summary' })).toBe('/stats/summary');
  });

  it.each([
    '/stats/%',
    '/stats/%2',
    '/stats/%zz',
    '/%G0',
    '/stats/../exec/ns/p/c',
    '/stats/./summary',
    '/stats/..',
    '/..',
    '/.',
    '/stats/%2e%2e/exec/ns/p/c',
    '/stats/%2E./exec',
    '/stats%2Fsummary',
    '/stats%2f..%2fexec',
    '/stats%5C..%5Cexec',
    '/stats/summary%00',
    '/stats/%0a',
    '/stats/%7f',
  ])('%j is a bad request', (url) => {
    expect(requestPath({ url })).toBeUndefined();
  });
});

describe('checkRequestPath: the rule behind each 400', () => {
  it.each([
    ['/stats/summary?x=1', '/stats/summary'],
    ['/stats%2Fsummary', { refused: PATH_REFUSALS.encodedSeparator }],
    ['/stats/%zz', { refused: PATH_REFUSALS.badEscape }],
    ['/stats/summary%00', { refused: PATH_REFUSALS.control }],
    ['/stats/%2e%2e/exec', { refused: PATH_REFUSALS.dotSegment }],
    ['/stats/../exec', { refused: PATH_REFUSALS.dotSegment }],
    ['http://[bad/x', { refused: PATH_REFUSALS.unparseable }],
    ['/../x%01', { refused: PATH_REFUSALS.control }],
  ])('%j → %j', (url, expected) => {
    expect(checkRequestPath({ url })).toEqual(expected);
  });

  it('refuses control characters, then "." and ".." segments, exactly where these patterns match', () => {
    // The rules as patterns (an independent statement of them): a control character anywhere;
    // a segment that is exactly "." or "..".
    // eslint-disable-next-line no-control-regex
    const control = /[\u0000-\u001f\u007f]/;
    const dotSegment = /(^|\/)\.{1,2}(\/|$)/;
    const piece = fc.constantFrom('/', '.', '..', 'a', 'é', ' ', '\u0000', '\u001f', '\u007f', '~');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const path = `/${pieces.join('')}`;
        const expected = control.test(path)
          ? { refused: PATH_REFUSALS.control }
          : dotSegment.test(path)
            ? { refused: PATH_REFUSALS.dotSegment }
            : path;
        expect(checkRequestPath({ url: path })).toEqual(expected);
      }),
      { numRuns: 5000 },
    );
  });
});
