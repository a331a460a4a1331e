import { describe, expect, it } from '@jest/globals';
import { explainRequest, type ExplainResult } from '../../lib/cli/explain.js';
import { formatExplanation } from '../../lib/cli/explain-output.js';

function accepted(result: ExplainResult): Extract<ExplainResult, { refused: false }> {
  if (result.refused) throw new Error(`unexpectedly refused: ${result.reason}`);
  return result;
}

describe('explainRequest', () => {
  it.each([
    // method, path, fineGrained, subresources asked, verb, minimal rule resource, rule verb
    ['GET', '/stats/summary', true, ['stats'], 'get', 'nodes/stats', 'get'],
    ['HEAD', '/healthz', true, ['healthz', 'proxy'], 'get', 'nodes/healthz', 'get'],
    ['OPTIONS', '/pods', true, ['pods', 'proxy'], '', 'nodes/pods', '*'],
    ['POST', '/exec/ns/p/c', true, ['proxy'], 'create', 'nodes/proxy', 'create'],
    // Matching is case-sensitive on the decoded path.
    ['GET', '/statsfoo', true, ['proxy'], 'get', 'nodes/proxy', 'get'],
    ['GET', '/logs/%73yslog?tail=1', true, ['log'], 'get', 'nodes/log', 'get'],
    ['GET', '/pods', false, ['proxy'], 'get', 'nodes/proxy', 'get'],
    ['GET', '/healthz', false, ['proxy'], 'get', 'nodes/proxy', 'get'],
    ['DELETE', '/flagz', false, ['configz'], 'delete', 'nodes/configz', 'delete'],
  ])(
    '%s %s (fine-grained %s) asks %j with verb %j; rule %s %s',
    (method, path, fineGrained, subresources, verb, resource, ruleVerb) => {
      const result = accepted(explainRequest(method, path, { nodeName: 'node-a', fineGrained }));
      expect(result.attributes.map((a) => a.subresource)).toEqual(subresources);
      expect(result.attributes.every((a) => a.verb === verb && a.name === 'node-a')).toBe(true);
      expect(result.rule).toEqual({ apiGroups: [''], resources: [resource], verbs: [ruleVerb] });
      expect(result.proxyFallback).toBe(subresources.length > 1);
    },
  );

  it.each([
    ['/stats/../exec/ns/p/c', '".." segment'],
    ['/stats/%2e%2e/exec', '".." segment'],
    ['/stats%2Fsummary', 'encoded "/"'],
    ['/stats/%zz', 'malformed percent escape'],
    ['/stats/%00', 'control character'],
    ['stats', 'does not start with "/"'],
    ['http://node-a/logs/x/../../stats/summary', '".." segment'],
    ['/stats\\..\\exec', '"\\"'],
    ['/Stats/summary', 'ignore case'],
    ['/metrics.json', 'ends a mount path at "."'],
    ['/%73tats/summary', 'still encoded'],
  ])('refuses %s with 400 (%s)', (path, reason) => {
    const result = explainRequest('GET', path, { nodeName: 'node-a' });
    expect(result).toMatchObject({ refused: true, url: path });
    expect(result.refused && result.reason).toContain(reason);
    expect(formatExplanation(result)).toContain('400 Bad Request');
  });

  it('builds the SubjectAccessReview exactly as the middleware sends it', () => {
    const result = accepted(
      explainRequest('GET', '/pods', {
        nodeName: 'node-a',
        user: 'alice',
        groups: ['ops'],
        uid: '7',
      }),
    );
    expect(JSON.stringify(result.reviews[0])).toBe(
      '{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":' +
        '{"resourceAttributes":{"verb":"get","version":"v1","resource":"nodes","subresource":"pods","name":"node-a"},' +
        '"user":"alice","groups":["ops","system:authenticated"],"uid":"7"}}',
    );
  });

  it('gives system:anonymous only system:unauthenticated; an unmapped method sends no verb', () => {
    const result = accepted(
      explainRequest('TRACE', '/metrics', { nodeName: 'n', user: 'system:anonymous' }),
    );
    expect(result.reviews[0]?.spec).toEqual({
      resourceAttributes: { version: 'v1', resource: 'nodes', subresource: 'metrics', name: 'n' },
      user: 'system:anonymous',
      groups: ['system:unauthenticated'],
    });
  });
});
