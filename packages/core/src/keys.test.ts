import { describe, expect, it } from '@jest/globals';
import { InvalidNameError } from './errors.js';
import { compareKeys, validateKey, validatePrefix } from './keys.js';

describe('validateKey', () => {
  it.each(['a', 'a/b', 'operatorai-model-store/churn/versions/x.json', 'with space/ünï 模型', '.hidden/..dots/...'])('accepts %j', (key) => {
    expect(validateKey(key)).toBe(key);
  });

  it.each([
    ['', /empty/],
    ['/a', /relative/],
    ['a//b', /empty path segment/],
    ['a/', /empty path segment/],
    ['a/./b', /"\." segments/],
    ['../a', /"\.\." segments/],
    ['a\\b', /backslash/],
    ['a\u0000', /control/],
    ['a\tb', /control/],
  ])('rejects %j with a reason', (key, reason) => {
    let thrown: unknown;
    try {
      validateKey(key);
    } catch (error) {
      thrown = error;
    }
    expect(InvalidNameError.isInstance(thrown)).toBe(true);
    expect((thrown as InvalidNameError).kind).toBe('key');
    expect((thrown as Error).message).toMatch(reason);
  });
});

describe('validatePrefix', () => {
  it.each(['', 'a', 'a/', 'a/b/', 'a/b'])('accepts %j', (prefix) => {
    expect(validatePrefix(prefix)).toBe(prefix);
  });
  it.each(['/', '/a', 'a//', '../', 'a/../', 'a\\'])('rejects %j', (prefix) => {
    expect(() => validatePrefix(prefix)).toThrow(InvalidNameError);
  });
});

describe('compareKeys', () => {
  it('orders by UTF-8 bytes, as object stores list', () => {
    // U+FF5E sorts after U+1F680 in UTF-16 units but before it in UTF-8 bytes.
    const keys = ['\u{1F680}', '\uFF5E', 'a/b', 'a-b', 'A'];
    expect([...keys].sort(compareKeys)).toEqual(['A', 'a-b', 'a/b', '\uFF5E', '\u{1F680}']);
  });

  it('agrees with Buffer.compare of the UTF-8 bytes on random keys (ASCII, BMP above and below the surrogates, astral, lone surrogates, prefixes)', () => {
    const alphabet = ['a', 'b', '/', '-', '.', '0', '\u00e9', '\u4e2d', '\ud7ff', '\ue000', '\uff5e', '\uffff', '\u{10000}', '\u{1f680}', '\u{10ffff}', '\ud800', '\udfff'];
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const key = () => Array.from({ length: random(6) }, () => alphabet[random(alphabet.length)]).join('');
    const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);
    for (let i = 0; i < 20_000; i++) {
      const a = key();
      const b = random(4) === 0 ? a + key() : key();
      const expected = sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
      expect([a, b, sign(compareKeys(a, b))]).toEqual([a, b, expected]);
      expect(sign(compareKeys(b, a))).toBe(expected === 0 ? 0 : -expected);
    }
  });
});
