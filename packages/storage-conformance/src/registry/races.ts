import { ModelExistsError, type ModelMetadata, type Storage } from '@modelstore/core';
import { indexSettings, layout } from '@modelstore/core/internal';
import type { RegistryConformanceContext } from './context.js';

/**
 * The registry suite's 'races' group: reused and contested model ids, concurrent uploads and labelling.
 * Registers its tests in the current `describe`; `describeRegistryConformance` registers each group in turn.
 */
export function registryRaceTests<S extends Storage>(ctx: RegistryConformanceContext<S>): void {
  const { it, expect } = ctx.test;

  it(
    'refuses to reuse a model id, leaving no orphan archive',
    async () => {
      await ctx.upload('churn', { modelId: 'fixed-id' });
      await expect(ctx.upload('churn', { modelId: 'fixed-id' })).rejects.toBeInstanceOf(ModelExistsError);
      const archives = (await ctx.storage.list(layout.domainPrefix('churn'))).objects.filter((object) => object.key.endsWith('.tar.gz'));
      expect(archives).toHaveLength(1);
    },
    ctx.timeout,
  );

  it(
    'lists all of 8 concurrent uploads and points the domain at the newest',
    async () => {
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => ctx.upload('busy', { extraMetadata: { writer: i } })));
      const ids = await ctx.store.listModels('busy');
      expect(ids.sort()).toEqual(results.map((metadata) => metadata.model.model_id).sort());
      const newest = [...results].sort((a, b) => Date.parse(b.code!.created_at!) - Date.parse(a.code!.created_at!) || (a.model.model_id < b.model.model_id ? 1 : -1))[0]!;
      expect((await ctx.store.getDomain('busy')).model.model_id).toBe(newest.model.model_id);
    },
    ctx.timeout,
  );

  it(
    'loses no update when many writers upload and label models on one domain at once',
    async () => {
      // MODELSTORE_RACE_WRITERS x MODELSTORE_RACE_UPLOADS: 4 x 5 in the ordinary run, 16 x 20 in test:reliability.
      const writers = Number(process.env.MODELSTORE_RACE_WRITERS ?? 4);
      const uploads = Number(process.env.MODELSTORE_RACE_UPLOADS ?? 5);
      await ctx.store.createModelState('production');
      const expectedInState = new Set<string>();
      const all: ModelMetadata[] = [];
      // The latest pointer never moves back: once an upload has returned, the domain's
      // latest is that model or a newer one, whatever the other writers do.
      const movedBack: string[] = [];
      const order = (metadata: ModelMetadata) => [Date.parse(metadata.code!.created_at!), metadata.model.model_id] as const;
      await Promise.all(
        Array.from({ length: writers }, async (_, writer) => {
          let previous: string | undefined;
          for (let i = 0; i < uploads; i++) {
            const metadata = await ctx.store.upload('race', { model: ctx.extraFiles[1]!, modelId: `w${writer}-u${i}` });
            all.push(metadata);
            const [time, id] = order(metadata);
            const [latestTime, latestId] = order(await ctx.store.getDomain('race'));
            if (latestTime < time || (latestTime === time && latestId < id)) movedBack.push(`${latestId} after ${id}`);
            // Each writer keeps only its newest model in production, as a promotion job would.
            await ctx.store.setModelState('race', metadata.model.model_id, 'production');
            if (previous) await ctx.store.removeModelState('race', previous, 'production');
            previous = metadata.model.model_id;
          }
          expectedInState.add(previous!);
        }),
      );
      expect(movedBack).toEqual([]);
      const listed = await ctx.store.listModels('race');
      expect(listed).toHaveLength(writers * uploads);
      expect(new Set(listed).size).toBe(writers * uploads);
      const newest = [...all].sort((a, b) => Date.parse(b.code!.created_at!) - Date.parse(a.code!.created_at!) || (a.model.model_id < b.model.model_id ? 1 : -1))[0]!;
      expect(listed[0]).toBe(newest.model.model_id);
      expect((await ctx.store.getDomain('race')).model.model_id).toBe(newest.model.model_id);
      expect((await ctx.store.listModels('race', { state: 'production' })).sort()).toEqual([...expectedInState].sort());
    },
    Math.max(ctx.timeout, 300_000),
  );

  it(
    'lets exactly one of 4 concurrent uploads of one model id win',
    async () => {
      const results = await Promise.allSettled(Array.from({ length: 4 }, () => ctx.upload('same', { modelId: 'contested' })));
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
      for (const result of results) {
        if (result.status === 'rejected') expect(ModelExistsError.isInstance(result.reason)).toBe(true);
      }
      const archives = (await ctx.storage.list(layout.domainPrefix('same'))).objects.filter((object) => object.key.endsWith('.tar.gz'));
      expect(archives).toHaveLength(1);
      const winner = await ctx.store.getModelInfo('same', 'contested');
      expect(archives[0]!.key).toBe(layout.archive('same', new Date(winner.code!.created_at!), 'contested'));
    },
    ctx.timeout,
  );

  it(
    'loses no update to the index when many writers upload while compactions run: its pages equal the listing, in order',
    async () => {
      // MODELSTORE_RACE_WRITERS x MODELSTORE_RACE_UPLOADS, as above. Compactions are made
      // frequent (a log of 8 is due, every upload checks, parts of 16) and one more loop compacts.
      const writers = Number(process.env.MODELSTORE_RACE_WRITERS ?? 4);
      const uploads = Number(process.env.MODELSTORE_RACE_UPLOADS ?? 5);
      const saved = { ...indexSettings };
      Object.assign(indexSettings, { compactAt: 8, checkChance: 1, partSize: 16 });
      try {
        let writing = true;
        let published = 0;
        const compactor = (async () => {
          while (writing) {
            if ((await ctx.store.compactIndex('indexed')).published) published++;
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        })();
        const ids = (
          await Promise.all(
            Array.from({ length: writers }, async (_, writer) => {
              const mine: string[] = [];
              for (let i = 0; i < uploads; i++) mine.push((await ctx.store.upload('indexed', { model: ctx.extraFiles[0]!, modelId: `w${writer}-u${i}` })).model.model_id);
              return mine;
            }),
          )
        ).flat();
        writing = false;
        await compactor;
        const listed = await ctx.store.listModels('indexed');
        expect([...listed].sort()).toEqual([...ids].sort());
        const pages: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await ctx.store.listModels('indexed', { limit: 7, ...(cursor === undefined ? {} : { cursor }) });
          pages.push(...page.models);
          cursor = page.cursor;
        } while (cursor !== undefined);
        expect(pages).toEqual(listed);
        expect(published > 0).toBe(true);
      } finally {
        Object.assign(indexSettings, saved);
      }
    },
    ctx.timeout * 4,
  );
}
