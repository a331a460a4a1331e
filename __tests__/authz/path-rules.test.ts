import { describe, expect, it, jest } from '@jest/globals';
import type { IncomingMessage } from 'node:http';
import {
  pathRules,
  type PathMatch,
  type PathRule,
  type PathRulesOptions,
} from '../../lib/authz/path-rules.js';
import { PATH_REFUSALS } from '../../lib/authz/request-path.js';
import { KubeletAuthError } from '../../lib/errors.js';
import type { AllOf, Attributes, AttributesFunction, PathRefused } from '../../lib/contracts.js';

const user = { username: 'reader', groups: ['system:authenticated'] };
type Req = IncomingMessage & { originalUrl?: string };
const request = (method: string, url: string): Req => ({ method, url }) as unknown as Req;

/** Derives for a request whose URL is its path. */
function ask(derive: AttributesFunction, method: string, path: string, url = path) {
  return derive(request(method, url), user, path);
}

function records(result: Attributes[] | AllOf | PathRefused): Attributes[] {
  if (!Array.isArray(result)) throw new Error(`expected a list, got ${JSON.stringify(result)}`);
  return result;
}

/** The resource of the one record asked (names the rule that matched), or null for none. */
function resourceFor(derive: AttributesFunction, path: string): string | null {
  const result = ask(derive, 'GET', path);
  if ('refused' in result) return 'refused';
  const list = records(result);
  return list.length === 0 ? null : (list[0] as Attributes).resource;
}

const TABLE: Record<string, PathRule> = {
  '/': { resource: 'root' },
  '/api': { resource: 'api' },
  '/api/v1/': { resource: 'v1' },
  '/apis/example.com/v1': { resource: 'example' },
};

describe('pathRules: matching by whole segments, longest prefix first', () => {
  it.each([
    ['/', 'root'],
    ['/x', 'root'],
    ['/api', 'api'],
    ['/api/', 'api'],
    ['/api/x', 'api'],
    ['/apiv1', 'root'],
    ['/api/v1', 'v1'],
    ['/api/v1/', 'v1'],
    ['/api/v1x', 'api'],
    ['/api/v1/pods/p', 'v1'],
    ['/api/v2', 'api'],
    ['/apis/example.com/v1', 'example'],
    ['/apis/example.com/v1/reports', 'example'],
    ['/apis/example.com', 'root'],
    ['/apis/example.com/v10', 'root'],
    ['/API', 'refused'],
    // `OPTIONS *`: not a path under `/`.
    ['*', null],
  ])('%j → %j', (path, expected) => {
    expect(resourceFor(pathRules({ rules: TABLE }), path)).toBe(expected);
  });

  it('does not depend on the order of the table, or on its form', () => {
    const entries = Object.entries(TABLE);
    const forms = [
      pathRules({ rules: entries }),
      pathRules({ rules: [...entries].reverse() }),
      pathRules({ rules: new Map([...entries].reverse()) }),
    ];
    const paths = ['/', '/api', '/api/v1/x', '/api/v1x', '/apis/example.com/v1/r', '/q'];
    for (const derive of forms) {
      expect(paths.map((p) => resourceFor(derive, p))).toEqual(
        paths.map((p) => resourceFor(pathRules({ rules: TABLE }), p)),
      );
    }
  });

  it('without a `/` rule, other paths are denied: no record at all', () => {
    const derive = pathRules({ rules: { '/api': { resource: 'api' } } });
    expect(ask(derive, 'GET', '/')).toEqual([]);
    expect(ask(derive, 'GET', '/apis')).toEqual([]);
    expect(ask(derive, 'GET', '/metrics')).toEqual([]);
  });
});

