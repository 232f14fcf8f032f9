import type { Storage } from '@modelstore/core';
import { Readable } from 'node:stream';
import type { StorageConformanceContext } from './context.js';
import { groupTools, readAll, readText, listAll } from './helpers.js';

/**
 * The storage suite's 'round trips' group: put and get of bytes, strings, streams and iterables; overwrites; failed puts leave nothing.
 * Registers its tests in the current `describe`; `describeStorageConformance` wraps them in one named 'round trips'.
 */
export function storageRoundTripTests<S extends Storage>(ctx: StorageConformanceContext<S>): void {
  const { it, expect, k } = groupTools(ctx);

  it('round-trips bytes, including a Uint8Array view into a larger buffer', async () => {
    const backing = new Uint8Array(300).map((_, i) => i % 251);
    const view = backing.subarray(10, 266);
    const info = await ctx.storage.put(k('bytes'), view);
    expect(info.key).toBe(k('bytes'));
    expect(info.size).toBe(256);
    const object = await ctx.storage.get(k('bytes'));
    expect(object).toBeDefined();
    expect(Buffer.compare(await readAll(object!.body), Buffer.from(view))).toBe(0);
    expect(object!.size).toBe(256);
    expect(object!.etag).toBe(info.etag);
  });

  it('round-trips a UTF-8 string', async () => {
    const text = 'modèle ✓ 模型 🚀\n';
    const info = await ctx.storage.put(k('text.txt'), text);
    expect(info.size).toBe(Buffer.byteLength(text));
    expect(await readText(ctx.storage, k('text.txt'))).toBe(text);
  });

  it('round-trips a Node stream', async () => {
    const chunks = [Buffer.from('alpha '), Buffer.from('beta '), Buffer.from('gamma')];
    await ctx.storage.put(k('stream'), Readable.from(chunks));
    expect(await readText(ctx.storage, k('stream'))).toBe('alpha beta gamma');
  });

  it('round-trips an async iterable', async () => {
    async function* generate() {
      for (let i = 0; i < 5; i++) yield new TextEncoder().encode(`part-${i};`);
    }
    await ctx.storage.put(k('iterable'), generate());
    expect(await readText(ctx.storage, k('iterable'))).toBe('part-0;part-1;part-2;part-3;part-4;');
  });

  it('round-trips an empty object', async () => {
    const info = await ctx.storage.put(k('empty'), new Uint8Array(0));
    expect(info.size).toBe(0);
    const object = await ctx.storage.get(k('empty'));
    expect((await readAll(object!.body)).length).toBe(0);
  });

  it('round-trips keys with spaces, unicode and deep nesting', async () => {
    const keys = [k('with space/file name.json'), k('ünï/çødé/模型.bin'), k('a/b/c/d/e/f/g/h.txt')];
    for (const key of keys) await ctx.storage.put(key, key);
    for (const key of keys) expect(await readText(ctx.storage, key)).toBe(key);
  });

  it('overwrites, and the etag changes with the bytes', async () => {
    const first = await ctx.storage.put(k('over'), 'same');
    const second = await ctx.storage.put(k('over'), 'different and longer');
    expect(second.etag).not.toBe(first.etag);
    expect(await readText(ctx.storage, k('over'))).toBe('different and longer');
    const third = await ctx.storage.put(k('over'), 'same');
    expect(third.etag).not.toBe(second.etag);
    expect((await ctx.storage.head(k('over')))!.etag).toBe(third.etag);
  });

  it('fails a put whose body errors, and leaves no object', async () => {
    async function* failing() {
      yield Buffer.alloc(1024, 1);
      throw new Error('source failed');
    }
    await expect(ctx.storage.put(k('broken'), failing())).rejects.toThrow();
    expect(await ctx.storage.head(k('broken'))).toBeUndefined();
    expect((await listAll(ctx.storage, ctx.prefix)).keys).toEqual([]);
  });

  it('keeps the previous object when an overwrite fails', async () => {
    await ctx.storage.put(k('kept'), 'original');
    async function* failing() {
      yield Buffer.from('partial');
      throw new Error('source failed');
    }
    await expect(ctx.storage.put(k('kept'), failing())).rejects.toThrow();
    expect(await readText(ctx.storage, k('kept'))).toBe('original');
  });
}
