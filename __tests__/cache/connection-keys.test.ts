import { describe, expect, it } from '@jest/globals';
import { MAX_REMEMBERED_TOKEN_BYTES, perConnectionKeys } from '../../lib/cache/connection-keys.js';

/** A key function that records every token it was asked for. */
function recordingKeys(): ((token: string) => string) & { asked: string[] } {
  const asked: string[] = [];
  return Object.assign((token: string) => (asked.push(token), `key(${token})`), { asked });
}

describe('perConnectionKeys', () => {
  it('takes the key of a token once per connection while the connection sends the same token', () => {
    const keyOf = recordingKeys();
    const keys = perConnectionKeys(keyOf);
    const connection = {};
    for (let i = 0; i < 5; i++) expect(keys('token-a', connection)).toBe('key(token-a)');
    expect(keyOf.asked).toEqual(['token-a']);
  });

  it('takes the key afresh for another token on the same connection, one character apart included', () => {
    const keyOf = recordingKeys();
    const keys = perConnectionKeys(keyOf);
    const connection = {};
    expect(keys('token-a', connection)).toBe('key(token-a)');
    expect(keys('token-b', connection)).toBe('key(token-b)');
    expect(keys('token-bb', connection)).toBe('key(token-bb)');
    expect(keys('token-a', connection)).toBe('key(token-a)');
    expect(keyOf.asked).toEqual(['token-a', 'token-b', 'token-bb', 'token-a']);
  });

  it('never hands one connection the key remembered for another', () => {
    const keyOf = recordingKeys();
    const keys = perConnectionKeys(keyOf);
    const first = {};
    const second = {};
    expect(keys('token-a', first)).toBe('key(token-a)');
    expect(keys('token-b', second)).toBe('key(token-b)');
    expect(keys('token-a', second)).toBe('key(token-a)');
    expect(keys('token-a', first)).toBe('key(token-a)');
    expect(keyOf.asked).toEqual(['token-a', 'token-b', 'token-a']);
  });

  it('compares tokens as UTF-8 bytes: tokens of one length in characters but not in bytes stay apart', () => {
    const keyOf = recordingKeys();
    const keys = perConnectionKeys(keyOf);
    const connection = {};
    expect(keys('tökén', connection)).toBe('key(tökén)');
    expect(keys('tokens', connection)).toBe('key(tokens)');
    expect(keys('tökén', connection)).toBe('key(tökén)');
    expect(keyOf.asked).toEqual(['tökén', 'tokens', 'tökén']);
  });

  it('takes the key on every call without a connection', () => {
    const keyOf = recordingKeys();
    const keys = perConnectionKeys(keyOf);
    keys('token-a');
    keys('token-a');
    expect(keyOf.asked).toEqual(['token-a', 'token-a']);
  });

  it('remembers no token longer than the limit, in bytes, and forgets the one before it', () => {
    const keyOf = recordingKeys();
    const keys = perConnectionKeys(keyOf);
    const connection = {};
    // Two bytes a character: within the limit in characters, past it in bytes.
    const long = 'é'.repeat(MAX_REMEMBERED_TOKEN_BYTES / 2 + 1);
    const atLimit = 'a'.repeat(MAX_REMEMBERED_TOKEN_BYTES);
    keys('token-a', connection);
    keys(long, connection);
    keys(long, connection);
    keys('token-a', connection);
    keys(atLimit, connection);
    keys(atLimit, connection);
    expect(keyOf.asked).toEqual(['token-a', long, long, 'token-a', atLimit]);
  });
});