describe('pathRules: the records', () => {
  it('a fixed rule gives one resource record, with every field', () => {
    const derive = pathRules({
      rules: {
        '/metrics': {
          resource: 'services',
          subresource: 'proxy',
          group: '',
          version: 'v1',
          namespace: 'monitoring',
          name: 'app',
        },
      },
    });
    expect(ask(derive, 'GET', '/metrics/x')).toEqual([
      {
        user,
        verb: 'get',
        namespace: 'monitoring',
        apiGroup: '',
        apiVersion: 'v1',
        resource: 'services',
        subresource: 'proxy',
        name: 'app',
        resourceRequest: true,
        path: '/metrics/x',
      },
    ]);
  });

  it('leaves unset fields empty (so the review does not send them)', () => {
    const derive = pathRules({ rules: { '/r': { resource: 'reports', group: 'example.com' } } });
    expect(ask(derive, 'DELETE', '/r')).toEqual([
      {
        user,
        verb: 'delete',
        namespace: '',
        apiGroup: 'example.com',
        apiVersion: '',
        resource: 'reports',
        subresource: '',
        name: '',
        resourceRequest: true,
        path: '/r',
      },
    ]);
  });

  it.each([
    // method, default ('kubelet'), 'http', rule with verb 'list'
    ['GET', 'get', 'get', 'list'],
    ['HEAD', 'get', 'head', 'list'],
    ['OPTIONS', '', 'options', 'list'],
    ['POST', 'create', 'post', 'list'],
    ['PUT', 'update', 'put', 'list'],
    ['PATCH', 'patch', 'patch', 'list'],
    ['DELETE', 'delete', 'delete', 'list'],
  ])('%s asks %j (kubelet verbs), %j (http verbs), %j (verb override)', (method, k, h, o) => {
    const verb = (options: Omit<PathRulesOptions, 'rules'>, rule: PathRule = { resource: 'r' }) =>
      (records(ask(pathRules({ ...options, rules: { '/': rule } }), method, '/x'))[0] as Attributes)
        .verb;
    expect(verb({})).toBe(k);
    expect(verb({ verbs: 'kubelet' })).toBe(k);
    expect(verb({ verbs: 'http' })).toBe(h);
    expect(verb({}, { resource: 'r', verb: 'list' })).toBe(o);
  });

  it('copies fixed rules at construction: changing them afterwards changes nothing', () => {
    const rule = { resource: 'reports', namespace: 'team-a' };
    const derive = pathRules({ rules: { '/r': rule } });
    rule.namespace = 'team-b';
    expect((records(ask(derive, 'GET', '/r'))[0] as Attributes).namespace).toBe('team-a');
  });

  it('allOf gives every check, in order, to be all allowed', () => {
    const derive = pathRules({
      rules: {
        '/export': {
          allOf: [
            { resource: 'reports', group: 'example.com', verb: 'list' },
            (_req, _user, path) => ({ resource: 'exports', group: 'example.com', name: path }),
          ],
        },
      },
    });
    const result = ask(derive, 'POST', '/export');
    expect(result).toEqual({
      allOf: [
        expect.objectContaining({ verb: 'list', resource: 'reports', resourceRequest: true }),
        expect.objectContaining({ verb: 'create', resource: 'exports', name: '/export' }),
      ],
    });
  });
});

