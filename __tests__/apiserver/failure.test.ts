import { describe, expect, it } from '@jest/globals';
import { classifyFailure, type ReviewFailure } from '../../lib/apiserver/failure.js';

describe('classifyFailure', () => {
  it.each<[string, ReviewFailure, boolean]>([
    ['our deadline passed', { timedOut: true }, false],
    ['connection refused', { networkCode: 'ECONNREFUSED' }, false],
    ['connection reset', { networkCode: 'ECONNRESET' }, true],
    ['broken pipe', { networkCode: 'EPIPE' }, true],
    ['connect timeout of the system', { networkCode: 'ETIMEDOUT' }, false],
    ['host unreachable', { networkCode: 'EHOSTUNREACH' }, false],
    ['name not resolved', { networkCode: 'ENOTFOUND' }, false],
    ['body cut short (node-fetch)', { networkCode: 'ERR_STREAM_PREMATURE_CLOSE' }, false],
    [
      'body cut short after a 200 status line',
      { networkCode: 'ERR_STREAM_PREMATURE_CLOSE', status: 200 },
      false,
    ],
    ['socket closed (undici)', { networkCode: 'UND_ERR_SOCKET' }, false],
    ['headers timeout (undici)', { networkCode: 'UND_ERR_HEADERS_TIMEOUT' }, false],
    ['HTTP/2 session lost', { networkCode: 'ERR_HTTP2_GOAWAY_SESSION' }, true],
    ['HTTP 500', { status: 500 }, true],
    ['HTTP 502', { status: 502 }, false],
    ['HTTP 503', { status: 503 }, false],
    ['HTTP 503 with Retry-After', { status: 503, retryAfter: true }, true],
    ['HTTP 504', { status: 504 }, true],
    ['HTTP 429', { status: 429 }, true],
  ])('no answer: %s (stale may be served)', (_name, failure, retryable) => {
    expect(classifyFailure(failure)).toEqual({ retryable, unavailable: true });
  });

  it.each<[string, ReviewFailure, boolean]>([
    ['an unreadable 2xx (no status, no network code)', {}, false],
    ['HTTP 400', { status: 400 }, false],
    ['HTTP 401 to our own credentials', { status: 401 }, false],
    ['HTTP 403 to our own credentials', { status: 403 }, false],
    ['HTTP 403 with Retry-After (retried, as upstream)', { status: 403, retryAfter: true }, true],
    ['HTTP 404', { status: 404 }, false],
    ['HTTP 422', { status: 422 }, false],
    ['HTTP 301', { status: 301 }, false],
    [
      'a TLS failure (server certificate not trusted)',
      { networkCode: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' },
      false,
    ],
    ['a code not known', { networkCode: 'ERR_SOMETHING_NEW' }, false],
  ])('an answer, or not known to be none: %s (never stale)', (_name, failure, retryable) => {
    expect(classifyFailure(failure)).toEqual({ retryable, unavailable: false });
  });
});
