import { describe, expect, it } from '@jest/globals';
import { runtimeProblem } from '../lib/runtime-check.js';

describe('runtimeProblem: the Node.js and client-node pairs that cannot work', () => {
  it.each([
    ['20.19.0', '1.4.0'],
    ['20.20.2', '1.4.0'],
    ['22.12.0', '1.4.0'],
    ['22.19.0', '2.0.1'],
    ['24.22.3', '2.0.1'],
    ['26.1.0', '2.3.0'],
  ])('Node %s with client-node %s works', (node, client) => {
    expect(runtimeProblem(node, client)).toBeUndefined();
  });

  it.each([
    [
      '20.20.2',
      '2.0.1',
      /client-node 2\.0\.1 needs Node\.js 22\.19 or newer.*@kubernetes\/client-node@1/,
    ],
    ['22.18.0', '2.0.0', /needs Node\.js 22\.19 or newer, and this is Node\.js 22\.18\.0/],
    [
      '24.22.3',
      '1.3.0',
      /1\.4 or newer.*1\.3\.0 is installed: run `npm install @kubernetes\/client-node@2`/,
    ],
    ['24.22.3', '0.22.0', /1\.4 or newer.*0\.22\.0 is installed/],
    ['24.22.3', '3.0.0', /3\.0\.0 is installed/],
    [
      '24.22.3',
      undefined,
      /peer dependency @kubernetes\/client-node, which is not installed: run `npm install @kubernetes\/client-node@2`/,
    ],
    // Below 22.19 the fix is 1.x, on Node.js 22 as on 20: 2.x would be the next error.
    ['22.18.0', '1.3.0', /1\.3\.0 is installed: run `npm install @kubernetes\/client-node@1`/],
    ['22.12.0', undefined, /not installed: run `npm install @kubernetes\/client-node@1`/],
    ['20.20.2', undefined, /not installed: run `npm install @kubernetes\/client-node@1`/],
  ])(
    'Node %s with client-node %s: one sentence naming the cause and the fix',
    (node, client, message) => {
      expect(runtimeProblem(node, client)).toMatch(message);
    },
  );
});
