import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  escapeControlCharacters,
  escapeControlCharactersInLines,
  quoted,
} from '../lib/control-characters.js';

/** Every character that may drive a terminal, forge a line or reorder what is displayed. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

describe('escapeControlCharacters', () => {
  it.each([
    ['plain text', 'plain text'],
    ['a\x1b[31mred', 'a\\u001b[31mred'],
    ['line\nforged', 'line\\nforged'],
    ['cr\rtab\t', 'cr\\rtab\\t'],
    ['nul\0', 'nul\\u0000'],
    ['del\x7f', 'del\\u007f'],
    ['c1 csi\u009b31m', 'c1 csi\\u009b31m'],
    ['next line\u0085', 'next line\\u0085'],
    ['osc\u009d0;title\u009c', 'osc\\u009d0;title\\u009c'],
    ['separators\u2028\u2029', 'separators\\u2028\\u2029'],
    ['bidi\u202eevil\u202c', 'bidi\\u202eevil\\u202c'],
    ['isolates\u2066\u2067\u2068\u2069', 'isolates\\u2066\\u2067\\u2068\\u2069'],
    ['marks\u200e\u200f\u061c', 'marks\\u200e\\u200f\\u061c'],
    ['zoë ключ 日本 \u00a0\u00ff', 'zoë ключ 日本 \u00a0\u00ff'],
    ['back\\slash', 'back\\slash'],
  ])('%j → %j', (text, escaped) => {
    expect(escapeControlCharacters(text)).toBe(escaped);
  });

  it('leaves no unsafe character, and changes nothing else', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const escaped = escapeControlCharacters(text);
        expect(escaped).not.toMatch(UNSAFE);
        if (!UNSAFE.test(text)) expect(escaped).toBe(text);
        // Escaping twice changes nothing more.
        expect(escapeControlCharacters(escaped)).toBe(escaped);
      }),
    );
  });
});

describe('escapeControlCharactersInLines', () => {
  it('keeps line breaks and escapes the rest', () => {
    expect(escapeControlCharactersInLines('a\x1b]0;x\x07\nb\u2028\n')).toBe(
      'a\\u001b]0;x\\u0007\nb\\u2028\n',
    );
  });
});

describe('quoted', () => {
  it('is a JSON string of printable characters that reads back as the text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const q = quoted(text);
        expect(q).not.toMatch(UNSAFE);
        expect(JSON.parse(q)).toBe(text);
      }),
    );
  });

  it('keeps a quote inside the value', () => {
    expect(quoted('eve" decision=allowed')).toBe('"eve\\" decision=allowed"');
  });
});
