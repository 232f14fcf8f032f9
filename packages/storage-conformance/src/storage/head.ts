import type { Storage } from '@modelstore/core';
import type { StorageConformanceContext } from './context.js';
import { groupTools } from './helpers.js';

/**
 * The storage suite's 'head' group: `head` and `get` of present, missing and prefix-only keys.
 * Registers its tests in the current `describe`; `describeStorageConformance` wraps them in one named 'head'.
 */
export function storageHeadTests<S extends Storage>(ctx: StorageConformanceContext<S>): void {
  const { it, expect, k } = groupTools(ctx);

  it('describes an object without reading it', async () => {
    const before = Date.now();
    const info = await ctx.storage.put(k('head/me'), 'twelve bytes');
    const head = await ctx.storage.head(k('head/me'));
    expect(head).toEqual(expect.objectContaining({ key: k('head/me'), size: 12, etag: info.etag }));
    expect(head!.lastModified).toBeInstanceOf(Date);
    // Allow for clock skew between a server and this process.
    expect(Math.abs(head!.lastModified.getTime() - before)).toBeLessThan(5 * 60_000);
  });

  it('gives undefined for a missing key, from head and get', async () => {
    expect(await ctx.storage.head(k('missing'))).toBeUndefined();
    expect(await ctx.storage.get(k('missing'))).toBeUndefined();
    expect(await ctx.storage.get(k('missing/deeper/still'))).toBeUndefined();
  });

  it('gives undefined for a "directory" that only exists as a prefix', async () => {
    await ctx.storage.put(k('dir/file'), 'x');
    expect(await ctx.storage.head(k('dir'))).toBeUndefined();
    expect(await ctx.storage.get(k('dir'))).toBeUndefined();
  });
}
