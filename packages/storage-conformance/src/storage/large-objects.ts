import type { Storage } from '@modelstore/core';
import { createHash } from 'node:crypto';
import type { StorageConformanceContext } from './context.js';
import { groupTools, MiB, patternChunk, collectGarbage } from './helpers.js';

/**
 * The storage suite's 'large objects' group: a 64 MiB object streamed both ways within a memory budget.
 * Registers its tests in the current `describe`; `describeStorageConformance` wraps them in one named 'large objects'.
 */
export function storageLargeObjectTests<S extends Storage>(ctx: StorageConformanceContext<S>): void {
  const { it, expect, k } = groupTools(ctx);

  it(
    'puts a 64 MiB object from a generator and reads it back by hash, streaming both ways',
    async () => {
      const chunkSize = MiB;
      const chunks = 64;
      const expected = createHash('sha256');
      collectGarbage();
      const baseline = process.memoryUsage().arrayBuffers;
      let peak = 0;
      const sample = () => {
        peak = Math.max(peak, process.memoryUsage().arrayBuffers - baseline);
      };
      async function* generate() {
        for (let i = 0; i < chunks; i++) {
          const chunk = patternChunk(i, chunkSize);
          expected.update(chunk);
          // Collect first, so the sample counts what is live rather than garbage.
          collectGarbage();
          sample();
          yield chunk;
        }
      }
      let progress = 0;
      const info = await ctx.storage.put(k('large.bin'), generate(), {
        size: chunks * chunkSize,
        onProgress: (bytes) => {
          progress = bytes;
        },
      });
      expect(info.size).toBe(chunks * chunkSize);
      expect(progress).toBe(chunks * chunkSize);

      const object = await ctx.storage.get(k('large.bin'));
      const hash = createHash('sha256');
      let size = 0;
      let index = 0;
      for await (const chunk of object!.body as AsyncIterable<Buffer>) {
        hash.update(chunk);
        size += chunk.length;
        if (index++ % 16 === 0) {
          collectGarbage();
          sample();
        }
      }
      expect(size).toBe(chunks * chunkSize);
      expect(hash.digest('hex')).toBe(expected.digest('hex'));
      const gcExposed = typeof (globalThis as { gc?: unknown }).gc === 'function';
      if (!ctx.options.holdsObjectsInMemory) {
        // A store that gathers the object holds 64 MiB at once. Without --expose-gc,
        // garbage not yet collected counts too, hence the looser bound.
        expect(peak).toBeLessThan(gcExposed ? (ctx.options.streamingBudget ?? 40 * MiB) : 96 * MiB);
      }
    },
    ctx.slowTestTimeout,
  );
}
