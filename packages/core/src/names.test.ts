// Name rules: every name Python modelstore can write that is one safe storage-key
// segment on the file system, S3, GCS and Azure is accepted (the interop tests write
// them with the real Python library: packages/interop/test/names.test.ts).
import { describe, expect, it } from '@jest/globals';
import { InvalidNameError } from './errors.js';
import { maxNameBytes, validateDomain, validateModelId, validateStateName } from './names.js';

const rejects = (check: () => unknown, reason: RegExp) => {
  let caught: unknown;
  try {
    check();
  } catch (error) {
    caught = error;
  }
  expect(InvalidNameError.isInstance(caught)).toBe(true);
  expect((caught as Error).message).toMatch(reason);
};

describe('validateDomain', () => {
  it.each(['churn', 'sp ace', ' padded ', 'dot.', 'a..b', '...', 'ünï 模型', 'nbsp\u00a0domain', 'line\u2028sep', 'm😀', 'x.json', 'model-states', 'a'.repeat(maxNameBytes)])('accepts %j (Python accepts it too)', (domain) => {
    expect(validateDomain(domain)).toBe(domain);
  });

  it.each([
    ['', /non-empty/],
    ['versions', /reserved/],
    ['domains', /reserved/],
    ['modelstore', /reserved/],
    ['operatorai-model-store', /reserved/],
    ['model_states', /reserved/],
    ['a/b', /path separators/],
    ['a\\b', /path separators/],
    ['.', /path part/],
    ['..', /path part/],
    ['a\tb', /control characters .*U\+0009/],
    ['a\nb', /control characters .*U\+000A/],
    ['a\u0001b', /control characters .*U\+0001/],
    ['a\u007fb', /control characters .*U\+007F/],
    ['a\ud800b', /lone UTF-16 surrogate/],
    ['x.modelstore-tmp', /file-system storage/],
    ['x.modelstore-lock', /file-system storage/],
    ['a'.repeat(maxNameBytes + 1), /at most 200 bytes/],
    ['模'.repeat(67), /at most 200 bytes in UTF-8 \(this one has 201\)/],
  ])('refuses %j', (domain, reason) => {
    rejects(() => validateDomain(domain), reason);
  });

  it('refuses a value that is not a string', () => {
    rejects(() => validateDomain(undefined as unknown as string), /non-empty string/);
    rejects(() => validateDomain(42 as unknown as string), /non-empty string/);
  });
});

describe('validateModelId', () => {
  it.each(['9b2f3d1e-0d4c-4f1e-9a43-2c1b8f0e7a55', 'iris-v1', 'a..b', 'v1.', '...', 'nbsp\u00a0id', 'em\u2003space', 'nel\u0085', 'zwsp\u200bid', 'bom\ufeffid', 'rtl\u202eid', 'm😀', 'ünï模型', "a=b,c;d@e!f$g&h(i)j+k'l"])(
    'accepts %j (Python accepts it too)',
    (id) => {
      expect(validateModelId(id)).toBe(id);
    },
  );

  it.each([
    ['a b', /"\s"/],
    ['a  b', /"\s"/],
    ...[...'<>:"/\\|?*#^`%~{}[]'].map((character) => [`a${character}b`, /not allowed/] as [string, RegExp]),
    ['.', /path part/],
    ['..', /path part/],
    ['a\tb', /control/],
    ['a\rb', /control/],
    ['run.modelstore-lock', /file-system storage/],
    ['', /non-empty/],
  ])('refuses %j', (id, reason) => {
    rejects(() => validateModelId(id), reason);
  });
});

describe('validateStateName', () => {
  it.each(['production', 'in review', 'abc', '...', 'ünï', 'a😀b', 'x.json'])('accepts %j (Python accepts it too)', (state) => {
    expect(validateStateName(state)).toBe(state);
  });

  it.each([
    ['ab', /at least 3/],
    // Two code points (Python's len is 2), though three UTF-16 units.
    ['a😀', /at least 3/],
    ['modelstore-deleted', /reserved/],
    ['a/b/c', /path separators/],
    ['a\\bc', /path separators/],
    ['tab\tstate', /control/],
  ])('refuses %j', (state, reason) => {
    rejects(() => validateStateName(state), reason);
  });

  it('accepts the deleted state where the library itself sets it', () => {
    expect(validateStateName('modelstore-deleted', { allowReserved: true })).toBe('modelstore-deleted');
  });
});
