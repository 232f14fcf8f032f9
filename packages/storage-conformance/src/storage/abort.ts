import type { Storage } from '@modelstore/core';
import type { StorageConformanceContext } from './context.js';
import { groupTools, readText, listAll } from './helpers.js';

/**
 * The storage suite's 'abort' group: puts aborted through an AbortSignal leave the previous state.
 * Registers its tests in the current `describe`; `describeStorageConformance` wraps them in one named 'abort'.
 */
export function storageAbortTests<S extends Storage>(ctx: StorageConformanceContext<S>): void {
  const { it, expect, k } = groupTools(ctx);

  it('leaves no object when a put is aborted mid-stream', async () => {
    const controller = new AbortController();
    async function* slowBody() {
      yield Buffer.alloc(64 * 1024, 7);
      controller.abort();
      await new Promise((resolve) => setTimeout(resolve, 50));
      yield Buffer.alloc(64 * 1024, 8);
    }
    await expect(ctx.storage.put(k('aborted'), slowBody(), { signal: controller.signal })).rejects.toThrow();
    expect(await ctx.storage.head(k('aborted'))).toBeUndefined();
    expect((await listAll(ctx.storage, ctx.prefix)).keys).toEqual([]);
  });

  it('keeps the previous object when an overwrite is aborted', async () => {
    await ctx.storage.put(k('keep'), 'original');
    const controller = new AbortController();
    async function* slowBody() {
      yield Buffer.from('replacement, part one');
      controller.abort();
      await new Promise((resolve) => setTimeout(resolve, 50));
      yield Buffer.from(', part two');
    }
    await expect(ctx.storage.put(k('keep'), slowBody(), { signal: controller.signal })).rejects.toThrow();
    expect(await readText(ctx.storage, k('keep'))).toBe('original');
  });

  it('rejects a put whose signal is already aborted, writing nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(ctx.storage.put(k('never'), 'x', { signal: controller.signal })).rejects.toThrow();
    expect(await ctx.storage.head(k('never'))).toBeUndefined();
  });
}
