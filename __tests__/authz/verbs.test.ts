import { describe, expect, it } from '@jest/globals';
import { kubeletVerb } from '../../lib/authz/attributes.js';
import { verbFor, type VerbMapping } from '../../lib/authz/verbs.js';
import { KubeletAuthError } from '../../lib/errors.js';

// Every method Node can report that the mappings treat differently, × each named mapping.
const TABLE: [method: string, kubelet: string, http: string][] = [
  ['GET', 'get', 'get'],
  ['HEAD', 'get', 'head'],
  ['OPTIONS', '', 'options'],
  ['POST', 'create', 'post'],
  ['PUT', 'update', 'put'],
  ['PATCH', 'patch', 'patch'],
  ['DELETE', 'delete', 'delete'],
  ['CONNECT', '', 'connect'],
  ['TRACE', '', 'trace'],
  ['PROPFIND', '', 'propfind'],
  ['M-SEARCH', '', 'm-search'],
  ['', '', ''],
];

describe('verbFor', () => {
  it.each(TABLE)('%j → kubelet %j, http %j', (method, kubelet, http) => {
    expect(verbFor('kubelet')(method)).toBe(kubelet);
    expect(verbFor('http')(method)).toBe(http);
  });

  it("'kubelet' is the kubelet's own table, and the default", () => {
    expect(verbFor('kubelet')).toBe(kubeletVerb);
    expect(verbFor()).toBe(kubeletVerb);
  });

  it("'kubelet' compares methods case-sensitively, as the kubelet does", () => {
    expect(verbFor('kubelet')('get')).toBe('');
    expect(verbFor('kubelet')('Head')).toBe('');
  });

  describe('a record', () => {
    const verbOf = verbFor({ GET: 'list', HEAD: 'list', POST: 'create' });

    it.each([
      ['GET', 'list'],
      ['HEAD', 'list'],
      ['POST', 'create'],
      ['DELETE', ''],
      ['OPTIONS', ''],
      ['get', ''],
      // Inherited names are not methods of the record.
      ['constructor', ''],
      ['__proto__', ''],
      ['toString', ''],
    ])('%j → %j', (method, verb) => {
      expect(verbOf(method)).toBe(verb);
    });

    it("is copied: changing the caller's object afterwards changes nothing", () => {
      const record: Record<string, string> = { GET: 'get' };
      const mapped = verbFor(record);
      record['GET'] = 'delete';
      record['POST'] = 'create';
      expect(mapped('GET')).toBe('get');
      expect(mapped('POST')).toBe('');
    });

    it('an empty record maps every method to the empty verb', () => {
      expect(TABLE.map(([method]) => verbFor({})(method))).toEqual(TABLE.map(() => ''));
    });
  });

  it.each([
    ['Kubelet', /verbs: expected 'kubelet', 'http' or a record.*"Kubelet"/],
    ['HTTP', /verbs: expected 'kubelet', 'http'/],
    ['', /verbs: expected/],
    [null, /verbs: expected/],
    [42, /verbs: expected/],
    [['GET'], /verbs: expected/],
    [{ get: 'get' }, /verbs: method "get" would never match.*"GET"/],
    [{ 'GET ': 'get' }, /verbs: method "GET " would never match/],
    [{ GET: 1 }, /verbs\.GET: expected a verb \(a string\), got number/],
  ])('%j throws a TypeError naming the option', (mapping, message) => {
    expect(() => verbFor(mapping as VerbMapping)).toThrow(KubeletAuthError);
    expect(() => verbFor(mapping as VerbMapping)).toThrow(message);
  });

  it('names the option it was given', () => {
    expect(() => verbFor('x' as VerbMapping, 'pathRules: verbs')).toThrow(/^pathRules: verbs: /);
  });
});