describe('pathRules: computed rules', () => {
  function seen(prefix: string, path: string, url = path): PathMatch {
    let match: PathMatch | undefined;
    const derive = pathRules({
      rules: {
        [prefix]: (_req, _user, _path, m) => {
          match = m;
          return { resource: 'r' };
        },
      },
    });
    ask(derive, 'GET', path, url);
    if (!match) throw new Error('the rule was not called');
    return match;
  }

  it('get the request, the user, the path and the match', () => {
    const rule = jest.fn((_req: Req, _user: unknown, _path: string, m: PathMatch) => ({
      resource: 'reports',
      namespace: m.segments[0] ?? '',
      name: m.query.get('name') ?? '',
    }));
    const derive = pathRules({ rules: { '/namespaces': rule } });
    const req = request('GET', '/namespaces/team-a/reports?name=weekly&x=1');
    expect(derive(req, user, '/namespaces/team-a/reports')).toEqual([
      expect.objectContaining({ namespace: 'team-a', name: 'weekly', verb: 'get' }),
    ]);
    expect(rule).toHaveBeenCalledTimes(1);
    expect(rule.mock.calls[0]?.slice(0, 3)).toEqual([req, user, '/namespaces/team-a/reports']);
  });

  it.each([
    ['/namespaces', '/namespaces', []],
    ['/namespaces', '/namespaces/', ['']],
    ['/namespaces', '/namespaces/team-a', ['team-a']],
    ['/namespaces/', '/namespaces/team-a/reports', ['team-a', 'reports']],
    ['/namespaces', '/namespaces/a b/c', ['a b', 'c']],
    ['/', '/', []],
    ['/', '/a/b', ['a', 'b']],
  ])('under %j, %j has segments %j', (prefix, path, segments) => {
    const match = seen(prefix, path);
    expect(match.segments).toEqual(segments);
    expect(match.prefix).toBe(prefix);
  });

  it.each([
    ['/r', []],
    ['/r?name=a', [['name', 'a']]],
    [
      '/r?name=a+b&x=%2F',
      [
        ['name', 'a b'],
        ['x', '/'],
      ],
    ],
    [
      '/r?name=a&name=b',
      [
        ['name', 'a'],
        ['name', 'b'],
      ],
    ],
    // As req.query reads it: a fragment ends the target, even before a "?".
    ['/r#frag?name=a', []],
    ['/r?name=a#frag', [['name', 'a']]],
    ['http://node-a:10250/r?name=a', [['name', 'a']]],
  ])('the query of %j is %j', (url, entries) => {
    expect([...seen('/r', '/r', url).query]).toEqual(entries);
  });

  it('read the query from originalUrl inside Express routers', () => {
    let name: string | null = null;
    const derive = pathRules({
      rules: {
        '/r': (_req, _user, _path, { query }) => ((name = query.get('name')), { resource: 'r' }),
      },
    });
    const req = Object.assign(request('GET', '/?name=inner'), { originalUrl: '/r?name=outer' });
    derive(req, user, '/r');
    expect(name).toBe('outer');
  });

  it('are called per request, fixed ones never', () => {
    const rule = jest.fn(() => ({ resource: 'r' }));
    const derive = pathRules({ rules: { '/a': rule, '/b': { resource: 'b' } } });
    ask(derive, 'GET', '/b');
    expect(rule).not.toHaveBeenCalled();
    ask(derive, 'GET', '/a');
    ask(derive, 'GET', '/a');
    expect(rule).toHaveBeenCalledTimes(2);
  });

  it('a rule that returns null denies the request without asking, in allOf too', () => {
    const derive = pathRules({
      rules: {
        '/one': (_req, _user, path) => (path === '/one/x' ? null : { resource: 'r' }),
        '/all': { allOf: [{ resource: 'r' }, () => null] },
      },
    });
    expect(ask(derive, 'GET', '/one/x')).toEqual([]);
    expect(records(ask(derive, 'GET', '/one/y'))).toHaveLength(1);
    expect(ask(derive, 'GET', '/all')).toEqual([]);
  });

  it.each([
    [() => undefined, /rules\["\/r"\] returned: expected \{ resource/],
    [() => ({}), /rules\["\/r"\] returned\.resource: expected a non-empty string/],
    [() => ({ resource: 'r', namespace: 3 }), /returned\.namespace: expected a string/],
    [
      () => ({ resource: 'r', apiGroup: 'x' }),
      /returned: unknown field "apiGroup" \(did you mean "group"\?\)/,
    ],
    [() => Promise.resolve({ resource: 'r' }), /returned a Promise/],
    [
      () => {
        throw new Error('no namespace');
      },
      /no namespace/,
    ],
  ])('a rule that returns nonsense or throws makes the function throw (%#)', (rule, message) => {
    const derive = pathRules({ rules: { '/r': rule as unknown as PathRule } });
    expect(() => ask(derive, 'GET', '/r')).toThrow(message);
  });
});

describe('pathRules: unmatched paths', () => {
  const rules = { '/api': { resource: 'api' } };

  it("'deny' (the default) asks nothing", () => {
    expect(ask(pathRules({ rules }), 'GET', '/metrics')).toEqual([]);
    expect(ask(pathRules({ rules, default: 'deny' }), 'GET', '/metrics')).toEqual([]);
  });

  it("'nonResource' asks the path with the lower-case method", () => {
    const derive = pathRules({ rules, default: 'nonResource' });
    expect(ask(derive, 'HEAD', '/metrics')).toEqual([
      expect.objectContaining({ resourceRequest: false, path: '/metrics', verb: 'head' }),
    ]);
    expect(ask(derive, 'GET', '/api')).toEqual([
      expect.objectContaining({ resourceRequest: true, resource: 'api' }),
    ]);
  });

  it('a function gets the request', () => {
    const fallback = jest.fn<AttributesFunction>(() => ({ allOf: [] }));
    const derive = pathRules({ rules, default: fallback });
    const req = request('GET', '/x');
    expect(derive(req, user, '/x')).toEqual({ allOf: [] });
    expect(fallback).toHaveBeenCalledWith(req, user, '/x');
  });
});

describe('pathRules: bad configuration throws a TypeError at construction', () => {
  it.each([
    [undefined, /pathRules: options must be an object/],
    [{}, /pathRules: rules is required/],
    [{ rules: {} }, /pathRules: rules needs at least one path prefix/],
    [{ rules: [] }, /pathRules: rules needs at least one path prefix/],
    [{ rules: 'x' }, /pathRules: rules is required/],
    [{ rules: [['/a']] }, /rules as a list holds \[prefix, rule\] pairs/],
    [{ rule: {} }, /pathRules: unknown option "rule"/],
    [{ rules: { a: { resource: 'r' } } }, /rules\["a"\]: a path prefix starts with "\/"/],
    [{ rules: { '': { resource: 'r' } } }, /rules\[""\]: a path prefix starts with "\/"/],
    [
      { rules: { '/api/*': { resource: 'r' } } },
      /rules\["\/api\/\*"\]: .*wildcards: write "\/api"/,
    ],
    [{ rules: { '/a/../b': { resource: 'r' } } }, /"\." and "\.\." segments/],
    [{ rules: { '/a//b': { resource: 'r' } } }, /empty segments/],
    [{ rules: { '/a?x=1': { resource: 'r' } } }, /without query/],
    [{ rules: { '/a b': { resource: 'r' } } }, /" " is sent percent-encoded/],
    [{ rules: { '/café': { resource: 'r' } } }, /"é" is sent percent-encoded/],
    [{ rules: { '/a%41': { resource: 'r' } } }, /"%" is sent percent-encoded/],
    [
      { rules: { '/a': { resource: 'r' }, '/a/': { resource: 's' } } },
      /"\/a" and "\/a\/" are the same prefix/,
    ],
    [{ rules: { '/a': null } }, /rules\["\/a"\]: expected \{ resource/],
    [{ rules: { '/a': 'pods' } }, /rules\["\/a"\]: expected \{ resource/],
    [{ rules: { '/a': {} } }, /rules\["\/a"\]\.resource: expected a non-empty string/],
    [
      { rules: { '/a': { resource: '' } } },
      /rules\["\/a"\]\.resource: expected a non-empty string/,
    ],
    [{ rules: { '/a': { resource: 'pods/log' } } }, /resource: "pods", subresource: "log"/],
    [{ rules: { '/a': { resource: 'r', verb: '' } } }, /\.verb: expected a non-empty verb/],
    [{ rules: { '/a': { resource: 'r', namespace: 1 } } }, /\.namespace: expected a string/],
    [
      { rules: { '/a': { resource: 'r', apiGroup: 'x' } } },
      /unknown field "apiGroup" \(did you mean "group"\?\)/,
    ],
    [{ rules: { '/a': { resource: 'r', resourceNames: ['x'] } } }, /did you mean "name"\?/],
    [{ rules: { '/a': { allOf: [] } } }, /rules\["\/a"\]\.allOf: expected a non-empty list/],
    [{ rules: { '/a': { allOf: { resource: 'r' } } } }, /\.allOf: expected a non-empty list/],
    [
      { rules: { '/a': { allOf: [{ resource: 'r' }, {}] } } },
      /rules\["\/a"\]\.allOf\[1\]\.resource/,
    ],
    [{ rules: { '/a': { allOf: [{ allOf: [] }] } } }, /allOf\[0\]: allOf cannot be nested/],
    [
      { rules: { '/a': { resource: 'r', allOf: [] } } },
      /allOf goes alone; put resource in its checks/,
    ],
    [
      { rules: { '/a': { resource: 'r' } }, default: 'allow' },
      /pathRules: default: expected 'deny', 'nonResource'/,
    ],
    [
      { rules: { '/a': { resource: 'r' } }, verbs: 'HTTP' },
      /pathRules: verbs: expected 'kubelet', 'http'/,
    ],
  ])('%j', (options, message) => {
    const build = () => pathRules(options as PathRulesOptions);
    expect(build).toThrow(KubeletAuthError);
    expect(build).toThrow(message);
  });
});

describe('pathRules: a path a loosely matching router could serve under another rule is refused', () => {
  const derive = pathRules({ rules: TABLE });
  it.each([
    // Another case reaches a longer (or another) rule than the exact spelling.
    ['/API', 'refused'],
    ['/Api/x', 'refused'],
    ['/api/V1', 'refused'],
    ['/API/v1/pods', 'refused'],
    ['/APIS/example.com/v1', 'refused'],
    ['/apis/EXAMPLE.com/v1/r', 'refused'],
    // Connect ends a mount path at ".": `app.use('/api', …)` serves /api.json.
    ['/api.json', 'refused'],
    ['/api/v1.x', 'refused'],
    // Another case that reaches the same rule: the rule holds (no router can do better).
    ['/X', 'root'],
    ['/api/X', 'api'],
    ['/api/v1/PODS', 'v1'],
    ['/APIV1', 'root'],
    ['/api/v1x.json', 'api'],
    ['/apis/example.com', 'root'],
    ['/q.txt', 'root'],
  ])('%j → %j', (path, expected) => {
    expect(resourceFor(derive, path)).toBe(expected);
  });

  it('refuses with the reason, for every kind of rule, and for unmatched paths too', () => {
    const fallback = jest.fn(() => []);
    const only = pathRules({
      rules: { '/admin': { allOf: [{ resource: 'a' }, () => ({ resource: 'b' })] } },
      default: fallback,
    });
    expect(ask(only, 'GET', '/ADMIN/users')).toEqual({ refused: PATH_REFUSALS.routedElsewhere });
    expect(ask(only, 'GET', '/admin.php')).toEqual({ refused: PATH_REFUSALS.routedElsewhere });
    expect(fallback).not.toHaveBeenCalled();
    expect(ask(only, 'GET', '/adminx')).toEqual([]);
    expect(fallback).toHaveBeenCalledTimes(1);
  });

  it.each([
    // Routers match the path as sent: an escape inside a prefix misses that prefix's routes.
    ['/api/v1/pods', '/api/v%31/pods', 'refused'],
    ['/api/x', '/%61pi/x', 'refused'],
    ['/api/v1/pods', '/api/V%31/pods', 'refused'],
    // An escape past the prefix routes as the decoded path is authorized.
    ['/api/v1/pods', '/api/v1/%70ods', 'v1'],
    ['/x y', '/x%20y', 'root'],
    ['/api:v1/x', '/api%3Av1/x', 'root'],
  ])('%j sent as %j → %j', (path, url, expected) => {
    const result = ask(derive, 'GET', path, url);
    expect('refused' in result ? 'refused' : (records(result)[0] as Attributes).resource).toBe(
      expected,
    );
  });

  it('refuses at construction two prefixes that differ only in case', () => {
    expect(() =>
      pathRules({ rules: { '/admin': { resource: 'a' }, '/Admin/': { resource: 'b' } } }),
    ).toThrow(
      new KubeletAuthError(
        'ERR_INVALID_OPTION',
        'pathRules: rules "/admin" and "/Admin/" differ only in case, which Express (by default) and Connect do not tell apart',
      ),
    );
  });

  it('matches a prefix written in capitals in any case, like the router', () => {
    const capitals = pathRules({
      rules: { '/': { resource: 'root' }, '/Admin': { resource: 'a' } },
    });
    expect(resourceFor(capitals, '/Admin/x')).toBe('a');
    expect(resourceFor(capitals, '/admin/x')).toBe('refused');
  });
});
