import type { Storage } from '@modelstore/core';
import type { StorageConformanceContext } from './context.js';
import { groupTools, listAll } from './helpers.js';

/**
 * The storage suite's 'delete' group: `delete` of present and missing keys, touching nothing else.
 * Registers its tests in the current `describe`; `describeStorageConformance` wraps them in one named 'delete'.
 */
export function storageDeleteTests<S extends Storage>(ctx: StorageConformanceContext<S>): void {
  const { it, expect, k } = groupTools(ctx);

  it('deletes an object and returns true, then false', async () => {
    await ctx.storage.put(k('gone'), 'bye');
    expect(await ctx.storage.delete(k('gone'))).toBe(true);
    expect(await ctx.storage.head(k('gone'))).toBeUndefined();
    expect(await ctx.storage.delete(k('gone'))).toBe(false);
  });

  it('returns false for a key that never existed, without throwing', async () => {
    expect(await ctx.storage.delete(k('never/was'))).toBe(false);
  });

  it('deletes only the key, not its siblings or longer keys', async () => {
    await ctx.storage.put(k('x'), '1');
    await ctx.storage.put(k('x2'), '2');
    await ctx.storage.put(k('y/x'), '3');
    await ctx.storage.delete(k('x'));
    expect((await listAll(ctx.storage, ctx.prefix)).keys).toEqual([k('x2'), k('y/x')]);
  });
}
