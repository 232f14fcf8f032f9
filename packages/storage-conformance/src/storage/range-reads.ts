import type { Storage } from '@modelstore/core';
import { randomBytes } from 'node:crypto';
import type { StorageConformanceContext } from './context.js';
import { groupTools, MiB, readAll } from './helpers.js';

/**
 * The storage suite's 'range reads' group: inclusive byte ranges (stores that declare `rangeReads`).
 * Registers its tests in the current `describe`; `describeStorageConformance` wraps them in one named 'range reads'.
 */
export function storageRangeReadTests<S extends Storage>(ctx: StorageConformanceContext<S>): void {
  const { it, expect, k } = groupTools(ctx);

  it('reads inclusive byte ranges', async () => {
    await ctx.storage.put(k('range'), '0123456789');
    const read = async (range: { start: number; end?: number }) => {
      const object = await ctx.storage.get(k('range'), { range });
      expect(object!.size).toBe(10);
      return (await readAll(object!.body)).toString();
    };
    expect(await read({ start: 2, end: 5 })).toBe('2345');
    expect(await read({ start: 7 })).toBe('789');
    expect(await read({ start: 0, end: 0 })).toBe('0');
    expect(await read({ start: 8, end: 100 })).toBe('89');
  });

  it('rejects a malformed range with StorageError', async () => {
    await ctx.storage.put(k('range-bad'), '0123456789');
    for (const range of [{ start: -1 }, { start: 5, end: 2 }, { start: 1.5 }]) {
      await expect(ctx.storage.get(k('range-bad'), { range })).rejects.toMatchObject({ code: 'STORAGE' });
    }
  });

  it('reads a range from the middle of a large object', async () => {
    const data = randomBytes(3 * MiB + 17);
    await ctx.storage.put(k('range-large'), data);
    const object = await ctx.storage.get(k('range-large'), { range: { start: MiB - 5, end: 2 * MiB + 4 } });
    expect(Buffer.compare(await readAll(object!.body), data.subarray(MiB - 5, 2 * MiB + 5))).toBe(0);
  });
}
