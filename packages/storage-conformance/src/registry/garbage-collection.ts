import { type Storage } from '@modelstore/core';
import { layout } from '@modelstore/core/internal';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { RegistryConformanceContext } from './context.js';
import { sha256, treeDigest } from './helpers.js';

/**
 * The registry suite's 'garbage collection' group: orphan archives collected past the grace period.
 * Registers its tests in the current `describe`; `describeRegistryConformance` registers each group in turn.
 */
export function registryGarbageCollectionTests<S extends Storage>(ctx: RegistryConformanceContext<S>): void {
  const { it, expect } = ctx.test;

  it(
    'collects orphan archives past the grace period, and nothing else',
    async () => {
      const kept = await ctx.upload('churn', { modelId: 'kept' });
      const gone = await ctx.upload('churn', { modelId: 'gone' });
      await ctx.store.deleteModel('churn', 'gone');
      const orphanKey = layout.archive('churn', new Date(), 'never-committed');
      await ctx.storage.put(orphanKey, 'an archive whose upload died before its commit');
      // A deleted model whose archive survived a crash in the middle of its deletion.
      const deletedKey = layout.archive('churn', new Date(gone.code!.created_at!), 'gone');
      await ctx.storage.put(deletedKey, 'leftover');

      const young = await ctx.store.collectGarbage();
      expect(young.removed).toEqual([]);
      expect(young.kept.map((object) => object.key).sort()).toEqual([deletedKey, orphanKey].sort());

      const dry = await ctx.store.collectGarbage({ olderThan: 0, dryRun: true, quiesced: true });
      expect(dry.removed.map((object) => object.key).sort()).toEqual([deletedKey, orphanKey].sort());
      expect(await ctx.storage.head(orphanKey)).toBeDefined();

      const swept = await ctx.store.collectGarbage({ olderThan: 0, quiesced: true });
      expect(swept.removed.map((object) => object.key).sort()).toEqual([deletedKey, orphanKey].sort());
      expect(await ctx.storage.head(orphanKey)).toBeUndefined();
      expect(await ctx.storage.head(deletedKey)).toBeUndefined();
      expect(treeDigest(await ctx.store.download('churn', { modelId: 'kept', to: path.join(ctx.work, 'kept') }))['model.bin']).toBe(sha256(readFileSync(ctx.modelFile)));
      expect(kept.model.model_id).toBe('kept');
    },
    ctx.timeout,
  );
}
