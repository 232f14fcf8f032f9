import type { Storage } from '@modelstore/core';
import { Readable } from 'node:stream';
import type { StorageConformanceContext } from './context.js';
import { groupTools, readAll, readText, listAll } from './helpers.js';

/**
 * The storage suite's 'concurrency' group: concurrent unconditional writes of one key and of many keys.
 * Registers its tests in the current `describe`; `describeStorageConformance` wraps them in one named 'concurrency'.
 */
export function storageConcurrencyTests<S extends Storage>(ctx: StorageConformanceContext<S>): void {
  const { it, expect, k } = groupTools(ctx);

  it(
    'never interleaves concurrent unconditional writes of one key',
    async () => {
      const bodies = Array.from({ length: 6 }, (_, i) => Buffer.alloc(256 * 1024, 65 + i));
      await Promise.all(bodies.map((body) => ctx.storage.put(k('shared'), Readable.from([body.subarray(0, 1000), body.subarray(1000)]))));
      const final = await readAll((await ctx.storage.get(k('shared')))!.body);
      expect(bodies.some((body) => Buffer.compare(body, final) === 0)).toBe(true);
    },
    ctx.slowTestTimeout,
  );

  it(
    'writes many keys concurrently',
    async () => {
      await Promise.all(Array.from({ length: 25 }, (_, i) => ctx.storage.put(k(`many/${String(i).padStart(2, '0')}`), `value ${i}`)));
      const { keys } = await listAll(ctx.storage, k('many/'));
      expect(keys).toHaveLength(25);
      expect(await readText(ctx.storage, k('many/07'))).toBe('value 7');
    },
    ctx.slowTestTimeout,
  );
}
