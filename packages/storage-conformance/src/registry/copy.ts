import { RawAdapter } from '@modelstore/adapter-raw';
import { IntegrityError, MemoryStorage, ModelExistsError, ModelStore, type Storage } from '@modelstore/core';
import { layout } from '@modelstore/core/internal';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { RegistryConformanceContext } from './context.js';
import { sha256, treeDigest } from './helpers.js';

/**
 * The registry suite's 'copy' group: copying models between stores, and refusing tampered archives.
 * Registers its tests in the current `describe`; `describeRegistryConformance` registers each group in turn.
 */
export function registryCopyTests<S extends Storage>(ctx: RegistryConformanceContext<S>): void {
  const { it, expect } = ctx.test;

  it(
    'copies a model to another store and back, byte for byte, with its states',
    async () => {
      const { model } = await ctx.upload('churn', { extraMetadata: { run: 7 } });
      const other = new ModelStore({ storage: new MemoryStorage(), adapters: [new RawAdapter()], cacheDir: path.join(ctx.work, 'cache-other') });
      const copy = await ctx.store.copyModel('churn', model.model_id, other, { states: ['production'] });
      expect(copy.storage).toEqual(other.storage.describe(layout.archive('churn', new Date(copy.code!.created_at!), model.model_id)));
      expect(copy.extra).toEqual({ run: 7 });
      expect(await other.listModels('churn', { state: 'production' })).toEqual([model.model_id]);
      expect((await other.getDomain('churn')).model.model_id).toBe(model.model_id);
      const there = await other.download('churn', { to: path.join(ctx.work, 'copied') });
      expect(treeDigest(there)['model.bin']).toBe(sha256(readFileSync(ctx.modelFile)));
      await expect(ctx.store.copyModel('churn', model.model_id, other)).rejects.toBeInstanceOf(ModelExistsError);

      // And back into a fresh store on the backend under test.
      const backStorage = await ctx.options.createStorage();
      try {
        const back = new ModelStore({ storage: backStorage, adapters: [new RawAdapter()], cacheDir: path.join(ctx.work, 'cache-back') });
        await other.copyModel('churn', model.model_id, back);
        expect(treeDigest(await back.download('churn', { to: path.join(ctx.work, 'back') }))).toEqual(treeDigest(there));
      } finally {
        await ctx.options.destroyStorage?.(backStorage);
      }
    },
    ctx.timeout,
  );

  it(
    'refuses to copy an archive whose bytes no longer match the metadata',
    async () => {
      const metadata = await ctx.upload('churn', { modelId: 'tampered' });
      await ctx.storage.put(layout.archive('churn', new Date(metadata.code!.created_at!), 'tampered'), 'not the archive');
      const other = new ModelStore({ storage: new MemoryStorage(), adapters: [new RawAdapter()], cacheDir: path.join(ctx.work, 'cache-other') });
      await expect(ctx.store.copyModel('churn', 'tampered', other)).rejects.toBeInstanceOf(IntegrityError);
      expect((await other.storage.list('')).objects).toEqual([]);
    },
    ctx.timeout,
  );
}
