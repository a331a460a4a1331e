import { describe, expect, it } from '@jest/globals';
import { isWebSocketRequest, readProtocolToken } from '../../lib/authn/websocket-protocol.js';

const entry = (token: string) =>
  `base64url.bearer.authorization.k8s.io.${Buffer.from(token).toString('base64url')}`;

describe('isWebSocketRequest', () => {
  it.each([
    [{ upgrade: 'websocket', connection: 'Upgrade' }, true],
    [{ upgrade: 'WebSocket', connection: 'keep-alive, upgrade' }, true],
    [{ upgrade: 'websocket', connection: 'keep-alive' }, false],
    [{ upgrade: 'h2c', connection: 'upgrade' }, false],
    [{ connection: 'upgrade' }, false],
  ])('%j → %s', (headers, expected) => {
    expect(isWebSocketRequest({ headers })).toBe(expected);
  });
});

describe('readProtocolToken (k8s.io/apiserver’s WebSocket protocol authenticator)', () => {
  it('finds the token and keeps the other subprotocols', () => {
    expect(readProtocolToken(`v4.channel.k8s.io, ${entry('tok')}`)).toEqual({
      kind: 'token',
      token: 'tok',
      remaining: 'v4.channel.k8s.io',
    });
    expect(readProtocolToken([`${entry('tok')}`, 'a, b'])).toEqual({
      kind: 'token',
      token: 'tok',
      remaining: 'a,b',
    });
  });

  it('counts an empty entry as another subprotocol, as upstream does', () => {
    expect(readProtocolToken(`${entry('tok')},`)).toEqual({
      kind: 'token',
      token: 'tok',
      remaining: '',
    });
    expect(readProtocolToken(`a,, ${entry('tok')}`)).toEqual({
      kind: 'token',
      token: 'tok',
      remaining: 'a,',
    });
  });

  it.each([
    ['no header', undefined, { kind: 'none' }],
    ['no token entry', 'v4.channel.k8s.io', { kind: 'none' }],
    ['an empty token', `${entry('')}, v4.channel.k8s.io`, { kind: 'none' }],
    ['an empty token alone', entry(''), { kind: 'none' }],
    [
      'two token entries',
      `${entry('a')}, ${entry('b')}, v4`,
      { kind: 'error', reason: 'multiple base64.bearer.authorization tokens specified' },
    ],
    [
      'padding',
      `base64url.bearer.authorization.k8s.io.dG9r=, v4`,
      { kind: 'error', reason: 'invalid base64.bearer.authorization token encoding' },
    ],
    [
      'standard base64 characters',
      `base64url.bearer.authorization.k8s.io.a+b/, v4`,
      { kind: 'error', reason: 'invalid base64.bearer.authorization token encoding' },
    ],
    [
      'not UTF-8',
      `base64url.bearer.authorization.k8s.io.${Buffer.from([0xff, 0xfe]).toString('base64url')}, v4`,
      { kind: 'error', reason: 'invalid base64.bearer.authorization token' },
    ],
    [
      'no other subprotocol',
      entry('tok'),
      { kind: 'error', reason: 'missing additional subprotocol' },
    ],
  ] as const)('%s → %j', (_name, header, expected) => {
    expect(readProtocolToken(header)).toEqual(expected);
  });
});
