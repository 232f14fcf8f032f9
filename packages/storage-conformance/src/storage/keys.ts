import { InvalidNameError, type Storage } from '@modelstore/core';
import { eachCase } from '../test-api.js';
import type { StorageConformanceContext } from './context.js';
import { listAll } from './helpers.js';

/** The 'invalid key' classes every backend must reject before any I/O. */
export const invalidKeys: ReadonlyArray<[string, string]> = [
  ['empty key', ''],
  ['leading slash', '/a/b'],
  ['empty segment', 'a//b'],
  ['trailing slash', 'a/b/'],
  ['dot segment', 'a/./b'],
  ['leading dot segment', './a'],
  ['dot-dot segment', 'a/../b'],
  ['leading dot-dot', '../a'],
  ['trailing dot-dot', 'a/..'],
  ['backslash', 'a\\b'],
  ['backslash traversal', '..\\a'],
  ['NUL', 'a\u0000b'],
  ['newline', 'a\nb'],
  ['control character', 'a\u001bb'],
  ['DEL', 'a\u007f'],
];

/**
 * The storage suite's 'keys' group: invalid keys and list prefixes rejected with InvalidNameError before any I/O.
 * Registers its tests in the current `describe`; `describeStorageConformance` wraps them in one named 'keys'.
 */
export function storageKeyTests<S extends Storage>(ctx: StorageConformanceContext<S>): void {
  const { expect } = ctx.test;

  eachCase(
    ctx.test,
    invalidKeys,
    ([label]) => `rejects a key with ${label} before any I/O`,
    async ([, suffix]) => {
      const key = suffix.startsWith('/') || suffix === '' ? suffix : `${ctx.prefix}${suffix}`;
      let bodyRead = false;
      async function* body() {
        bodyRead = true;
        yield Buffer.from('never');
      }
      await expect(ctx.storage.put(key, body())).rejects.toMatchObject({ code: 'INVALID_NAME' });
      await expect(ctx.storage.get(key)).rejects.toMatchObject({ code: 'INVALID_NAME' });
      await expect(ctx.storage.head(key)).rejects.toMatchObject({ code: 'INVALID_NAME' });
      await expect(ctx.storage.delete(key)).rejects.toMatchObject({ code: 'INVALID_NAME' });
      let thrown: unknown;
      try {
        ctx.storage.describe(key);
      } catch (error) {
        thrown = error;
      }
      expect(InvalidNameError.isInstance(thrown)).toBe(true);
      expect(bodyRead).toBe(false);
      expect((await listAll(ctx.storage, ctx.prefix)).keys).toEqual([]);
    },
  );

  eachCase(
    ctx.test,
    [['/a'], ['a//'], ['../'], ['a/../b/'], ['a\\'], ['a\u0000']] as const,
    ([bad]) => `rejects the list prefix ${JSON.stringify(bad)}`,
    async ([bad]) => {
      await expect(ctx.storage.list(bad)).rejects.toMatchObject({ code: 'INVALID_NAME' });
    },
  );
}
