import { PreconditionFailedError, type Storage } from '@modelstore/core';
import type { StorageConformanceContext } from './context.js';
import { groupTools, readAll, readText } from './helpers.js';

/**
 * The storage suite's 'conditional writes' group: `ifNoneMatch: "*"` and `ifMatch`, alone and under races (stores that declare `conditionalWrites`).
 * Registers its tests in the current `describe`; `describeStorageConformance` wraps them in one named 'conditional writes'.
 */
export function storageConditionalWriteTests<S extends Storage>(ctx: StorageConformanceContext<S>): void {
  const { it, expect, k } = groupTools(ctx);

  it('creates with ifNoneMatch "*" only when the key is free', async () => {
    const created = await ctx.storage.put(k('once'), 'first', { ifNoneMatch: '*' });
    const error = await ctx.storage.put(k('once'), 'second', { ifNoneMatch: '*' }).catch((e: unknown) => e);
    expect(PreconditionFailedError.isInstance(error)).toBe(true);
    expect(await readText(ctx.storage, k('once'))).toBe('first');
    expect((await ctx.storage.head(k('once')))!.etag).toBe(created.etag);
  });

  it('replaces with ifMatch only the version it read', async () => {
    const v1 = await ctx.storage.put(k('cas'), 'v1');
    const v2 = await ctx.storage.put(k('cas'), 'v2', { ifMatch: v1.etag });
    expect(v2.etag).not.toBe(v1.etag);
    const stale = await ctx.storage.put(k('cas'), 'v3', { ifMatch: v1.etag }).catch((e: unknown) => e);
    expect(PreconditionFailedError.isInstance(stale)).toBe(true);
    expect(await readText(ctx.storage, k('cas'))).toBe('v2');
  });

  it('fails ifMatch on a missing key', async () => {
    const v1 = await ctx.storage.put(k('vanished'), 'v1');
    await ctx.storage.delete(k('vanished'));
    const error = await ctx.storage.put(k('vanished'), 'v2', { ifMatch: v1.etag }).catch((e: unknown) => e);
    expect(PreconditionFailedError.isInstance(error)).toBe(true);
    expect(await ctx.storage.head(k('vanished'))).toBeUndefined();
  });

  it(
    'lets exactly one of 10 concurrent create-only writers win',
    async () => {
      const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => ctx.storage.put(k('race'), `writer-${i}`, { ifNoneMatch: '*' })));
      const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      expect(winners).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected') expect(PreconditionFailedError.isInstance(r.reason)).toBe(true);
      }
      expect(await readText(ctx.storage, k('race'))).toBe(`writer-${winners[0]}`);
    },
    ctx.slowTestTimeout,
  );

  it(
    'ends at exactly 10 after 10 concurrent compare-and-swap increments',
    async () => {
      await ctx.storage.put(k('counter'), '0');
      let conflicts = 0;
      const increment = async () => {
        for (let attempt = 0; attempt < 200; attempt++) {
          const object = await ctx.storage.get(k('counter'));
          const value = Number((await readAll(object!.body)).toString());
          try {
            await ctx.storage.put(k('counter'), String(value + 1), { ifMatch: object!.etag });
            return;
          } catch (error) {
            if (!PreconditionFailedError.isInstance(error)) throw error;
            conflicts++;
          }
        }
        throw new Error('increment never won in 200 attempts');
      };
      await Promise.all(Array.from({ length: 10 }, increment));
      expect(await readText(ctx.storage, k('counter'))).toBe('10');
      expect(conflicts).toBeGreaterThanOrEqual(0);
    },
    ctx.slowTestTimeout,
  );
}
