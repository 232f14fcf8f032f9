import { type Storage } from '@modelstore/core';
import { layout } from '@modelstore/core/internal';
import type { RegistryConformanceContext } from './context.js';
import { pause, itCounting } from './helpers.js';

/**
 * The registry suite's 'listing' group: listing a domain through its index, and without it.
 * Registers its tests in the current `describe`; `describeRegistryConformance` registers each group in turn.
 */
export function registryListingTests<S extends Storage>(ctx: RegistryConformanceContext<S>): void {
  const { expect } = ctx.test;

  itCounting(ctx, 'lists a domain in one read of its index plus listing pages, and still orders models the index lacks', async (counted, indexed) => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      ids.push((await indexed.upload('many', { model: ctx.extraFiles[1]!, modelId: `m${String(i).padStart(2, '0')}` })).model.model_id);
      await pause(2);
    }
    await indexed.createModelState('production');
    for (const id of ids.slice(0, 5)) await indexed.setModelState('many', id, 'production');
    counted.reset();
    expect(await indexed.listModels('many')).toEqual([...ids].reverse());
    // The index: its log's listing, its pointer (none before the first compaction), the first index's document.
    const indexGets = [`get ${layout.indexRoot('many')}_last_checkpoint`, `get ${layout.index('many')}`];
    expect(counted.calls.filter((call) => call.startsWith('get '))).toEqual(indexGets);
    counted.reset();
    // A state's members are its copies in the listing of versions/; whether each is live is
    // whether its committed document is listed too, and when it was made is the index entry of
    // that very document: only the newest member's document is read.
    expect((await indexed.getLatestModel('many', { state: 'production' })).model.model_id).toBe(ids[4]);
    expect(counted.calls.filter((call) => call.startsWith('get ')).sort()).toEqual([...indexGets, `get ${layout.version('many', ids[4]!)}`].sort());

    // Models the index does not know (written by Python modelstore, or by an upload that
    // died before indexing) are ordered from their metadata.
    for (const { key } of (await ctx.storage.list(layout.indexRoot('many'))).objects) await ctx.storage.delete(key);
    expect(await indexed.listModels('many')).toEqual([...ids].reverse());
    await ctx.storage.put(`${layout.indexRoot('many')}_last_checkpoint`, 'not json');
    await ctx.storage.put(layout.index('many'), 'not json');
    expect(await indexed.listModels('many')).toEqual([...ids].reverse());

    // Pages: the first from the index's log alone once compacted; then the same order page by page.
    await indexed.compactIndex('many');
    counted.reset();
    const first = await indexed.listModels('many', { limit: 5 });
    expect(first.models).toEqual([...ids].reverse().slice(0, 5));
    expect(counted.calls.length).toBeLessThanOrEqual(5);
    const paged = [...first.models];
    for (let cursor = first.cursor; cursor !== undefined; ) {
      const page = await indexed.listModels('many', { limit: 5, cursor });
      paged.push(...page.models);
      cursor = page.cursor;
    }
    expect(paged).toEqual([...ids].reverse());
  });
}
