/**
 * The text rules of src/domain/rules/input.ts, schema by schema: lone
 * surrogates, names (trimmed, NFC, nothing invisible), control characters and
 * the username rule as its message states it.
 */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/domain/errors.ts';
import { USERNAME_PATTERN } from '../../src/domain/model.ts';
import { isWellFormedText, jsonDocument, longText, nameText, parseInput, shortText, username } from '../../src/domain/rules/input.ts';

/** The INVALID_INPUT error that parsing `value` with `schema` as `field` throws. */
function refusal(schema: Parameters<typeof parseInput>[0], value: unknown, field = 'field'): InvalidInputError {
  try {
    parseInput(schema, value, field);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return error as InvalidInputError;
  }
  throw new Error(`${JSON.stringify(value)} was accepted`);
}

describe('lone surrogates', () => {
  it('are told apart from surrogate pairs', () => {
    expect(isWellFormedText('😀 e\u0301')).toBe(true);
    for (const bad of ['\ud800', '\udc00', 'a\ud83d', '\ude00a', '\ud83d\ud83d', '\ude00\ud83d'])
      expect(isWellFormedText(bad), JSON.stringify(bad)).toBe(false);
  });

  it('are refused by short text, free text and names, before any other rule', () => {
    for (const schema of [shortText, longText, nameText, username]) {
      const error = refusal(schema, 'a\ud800b');
      expect(error.message).toBe('field must be valid Unicode text (it holds a lone surrogate)');
      expect(error.field).toBe('field');
    }
  });

  it('are refused anywhere in a JSON document, in keys and values, in arrays, at any depth', () => {
    const deep: Record<string, unknown> = { a: { b: { c: [0, [{ d: 'x\udfff' }]] } } };
    for (const document of [{ k: '\ud800' }, { '\ud800': 1 }, deep, { list: ['ok', { '\udc00': null }] }]) {
      expect(refusal(jsonDocument, document, 'metadata').message).toMatch(/^metadata .*lone surrogate/);
    }
    expect(parseInput(jsonDocument, { '😀': ['😀'] })).toEqual({ '😀': ['😀'] });
  });
});

describe('names', () => {
  it('are trimmed and NFC-normalized, and counted after normalization', () => {
    expect(parseInput(nameText, '  cafe\u0301 ')).toBe('caf\u00e9');
    expect(parseInput(nameText, 'e\u0301'.repeat(64))).toBe('\u00e9'.repeat(64));
    expect(refusal(nameText, 'e\u0301'.repeat(65)).message).toBe('field must be at most 64 characters');
    expect(refusal(nameText, ' \u3000 ').message).toBe('field must not be blank');
  });

  it('refuse invisible and direction-changing characters, naming the code point, not the name', () => {
    for (const [value, codePoint] of [
      ['a\u202eb', 'U+202E'],
      ['a\u200bb', 'U+200B'],
      ['\ufeffab', 'U+FEFF'],
      ['a\u2069', 'U+2069'],
      ['a\u{e0041}', 'U+E0041'],
    ] as const) {
      const error = refusal(nameText, value, 'name');
      expect(error.message).toBe(`name must not contain invisible or direction-changing characters (it holds ${codePoint})`);
    }
  });

  it('accept text in any script, emoji included', () => {
    for (const name of ['Crème brûlée', '東京のノートPC', 'Ελληνικά', 'עברית', 'laptop 😀']) expect(parseInput(nameText, name)).toBe(name);
  });
});

describe('control characters', () => {
  it('C0 and C1 are refused in short text; free text allows tab and newline only', () => {
    for (const control of ['\u0000', '\t', '\n', '\u001f', '\u007f', '\u0085', '\u009f'])
      expect(() => parseInput(shortText, `a${control}`)).toThrow(/control characters/);
    expect(parseInput(longText, 'a\tb\nc')).toBe('a\tb\nc');
    for (const control of ['\r', '\u0000', '\u0085']) expect(() => parseInput(longText, `a${control}`)).toThrow(/other than tab and newline/);
  });
});

describe('the username rule', () => {
  it('is what Gafaelfawr’s pattern accepts, and the message says so', () => {
    const message = refusal(username, 'x', 'username').message;
    expect(message).toMatch(/2 to 64 lowercase letters, digits and single inner dashes/);
    for (const valid of ['ab', '0a', '00a', 'ab-c', 'a-bc', 'bot-ci', 'b-0a', 'a'.repeat(64)]) {
      expect(USERNAME_PATTERN.test(valid), valid).toBe(true);
      expect(parseInput(username, valid)).toBe(valid);
    }
    // No letter right after a letter or digit ("a0", "0-a", "a-b"), too short, or misplaced dashes.
    for (const invalid of ['x', '0', 'a0', '0-a', 'a-b', '-ab', 'ab-', 'a--bc', 'Ab', '12']) {
      expect(USERNAME_PATTERN.test(invalid), invalid).toBe(false);
      expect(refusal(username, invalid, 'username').message).toBe(message);
    }
  });
});
