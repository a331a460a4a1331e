import { describe, expect, it } from '@jest/globals';
import { kubeletRequestAttributes } from '../../lib/authz/attributes.js';
import { alwaysAllowGroups, alwaysAllowPaths } from '../../lib/authz/always-allow.js';
import { alwaysDeny, unionAuthorizer } from '../../lib/authz/authorizer.js';
import type { Attributes, Authorizer } from '../../lib/contracts.js';
import type { KubeUser } from '../../lib/user.js';
import { KubeletAuthError } from '../../lib/errors.js';

const ALICE: KubeUser = { username: 'alice', groups: ['devs', 'system:authenticated'] };

/** A non-resource record, as an app's own attributes function would make. */
function nonResource(path: string, user: KubeUser = ALICE, verb = 'get'): Attributes {
  return {
    user,
    verb,
    namespace: '',
    apiGroup: '',
    apiVersion: '',
    resource: '',
    subresource: '',
    name: '',
    resourceRequest: false,
    path,
  };
}

/** The kubelet's first record for GET `path` (`nodes/<subresource>`, a resource request). */
function kubelet(path: string, user: KubeUser = ALICE, method = 'GET'): Attributes {
  return kubeletRequestAttributes(user, method, path, { nodeName: 'node-a' })[0] as Attributes;
}

/** The decision from `authorize`, after checking `peek` gives the very same result. */
async function decide(authorizer: Authorizer, attributes: Attributes): Promise<string> {
  const result = await authorizer.authorize(attributes);
  expect(authorizer.peek?.(attributes)).toBe(result);
  expect(result.error).toBeUndefined();
  return result.decision;
}

describe('alwaysAllowPaths: upstream TestNewAuthorizer (pkg/authorization/path)', () => {
  // Upstream's table, minus the paths without a leading "/" (a decoded request path has one).
  it.each<[name: string, patterns: string[], allowed: string[], noOpinion: string[]]>([
    ['empty', [], [], ['/']],
    ['slash', ['/'], ['/'], ['/foo', '//']],
    ['foo', ['/foo'], ['/foo'], ['/', '/bar', '/foo/', '/fooooo', '//foo']],
    ['foo slash', ['/foo/'], ['/foo/'], ['/', '/bar', '/foo', '/fooooo']],
    ['foo slash star', ['/foo/*'], ['/foo/', '/foo/bar/bla'], ['/', '/foo', '/bar', '/fooooo']],
    ['foo bar', ['/foo', '/bar'], ['/foo', '/bar'], ['/', '/foo/', '/bar/', '/fooooo']],
    ['foo star', ['/foo*'], ['/foo', '/foooo'], ['/', '/fo', '/bar']],
    ['star', ['/*'], ['/', '/foo', '/foooo'], []],
  ])('%s: %j', async (_name, patterns, allowed, noOpinion) => {
    const authorizer = alwaysAllowPaths(patterns);
    for (const path of allowed) {
      expect([path, await decide(authorizer, nonResource(path))]).toEqual([path, 'Allow']);
    }
    for (const path of noOpinion) {
      expect([path, await decide(authorizer, nonResource(path))]).toEqual([path, 'NoOpinion']);
    }
  });

  it.each([['/foo*bar'], ['/foo**'], ['/*/x']])('%j is refused: "*" only at the end', (p) => {
    expect(() => alwaysAllowPaths([p])).toThrow(
      new KubeletAuthError(
        'ERR_INVALID_OPTION',
        `alwaysAllowPaths: paths[0] (${JSON.stringify(p)}) may have one "*", only at the end`,
      ),
    );
  });
});

