import type { ObjectInfo, Storage } from '@modelstore/core';
import type { StorageConformanceContext } from './context.js';
import { groupTools, listAll, byteOrder } from './helpers.js';

/**
 * The storage suite's 'list' group: recursive listing: prefix isolation, byte order, pagination.
 * Registers its tests in the current `describe`; `describeStorageConformance` wraps them in one named 'list'.
 */
export function storageListTests<S extends Storage>(ctx: StorageConformanceContext<S>): void {
  const { it, expect, k } = groupTools(ctx);

  it('isolates prefixes: "a/" does not return "ab/"', async () => {
    await ctx.storage.put(k('a/1'), '1');
    await ctx.storage.put(k('a/2/deep'), '2');
    await ctx.storage.put(k('ab/1'), '3');
    await ctx.storage.put(k('a-c'), '4');
    expect((await listAll(ctx.storage, k('a/'))).keys).toEqual([k('a/1'), k('a/2/deep')]);
    expect((await listAll(ctx.storage, k('ab/'))).keys).toEqual([k('ab/1')]);
    expect((await listAll(ctx.storage, k('a'))).keys).toEqual([k('a-c'), k('a/1'), k('a/2/deep'), k('ab/1')]);
    expect((await listAll(ctx.storage, k('zzz/'))).keys).toEqual([]);
  });

  it('lists recursively, in lexicographic byte order, with sizes and etags', async () => {
    // No key is also another key's "directory": file systems cannot hold both.
    const names = ['b', 'a/b/c', 'a-b', 'A', 'a.b', 'a/c', 'a0', 'z/y/x', 'é', 'a_b'];
    const infos = new Map<string, ObjectInfo>();
    for (const name of names) infos.set(k(name), await ctx.storage.put(k(name), `${name}!`));
    const { pages } = await listAll(ctx.storage, ctx.prefix);
    const objects = pages.flat();
    expect(objects.map((o) => o.key)).toEqual(names.map(k).sort(byteOrder));
    for (const object of objects) {
      expect(object.size).toBe(Buffer.byteLength(object.key.slice(ctx.prefix.length)) + 1);
      expect(object.etag).toBe(infos.get(object.key)!.etag);
      expect(object.lastModified).toBeInstanceOf(Date);
    }
  });

  it('paginates with limit 2 and cursors over 7 keys', async () => {
    const names = ['k1', 'k2', 'k3', 'k4/x', 'k5', 'k6/y/z', 'k7'];
    for (const name of [...names].reverse()) await ctx.storage.put(k(name), name);
    const { pages, keys } = await listAll(ctx.storage, ctx.prefix, 2);
    expect(keys).toEqual(names.map(k));
    expect(pages.length).toBeGreaterThanOrEqual(4);
    for (const page of pages) expect(page.length).toBeLessThanOrEqual(2);
    expect(new Set(keys).size).toBe(7);
  });

  it('refuses a limit that is not a whole number from 1 (0, -1, 2.5, NaN, Infinity) with InvalidOptionError, and caps a large one at 1000', async () => {
    await ctx.storage.put(k('l/1'), '1');
    await ctx.storage.put(k('l/2'), '2');
    await ctx.storage.put(k('l/3'), '3');
    for (const limit of [0, -1, 2.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(ctx.storage.list(k('l/'), { limit })).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'limit' });
    }
    const capped = await ctx.storage.list(k('l/'), { limit: 5000 });
    expect(capped.objects.map((o) => o.key)).toEqual([k('l/1'), k('l/2'), k('l/3')]);
    const two = await ctx.storage.list(k('l/'), { limit: 2 });
    expect(two.objects).toHaveLength(2);
    expect(two.cursor).toBeDefined();
  });

  it('returns an empty page with no cursor for an empty prefix', async () => {
    const page = await ctx.storage.list(k('nothing/'));
    expect(page.objects).toEqual([]);
    expect(page.cursor).toBeUndefined();
  });
}
