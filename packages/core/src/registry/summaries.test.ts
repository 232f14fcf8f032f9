// Unit tests of listSummaries (ModelStore.listModelSummaries): the facts of every model
// from one listing, the index and the states — no read per model this library wrote —
// and a read (plus a head of the archive) only for those the index does not describe.
import { describe, expect, it } from '@jest/globals';
import { bytesAdapter } from '../../test/bytes-adapter.js';
import { indexReads, recording } from '../../test/support.js';
import { MemoryStorage } from '../memory-storage.js';
import { ModelStore } from '../model-store.js';
import { layout } from '../registry-layout.js';
import { listSummaries } from './summaries.js';

async function registry(count: number) {
  const storage = new MemoryStorage();
  const store = new ModelStore({ storage, adapters: [bytesAdapter] });
  const uploaded = [];
  for (let i = 0; i < count; i++) uploaded.push(await store.upload('d', { model: Buffer.alloc(100 + i, i), modelId: `m-${i}` }));
  return { storage, store, uploaded };
}

describe('listSummaries', () => {
  it("gives each model's time, archive size, library and states, newest first, without reading any model", async () => {
    const { storage, store, uploaded } = await registry(30);
    await store.createModelState('production');
    await store.createModelState('staging');
    await store.setModelState('d', 'm-3', 'production');
    await store.setModelState('d', 'm-3', 'staging');
    await store.setModelState('d', 'm-7', 'staging');
    const { storage: counted, calls } = recording(storage);
    const summaries = await listSummaries(counted, 'd');
    expect(summaries.map(({ modelId }) => modelId)).toEqual(await store.listModels('d'));
    for (const metadata of uploaded) {
      const summary = summaries.find(({ modelId }) => modelId === metadata.model.model_id)!;
      expect(summary).toEqual({
        modelId: metadata.model.model_id,
        createdAt: new Date(metadata.code!.created_at as string).toISOString(),
        size: metadata.archive!.size,
        library: 'bytes',
        states: metadata.model.model_id === 'm-3' ? ['production', 'staging'] : metadata.model.model_id === 'm-7' ? ['staging'] : [],
      });
    }
    // One listing of versions/, one of the states, the index (its log listing, its pointer; the first index until a compaction).
    expect(calls.sort()).toEqual([...indexReads('d'), `list ${layout.states()}`, `list ${layout.versions('d')}`].sort());
    expect((await listSummaries(counted, 'd', { state: 'staging' })).map(({ modelId }) => modelId)).toEqual(['m-7', 'm-3']);
  });

  it('reads the document, and heads the archive, of a model the index does not describe (as Python writes them)', async () => {
    const { storage, store, uploaded } = await registry(3);
    // As Python writes it: no created_at (a local stamp), no archive digest, not in the index.
    const python = JSON.parse(JSON.stringify(uploaded[1]));
    delete python.archive;
    delete python.code.created_at;
    python.code.created = '2024/01/02/03:04:05';
    python.model.model_type.library = 'sklearn';
    await storage.put(layout.version('d', 'm-1'), JSON.stringify(python));
    const { storage: counted, calls } = recording(storage);
    const summaries = await listSummaries(counted, 'd');
    const archiveBytes = uploaded[1]!.archive!.size;
    expect(summaries.at(-1)).toMatchObject({ modelId: 'm-1', library: 'sklearn', size: archiveBytes, createdAt: expect.stringMatching(/^2024-01-0[12]T/) });
    expect(calls.filter((call) => (call.startsWith('get ') || call.startsWith('head ')) && !indexReads('d').includes(call))).toEqual([`get ${layout.version('d', 'm-1')}`, expect.stringMatching(/^head .*m-1\/artifacts\.tar\.gz$/)]);
    expect(await store.listModelSummaries('d')).toEqual(summaries);
  });

  it('leaves out deleted models, state copies of deleted models, and undefined or deleted states', async () => {
    const { storage, store } = await registry(4);
    await store.createModelState('gone');
    await store.createModelState('kept');
    await store.setModelState('d', 'm-0', 'gone');
    await store.setModelState('d', 'm-2', 'kept');
    await store.deleteModelState('gone');
    await store.deleteModel('d', 'm-2');
    await storage.put(layout.stateVersion('d', 'never-made', 'm-1'), '{}');
    const summaries = await store.listModelSummaries('d');
    expect(summaries.map(({ modelId, states }) => [modelId, states])).toEqual([
      ['m-3', []],
      ['m-1', []],
      ['m-0', []],
    ]);
    expect(await store.listModelSummaries('d', { state: 'kept' })).toEqual([]);
    await expect(store.listModelSummaries('d', { state: 'gone' })).rejects.toMatchObject({ code: 'STATE_NOT_FOUND' });
    await expect(store.listModelSummaries('nowhere')).rejects.toMatchObject({ code: 'DOMAIN_NOT_FOUND' });
    await expect(store.listModelSummaries('d', { state: 'no/slash' })).rejects.toMatchObject({ code: 'INVALID_NAME' });
  });
});