describe('alwaysAllowPaths: prefix tricks do not pass', () => {
  const authorizer = alwaysAllowPaths(['/healthz', '/debug/*']);

  it.each([
    ['/healthzx', 'a longer name is not the path'],
    ['/healthz/', 'a trailing slash is another path (as upstream)'],
    ['//healthz', 'a doubled slash is another path'],
    ['/HEALTHZ', 'matching is case-sensitive'],
    ['/Healthz', 'matching is case-sensitive'],
    ['/%2Fhealthz', 'a literal "%2F" (from %252F) is not a separator'],
    ['%2Fhealthz', 'no leading slash'],
    ['/healthz ', 'trailing space'],
    ['/debug', '"/debug/*" is what is under /debug/, not /debug itself'],
    ['/debugger/x', '"/debug/*" does not match /debugger'],
    ['', 'an empty path'],
  ])('%j: NoOpinion (%s)', async (path) => {
    expect(await decide(authorizer, nonResource(path))).toBe('NoOpinion');
    expect(await decide(authorizer, { ...kubelet('/x'), path })).toBe('NoOpinion');
  });

  it('allows the listed path and what is under a prefix, naming the pattern', async () => {
    expect(await authorizer.authorize(nonResource('/healthz'))).toEqual({
      decision: 'Allow',
      reason: 'allowed by always-allow path /healthz',
    });
    expect(await authorizer.authorize(nonResource('/debug/pprof/heap'))).toEqual({
      decision: 'Allow',
      reason: 'allowed by always-allow path /debug/*',
    });
  });
});

describe('alwaysAllowPaths: resource requests match on their path too', () => {
  // Unlike upstream (non-resource only): behind the kubelet's attributes every request is a
  // resource request whose `path` is the real request path.
  it.each([
    ['/healthz', 'Allow'],
    ['/healthz/ping', 'NoOpinion'],
    ['/pods', 'NoOpinion'],
    ['/metrics', 'NoOpinion'],
  ])('the kubelet’s records for GET %s: %s', async (path, expected) => {
    const authorizer = alwaysAllowPaths(['/healthz']);
    const records = kubeletRequestAttributes(ALICE, 'GET', path, { nodeName: 'node-a' });
    expect(records.every((r) => r.resourceRequest)).toBe(true);
    for (const record of records) expect(await decide(authorizer, record)).toBe(expected);
  });

  it('any verb, any user (anonymous included): authorization by path alone', async () => {
    const authorizer = alwaysAllowPaths(['/healthz']);
    const anonymous = { username: 'system:anonymous', groups: ['system:unauthenticated'] };
    expect(await decide(authorizer, kubelet('/healthz', anonymous))).toBe('Allow');
    expect(await decide(authorizer, kubelet('/healthz', ALICE, 'POST'))).toBe('Allow');
  });
});

describe('alwaysAllowPaths: configuration', () => {
  it.each<[unknown, string]>([
    ['healthz', 'alwaysAllowPaths: paths[0] ("healthz") must start with "/"'],
    ['', 'alwaysAllowPaths: paths[0] ("") must start with "/"'],
    ['*', 'alwaysAllowPaths: paths[0] ("*") must start with "/"'],
    [
      '/a%2Fb',
      'alwaysAllowPaths: paths[0] ("/a%2Fb") has a "%": paths are matched decoded, so write the character itself',
    ],
    [
      '/healthz/../pods',
      'alwaysAllowPaths: paths[0] ("/healthz/../pods") has a "." or ".." segment, which no accepted request path has',
    ],
    [
      '/./healthz',
      'alwaysAllowPaths: paths[0] ("/./healthz") has a "." or ".." segment, which no accepted request path has',
    ],
    [
      '/healthz/..',
      'alwaysAllowPaths: paths[0] ("/healthz/..") has a "." or ".." segment, which no accepted request path has',
    ],
    [
      '/a/../*',
      'alwaysAllowPaths: paths[0] ("/a/../*") has a "." or ".." segment, which no accepted request path has',
    ],
    [
      '/healthz?verbose',
      'alwaysAllowPaths: paths[0] ("/healthz?verbose") has a "?" or "#": paths are matched without the query',
    ],
    [42, 'alwaysAllowPaths: paths[0] must be a string'],
  ])('%j throws a TypeError naming alwaysAllowPaths', (pattern, message) => {
    expect(() => alwaysAllowPaths([pattern as string])).toThrow(
      new KubeletAuthError('ERR_INVALID_OPTION', message),
    );
  });

  it('the list itself must be a list', () => {
    expect(() => alwaysAllowPaths('/healthz' as unknown as string[])).toThrow(
      new KubeletAuthError('ERR_INVALID_OPTION', 'alwaysAllowPaths: paths must be a list of paths'),
    );
  });

  it('names the failing index', () => {
    expect(() => alwaysAllowPaths(['/healthz', 'readyz'])).toThrow(/^alwaysAllowPaths: paths\[1\]/);
  });

  it.each([['/.well-known/openid-configuration'], ['/static/.*'], ['/a..b'], ['/...']])(
    '%j is a valid pattern (dots inside a segment are not dot segments)',
    async (pattern) => {
      const authorizer = alwaysAllowPaths([pattern]);
      const path = pattern.endsWith('*') ? `${pattern.slice(0, -1)}env` : pattern;
      expect(await decide(authorizer, nonResource(path))).toBe('Allow');
    },
  );
});

