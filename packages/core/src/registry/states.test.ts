// Unit tests of model states: the state documents, the live models of a state (a copy
// left for a deleted model is not listed, a damaged document is null), statesOf.
import { describe, expect, it } from '@jest/globals';
import { text } from 'node:stream/consumers';
import { ModelNotFoundError, StateNotFoundError } from '../errors.js';
import { MemoryStorage } from '../memory-storage.js';
import { deletedState } from '../names.js';
import { layout } from '../registry-layout.js';
import type { Body, PutOptions } from '../storage.js';
import { documentText, putModel, recording } from '../../test/support.js';
import { recordModel } from './creation-index.js';
import { indexReads } from '../../test/support.js';
import { readModel } from './documents.js';
import { ensureState, modelsInState, newestInState, requireState, statesOf } from './states.js';

describe('ensureState and requireState', () => {
  it('creates the state document once, in Python modelstore shape', async () => {
    const storage = new MemoryStorage();
    await expect(requireState(storage, 'prod')).rejects.toBeInstanceOf(StateNotFoundError);
    await ensureState(storage, 'prod');
    await requireState(storage, 'prod');
    const document = JSON.parse(await text((await storage.get(layout.state('prod')))!.body)) as { created: string; state_name: string };
    expect(document.state_name).toBe('prod');
    expect(document.created).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\d{2}:\d{2}:\d{2}$/);
    const { etag } = (await storage.head(layout.state('prod')))!;
    await ensureState(storage, 'prod');
    expect((await storage.head(layout.state('prod')))!.etag).toBe(etag);
  });

  it('lets concurrent creators agree: one write wins, none fails', async () => {
    let writes = 0;
    class CountingStorage extends MemoryStorage {
      override async put(key: string, body: Body, options?: PutOptions) {
        const info = await super.put(key, body, options);
        writes++;
        return info;
      }
    }
    const storage = new CountingStorage();
    await Promise.all(Array.from({ length: 8 }, () => ensureState(storage, 'prod')));
    expect(writes).toBe(1);
    await requireState(storage, 'prod');
  });
});

/** A store with the state `prod` holding models of domain `d`, each `[id, day]` committed and copied into `prod`. */
async function inProd(...models: Array<[id: string, day: number]>): Promise<MemoryStorage> {
  const storage = new MemoryStorage();
  await ensureState(storage, 'prod');
  for (const [id, day] of models) await putModel(storage, id, day, ['prod']);
  return storage;
}

describe('modelsInState and newestInState', () => {
  it('refuses a state that does not exist, even when copies are left under its folder', async () => {
    const storage = new MemoryStorage();
    await putModel(storage, 'a', 1, ['prod']);
    await expect(modelsInState(storage, 'd', 'prod')).rejects.toBeInstanceOf(StateNotFoundError);
    await expect(newestInState(storage, 'd', 'prod')).rejects.toBeInstanceOf(StateNotFoundError);
  });

  it('lists the live models in the state newest first, ties by id descending', async () => {
    const storage = await inProd(['a', 1], ['b', 5], ['c', 5]);
    await putModel(storage, 'd', 9, ['staging']);
    expect(await modelsInState(storage, 'd', 'prod')).toEqual(['c', 'b', 'a']);
    const newest = await newestInState(storage, 'd', 'prod');
    expect(newest.id).toBe('c');
    expect(newest.model?.text).toBe(documentText('c', 5));
  });

  it('orders by the committed document, not by the state copy', async () => {
    const storage = await inProd(['a', 2], ['b', 1]);
    // b's copy claims to be newest; its committed document says day 1.
    await storage.put(layout.stateVersion('d', 'prod', 'b'), documentText('b', 28));
    expect(await modelsInState(storage, 'd', 'prod')).toEqual(['a', 'b']);
  });

  it('does not list a state copy left for a deleted model, and a state holding only that has no newest', async () => {
    const storage = await inProd(['gone', 9], ['kept', 1]);
    await storage.delete(layout.version('d', 'gone'));
    await storage.put(layout.stateVersion('d', deletedState, 'gone'), documentText('gone', 9));
    expect(await modelsInState(storage, 'd', 'prod')).toEqual(['kept']);
    await storage.delete(layout.version('d', 'kept'));
    expect(await modelsInState(storage, 'd', 'prod')).toEqual([]);
    await expect(newestInState(storage, 'd', 'prod')).rejects.toBeInstanceOf(ModelNotFoundError);
  });

  it('orders a model whose document is damaged as oldest, and gives null for it as the newest', async () => {
    const storage = await inProd(['a', 1], ['z', 2]);
    await storage.put(layout.version('d', 'z'), '{"model": {');
    expect(await modelsInState(storage, 'd', 'prod')).toEqual(['a', 'z']);
    await storage.delete(layout.version('d', 'a'));
    expect(await newestInState(storage, 'd', 'prod')).toEqual({ id: 'z', model: null });
  });

  it('reads no member document but the newest one, whatever the size of the state', async () => {
    const storage = await inProd(...Array.from({ length: 40 }, (_, i) => [`m${i}`, (i % 27) + 1] as [string, number]));
    for (let i = 0; i < 40; i++) await recordModel(storage, (await readModel(storage, layout.version('d', `m${i}`)))!);
    const { storage: counted, calls } = recording(storage);
    expect((await newestInState(counted, 'd', 'prod')).id).toBe('m26');
    expect(calls.sort()).toEqual([...indexReads('d'), `get ${layout.version('d', 'm26')}`, `head ${layout.state('prod')}`, `list ${layout.versions('d')}`].sort());
  });

  it('ignores sub-folders and other files under the state folder', async () => {
    const storage = await inProd(['a', 1]);
    await storage.put(`${layout.stateVersions('d', 'prod')}nested/b.json`, documentText('b', 2));
    await storage.put(`${layout.stateVersions('d', 'prod')}c.txt`, 'x');
    expect(await modelsInState(storage, 'd', 'prod')).toEqual(['a']);
  });
});

describe('statesOf', () => {
  it('names the states holding a copy of exactly this model, never the deleted state', async () => {
    const storage = new MemoryStorage();
    await putModel(storage, 'm', 1, ['prod', 'staging', deletedState]);
    await putModel(storage, 'm2', 1, ['canary']);
    await putModel(storage, 'xm', 1, ['shadow']);
    await storage.put(`${layout.versions('d')}deep/er/m.json`, documentText('m', 1));
    expect((await statesOf(storage, 'd', 'm')).sort()).toEqual(['prod', 'staging']);
    expect(await statesOf(storage, 'd', 'none')).toEqual([]);
    expect(await statesOf(storage, 'other', 'm')).toEqual([]);
  });
});
