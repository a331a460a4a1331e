import { describe, expect, it } from '@jest/globals';
import type { IncomingMessage } from 'node:http';
import { nonResourceAttributes } from '../../lib/authz/non-resource.js';
import { subjectAccessReviewSpec } from '../../lib/authz/subject-access-review.js';
import type { NonResourceAttributesOptions } from '../../lib/authz/non-resource.js';
import { KubeletAuthError } from '../../lib/errors.js';
import type { Attributes } from '../../lib/contracts.js';

const user = { username: 'reader', groups: ['system:authenticated'] };
const request = (method: string, url: string) => ({ method, url }) as unknown as IncomingMessage;

/** The one record derived for a request. */
function only(options: NonResourceAttributesOptions | undefined, method: string, path: string) {
  const result = nonResourceAttributes(options)(request(method, path), user, path);
  if (!Array.isArray(result) || result.length !== 1) throw new Error('expected one record');
  return result[0] as Attributes;
}

describe('nonResourceAttributes', () => {
  it('asks one non-resource check: the path and the lower-case method', () => {
    const derive = nonResourceAttributes();
    expect(derive(request('GET', '/metrics?x=1'), user, '/metrics')).toEqual([
      {
        user,
        verb: 'get',
        namespace: '',
        apiGroup: '',
        apiVersion: '',
        resource: '',
        subresource: '',
        name: '',
        resourceRequest: false,
        path: '/metrics',
      },
    ]);
  });

  it('sends exactly nonResourceAttributes { path, verb } and the user', () => {
    expect(subjectAccessReviewSpec(only(undefined, 'GET', '/healthz'))).toEqual({
      nonResourceAttributes: { path: '/healthz', verb: 'get' },
      user: 'reader',
      groups: ['system:authenticated'],
    });
  });

  it.each([
    // method, default ('http'), 'kubelet', a record
    ['GET', 'get', 'get', 'get'],
    ['HEAD', 'head', 'get', 'get'],
    ['OPTIONS', 'options', '', ''],
    ['POST', 'post', 'create', ''],
    ['DELETE', 'delete', 'delete', ''],
  ])(
    '%s → %j by default, %j with kubelet verbs, %j with a record',
    (method, http, kubelet, own) => {
      const verbOf = (options?: NonResourceAttributesOptions) => only(options, method, '/x').verb;
      expect(verbOf()).toBe(http);
      expect(verbOf({ verbs: 'http' })).toBe(http);
      expect(verbOf({ verbs: 'kubelet' })).toBe(kubelet);
      expect(verbOf({ verbs: { GET: 'get', HEAD: 'get' } })).toBe(own);
    },
  );

  it('uses the path it is given (decoded by the middleware), not the raw URL', () => {
    const record = nonResourceAttributes()(request('GET', '/a%20b'), user, '/a b');
    expect(record).toEqual([expect.objectContaining({ path: '/a b' })]);
  });

  it.each([
    [{ verb: 'http' }, /nonResourceAttributes: unknown option "verb"/],
    [{ verbs: 'HTTP' }, /nonResourceAttributes: verbs: expected 'kubelet', 'http'/],
    [{ verbs: { get: 'get' } }, /nonResourceAttributes: verbs: method "get" would never match/],
    [null, /nonResourceAttributes: options must be an object/],
  ])('%j throws a TypeError at construction', (options, message) => {
    const build = () => nonResourceAttributes(options as NonResourceAttributesOptions);
    expect(build).toThrow(KubeletAuthError);
    expect(build).toThrow(message);
  });
});
