import { describe, expect, it } from '@jest/globals';
import { explainRequest } from '../../lib/cli/explain.js';
import { explanationReport, formatExplanation } from '../../lib/cli/explain-output.js';

describe('formatExplanation and explanationReport', () => {
  it('formats the explanation: example user, empty verb, fallback note, YAML rule', () => {
    const text = formatExplanation(explainRequest('OPTIONS', '/pods', { nodeName: 'node-a' }));
    expect(text).toContain('User: example-user (an example: pass --user NAME)');
    expect(text).toContain('1. verb (empty verb: only "*" rules match), resource nodes');
    expect(text).toContain('the first Allow lets the request in');
    expect(text).toContain(
      '- apiGroups:\n    - ""\n  resources:\n    - nodes/pods\n  verbs:\n    - "*"',
    );
    expect(text).toContain('a "nodes/proxy" grant with verb * would also allow it');
    expect(formatExplanation(explainRequest('GET', '/stats', { nodeName: 'n' }))).not.toContain(
      'Note:',
    );
  });

  it('reports the same as data: the notes the text prints, one sentence each', () => {
    const fallback = explanationReport(explainRequest('OPTIONS', '/pods', { nodeName: 'node-a' }));
    expect(fallback.notes).toEqual([
      'a "nodes/proxy" grant with verb * would also allow it (the fallback), but nodes/proxy is ' +
        'broad: it also allows exec, attach and run in every pod of the node.',
    ]);
    const proxy = explanationReport(explainRequest('POST', '/exec/ns/p/c', { nodeName: 'n' }));
    expect(proxy).toMatchObject({
      minimalRule: { resources: ['nodes/proxy'], verbs: ['create'] },
      proxyFallback: false,
      notes: [expect.stringMatching(/^nodes\/proxy is broad/)],
    });
    expect(explanationReport(explainRequest('GET', '/stats', { nodeName: 'n' })).notes).toEqual([]);
  });
});
