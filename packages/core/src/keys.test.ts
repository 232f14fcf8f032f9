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
});
