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
    ['HTTPS://user@node-a:10250/pods#x', '/pods'],
    ['http://node-a', '/'],
    ['http://node-a?x=1', '/'],
    ["http://h/it's", "/it's"],
    ['/stats/summary#fragment', '/stats/summary'],
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
    '/stats\\summary',
    'http://h/stats/../exec/ns/p/c',
    'http://h/stats/%2e%2e/exec/ns/p/c',
    'http://h/stats/./summary',
    'http://h/stats/..',
    'http://h/..',
    'http://h/stats%2Fsummary',
    'http://h/stats/summary%00',
    'http://h/stats\\..\\exec',
    '/stats\\..\\exec#x',
    'http://h;/stats',
    'ftp:stats',
    '*x',
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
    ['http://h;x/stats', { refused: PATH_REFUSALS.unparseable }],
    ['/stats\\..\\exec', { refused: PATH_REFUSALS.backslash }],
    ['http://h/stats\\summary', { refused: PATH_REFUSALS.backslash }],
    ['/stats/summary?path=C:\\x', '/stats/summary'],
    ['/metrics\u00a0', { refused: PATH_REFUSALS.whitespace }],
    ['/metrics ', { refused: PATH_REFUSALS.whitespace }],
    ['http://h/logs/x/../../stats/summary', { refused: PATH_REFUSALS.dotSegment }],
    ['http://h/logs/x/%2e%2e/%2E%2E/stats/summary', { refused: PATH_REFUSALS.dotSegment }],
    ['http://h/logs%2F..%2Fstats', { refused: PATH_REFUSALS.encodedSeparator }],
    ['/../x%01', { refused: PATH_REFUSALS.control }],
  ])('%j → %j', (url, expected) => {
    expect(checkRequestPath({ url })).toEqual(expected);
  });

  it('refuses control characters, then "." and ".." segments, exactly where these patterns match', () => {
    // The rules as patterns (an independent statement of them): a control character anywhere;
    // a space as sent; a segment that is exactly "." or "..".
    // eslint-disable-next-line no-control-regex
    const control = /[\u0000-\u001f\u007f]/;
    const dotSegment = /(^|\/)\.{1,2}(\/|$)/;
    const piece = fc.constantFrom('/', '.', '..', 'a', 'é', ' ', '\u0000', '\u001f', '\u007f', '~');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const path = `/${pieces.join('')}`;
        const expected = control.test(path)
          ? { refused: PATH_REFUSALS.control }
          : path.includes(' ')
            ? { refused: PATH_REFUSALS.whitespace }
            : dotSegment.test(path)
              ? { refused: PATH_REFUSALS.dotSegment }
              : path;
        expect(checkRequestPath({ url: path })).toEqual(expected);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('absolute-form: checked and derived exactly as its origin form', () => {
  it('gives an absolute-form target the answer of its path as origin-form, for any path', () => {
    const piece = fc.constantFrom(
      '/',
      '.',
      '..',
      'a',
      'S',
      '%2e',
      '%2E',
      '%2f',
      '%5c',
      '%41',
      '%zz',
      '%00',
      '\\',
      ';',
      "'",
      '~',
      '@',
      ':',
    );
    const authority = fc.constantFrom('h', 'node-a:10250', 'user@h', '127.0.0.1:1', '[::1]:2');
    fc.assert(
      fc.property(
        fc.constantFrom('http', 'https', 'HTTP'),
        authority,
        fc.array(piece, { maxLength: 10 }),
        fc.constantFrom('', '?q=1', '?a/../b', '#f'),
        (scheme, host, pieces, tail) => {
          const path = `/${pieces.join('')}`;
          // A fragment sends an origin-form target through url.parse, which reads `//a@b` as
          // an authority: not a path either form shares.
          fc.pre(!(tail === '#f' && path.startsWith('//')));
          expect(checkRequestPath({ url: `${scheme}://${host}${path}${tail}` })).toEqual(
            checkRequestPath({ url: `${path}${tail}` }),
          );
        },
      ),
      { numRuns: 3000 },
    );
  });
});
