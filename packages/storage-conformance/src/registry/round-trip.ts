import type { ModelMetadata, Storage } from '@modelstore/core';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RegistryConformanceContext } from './context.js';
import { sha256, treeDigest, pause } from './helpers.js';

/**
 * The registry suite's 'round trips' group: upload, list, read, download and load, byte for byte; directory models.
 * Registers its tests in the current `describe`; `describeRegistryConformance` registers each group in turn.
 */
export function registryRoundTripTests<S extends Storage>(ctx: RegistryConformanceContext<S>): void {
  const { it, expect } = ctx.test;

  it(
    'round-trips the whole API, byte for byte',
    async () => {
      const uploaded: ModelMetadata[] = [];
      for (let i = 0; i < 3; i++) {
        uploaded.push(await ctx.upload('churn', { extraMetadata: { run: i } }));
        await pause(5);
      }
      const first = uploaded[0]!;
      expect(first.model).toEqual({ domain: 'churn', model_id: expect.stringMatching(/^[0-9a-f-]{36}$/), model_type: { library: 'model_file' }, parameters: {} });
      expect(first.code).toEqual(expect.objectContaining({ runtime: `node:${process.versions.node}`, created: expect.stringMatching(/^\d{4}\/\d{2}\/\d{2}\/\d{2}:\d{2}:\d{2}$/) }));
      expect(first.extra).toEqual({ run: 0 });
      expect(Object.keys(first.archive!.files).sort()).toEqual(['extras/README.txt', 'extras/labels.json', 'model-info.json', 'model.bin']);
      expect(first.archive!.files['model.bin']!.sha256).toBe(sha256(readFileSync(ctx.modelFile)));

      const ids = uploaded.map((metadata) => metadata.model.model_id);
      expect(await ctx.store.listModels('churn')).toEqual([...ids].reverse());
      expect(await ctx.store.listDomains()).toEqual(['churn']);
      expect((await ctx.store.getDomain('churn')).model.model_id).toBe(ids[2]);
      expect(await ctx.store.getModelInfo('churn', ids[1]!)).toEqual(uploaded[1]);
      expect(await ctx.store.modelExists('churn', ids[1]!)).toBe(true);
      expect(await ctx.store.modelExists('churn', 'no-such-model')).toBe(false);

      const to = path.join(ctx.work, 'downloaded');
      expect(await ctx.store.download('churn', { modelId: ids[0]!, to })).toBe(to);
      expect(treeDigest(to)).toEqual({
        'model-info.json': sha256('{"library":"model_file"}'),
        'model.bin': sha256(readFileSync(ctx.modelFile)),
        'extras/README.txt': sha256(readFileSync(ctx.extraFiles[0]!)),
        'extras/labels.json': sha256(readFileSync(ctx.extraFiles[1]!)),
      });
      const loaded = await ctx.store.load<string>('churn');
      expect(treeDigest(loaded)['model.bin']).toBe(sha256(readFileSync(ctx.modelFile)));
      expect(readdirSync(ctx.work).filter((name) => name.includes('staging'))).toEqual([]);
    },
    ctx.timeout,
  );

  it(
    "keeps a directory model's tree",
    async () => {
      const directory = path.join(ctx.work, 'model-dir');
      mkdirSync(path.join(directory, 'weights', 'shards'), { recursive: true });
      writeFileSync(path.join(directory, 'config.json'), '{"layers":3}');
      writeFileSync(path.join(directory, 'weights', 'shards', 'a.bin'), Buffer.alloc(5000, 1));
      const metadata = await ctx.store.upload('tree', { model: directory });
      const to = await ctx.store.download('tree', { modelId: metadata.model.model_id, to: path.join(ctx.work, 'tree-out') });
      expect(Object.keys(treeDigest(to)).sort()).toEqual(['config.json', 'model-info.json', 'weights/shards/a.bin']);
    },
    ctx.timeout,
  );
}