describe('alwaysAllowGroups: the privileged-groups authorizer', () => {
  const authorizer = alwaysAllowGroups(['system:masters', 'ops']);

  it.each<[string, KubeUser, string | undefined]>([
    ['system:masters', { username: 'admin', groups: ['system:masters'] }, 'system:masters'],
    ['ops among others', { username: 'o', groups: ['devs', 'ops', 'system:masters'] }, 'ops'],
    ['no listed group', { username: 'alice', groups: ['devs', 'system:authenticated'] }, undefined],
    ['no groups', { username: 'bob', groups: [] }, undefined],
    ['a user named like the group', { username: 'system:masters', groups: [] }, undefined],
    ['group names are exact', { username: 'x', groups: ['System:Masters', 'ops '] }, undefined],
    ['anonymous', { username: 'system:anonymous', groups: ['system:unauthenticated'] }, undefined],
  ])('%s', async (_name, user, group) => {
    const result = await authorizer.authorize(kubelet('/exec/ns/pod/c', user, 'POST'));
    expect(authorizer.peek?.(kubelet('/exec/ns/pod/c', user, 'POST'))).toBe(result);
    expect(result).toEqual(
      group
        ? { decision: 'Allow', reason: `allowed by group ${group}` }
        : { decision: 'NoOpinion' },
    );
  });

  it.each<[unknown, string]>([
    ['', 'alwaysAllowGroups: groups[0] must be a non-empty string'],
    [7, 'alwaysAllowGroups: groups[0] must be a non-empty string'],
    ['*', 'alwaysAllowGroups: groups[0] is "*", which is no wildcard here'],
    [
      'system:authenticated',
      'alwaysAllowGroups: groups[0] is system:authenticated, which would allow everyone everything; use alwaysAllow() if that is meant',
    ],
    [
      'system:unauthenticated',
      'alwaysAllowGroups: groups[0] is system:unauthenticated, which would allow everyone everything; use alwaysAllow() if that is meant',
    ],
  ])('%j throws a TypeError naming alwaysAllowGroups', (group, message) => {
    expect(() => alwaysAllowGroups([group as string])).toThrow(
      new KubeletAuthError('ERR_INVALID_OPTION', message),
    );
  });

  it('the list itself must be a list', () => {
    expect(() => alwaysAllowGroups('system:masters' as unknown as string[])).toThrow(
      new KubeletAuthError('ERR_INVALID_OPTION', 'alwaysAllowGroups: groups must be a list'),
    );
  });
});

describe('in a union', () => {
  const union = unionAuthorizer(
    alwaysAllowGroups(['system:masters']),
    alwaysAllowPaths(['/healthz']),
    alwaysDeny(),
  );

  it('never Deny themselves: NoOpinion goes on to the next authorizer', async () => {
    expect((await union.authorize(kubelet('/pods'))).decision).toBe('Deny');
    expect(union.peek?.(kubelet('/pods'))?.decision).toBe('Deny');
  });

  it('the first Allow decides, synchronously through peek', async () => {
    const master = { username: 'root', groups: ['system:masters'] };
    expect(union.peek?.(kubelet('/pods', master))).toEqual({
      decision: 'Allow',
      reason: 'allowed by group system:masters',
    });
    expect(await union.authorize(kubelet('/healthz'))).toEqual({
      decision: 'Allow',
      reason: 'allowed by always-allow path /healthz',
    });
  });

  it('answers are constants: asking again allocates no new result', () => {
    const paths = alwaysAllowPaths(['/healthz']);
    expect(paths.peek?.(kubelet('/healthz'))).toBe(paths.peek?.(kubelet('/healthz', ALICE, 'PUT')));
    expect(paths.peek?.(kubelet('/a'))).toBe(paths.peek?.(kubelet('/b')));
    expect(Object.isFrozen(paths.peek?.(kubelet('/healthz')))).toBe(true);
    expect(paths.authorize(kubelet('/a'))).toBe(paths.authorize(kubelet('/b')));
  });
});
