// Unit tests of the soft delete and its order: whatever storage call fails (and
// whether the process stops there or carries on), no state copy and no latest pointer
// is left naming a model that is not listed.
import { describe, expect, it } from '@jest/globals';
import { text } from 'node:stream/consumers';
import { ModelDeletedError, StorageError } from '../errors.js';
import { MemoryStorage } from '../memory-storage.js';
import { deletedState } from '../names.js';
import { layout } from '../registry-layout.js';
import { InterceptedStorage } from '../../test/support.js';
import { recordModel } from './creation-index.js';
import { mergedEntries, readIndexState, tagOf } from './index-log.js';
import { listAll, readModel } from './documents.js';
import { deleteModel } from './delete.js';
import { ensureState } from './states.js';

/**
 * Fails the `failAt`-th storage call (1-based, every kind of call counted). With
 * `crash`, every later call fails too, as if the process had died there.
 */
class FailingStorage extends InterceptedStorage {
  calls = 0;
  failAt = Number.POSITIVE_INFINITY;
  crash = false;
  log: string[] = [];
  protected override before(name: string, key: string): void {
    this.calls++;
    this.log.push(`${name} ${key}`);
    if (this.calls === this.failAt || (this.crash && this.calls > this.failAt)) throw new StorageError(`injected failure of ${name} ${key}`, { retryable: true });
  }
}

const archiveOf = (id: string) => `operatorai-model-store/d/2024.01.01-00.00.00/${id}/artifacts.tar.gz`;
const documentText = (id: string, day: number) =>
  JSON.stringify({
    model: { domain: 'd', model_id: id, model_type: { library: 'x' } },
    storage: { type: 'memory', prefix: archiveOf(id) },
    code: { created_at: `2024-01-${String(day).padStart(2, '0')}T00:00:00.000Z` },
    archive: { sha256: 's', size: 1, files: {}, upload_id: `u-${id}` },
  });

/** Models "a" (older, in prod) and "m" (newest, the latest, in prod and staging), indexed. */
async function registry(storage: MemoryStorage): Promise<void> {
  await ensureState(storage, 'prod');
  await ensureState(storage, 'staging');
  for (const [id, day, states] of [
    ['a', 1, ['prod']],
    ['m', 2, ['prod', 'staging']],
  ] as const) {
    await storage.put(archiveOf(id), 'archive');
    await storage.put(layout.version('d', id), documentText(id, day));
    for (const state of states) await storage.put(layout.stateVersion('d', state, id), documentText(id, day));
    await recordModel(storage, (await readModel(storage, layout.version('d', id)))!);
  }
  await storage.put(layout.domain('d'), documentText('m', 2));
}

/** Every state copy and the latest pointer name a listed model. */
async function checkNothingNamesAnUnlistedModel(storage: MemoryStorage, context: string): Promise<void> {
  const listed = new Set<string>();
  const copies: { state: string; id: string }[] = [];
  for await (const object of listAll(storage, layout.versions('d'))) {
    const parts = object.key.slice(layout.versions('d').length).split('/');
    if (parts.length === 1) listed.add(parts[0]!.slice(0, -'.json'.length));
    else if (parts[0] !== deletedState) copies.push({ state: parts[0]!, id: parts[1]!.slice(0, -'.json'.length) });
  }
  for (const { state, id } of copies) expect({ context, state, id, listed: listed.has(id) }).toEqual({ context, state, id, listed: true });
  const pointer = await storage.get(layout.domain('d'));
  if (pointer) {
    const id = (JSON.parse(await text(pointer.body)) as { model: { model_id: string } }).model.model_id;
    expect({ context, pointer: id, listed: listed.has(id) }).toEqual({ context, pointer: id, listed: true });
  }
}

describe('deleteModel', () => {
  it('moves the document to the deleted state, leaves every state, retreats the pointer, removes the archive and writes a tombstone in the index', async () => {
    const storage = new MemoryStorage();
    await registry(storage);
    await deleteModel(storage, 'd', 'm');
    expect(await storage.head(layout.version('d', 'm'))).toBeUndefined();
    expect(await text((await storage.get(layout.stateVersion('d', deletedState, 'm')))!.body)).toBe(documentText('m', 2));
    expect(await storage.head(layout.stateVersion('d', 'prod', 'm'))).toBeUndefined();
    expect(await storage.head(layout.stateVersion('d', 'staging', 'm'))).toBeUndefined();
    expect(await storage.head(layout.stateVersion('d', 'prod', 'a'))).toBeDefined();
    expect(await text((await storage.get(layout.domain('d')))!.body)).toBe(documentText('a', 2 - 1));
    expect(await storage.head(archiveOf('m'))).toBeUndefined();
    expect(await storage.head(archiveOf('a'))).toBeDefined();
    expect([...mergedEntries(await readIndexState(storage, layout.indexRoot('d'))).keys()]).toEqual(['a']);
    // The pointer moved back to "a": the registry's index of domains records that version.
    expect(mergedEntries(await readIndexState(storage, layout.domainsIndexRoot())).get('d')).toEqual({ id: 'd', time: Date.parse('2024-01-01T00:00:00.000Z'), tag: tagOf((await storage.head(layout.domain('d')))!.etag) });
    await expect(deleteModel(storage, 'd', 'm')).rejects.toBeInstanceOf(ModelDeletedError);
  });

  it('removes the pointer when the last model is deleted', async () => {
    const storage = new MemoryStorage();
    await registry(storage);
    await deleteModel(storage, 'd', 'm');
    await deleteModel(storage, 'd', 'a');
    expect(await storage.head(layout.domain('d'))).toBeUndefined();
    await checkNothingNamesAnUnlistedModel(storage, 'all deleted');
  });

  it('does not leave the pointer naming the deleted model when the only other model has a damaged document (fails today: retreatLatest retries 50 times, then gives up)', async () => {
    const storage = new FailingStorage();
    await storage.put(layout.version('d', 'a'), '{"model": ');
    await storage.put(archiveOf('m'), 'archive');
    await storage.put(layout.version('d', 'm'), documentText('m', 2));
    await storage.put(layout.domain('d'), documentText('m', 2));
    storage.calls = 0;
    await deleteModel(storage, 'd', 'm');
    await checkNothingNamesAnUnlistedModel(storage, 'a damaged document remains');
    expect(storage.calls).toBeLessThan(40);
  });

  for (const crash of [true, false]) {
    it(`leaves nothing naming an unlisted model when any storage call fails (${crash ? 'the process stops there' : 'one call fails, the rest succeed'}), and a retry finishes the delete`, async () => {
      // How many calls a delete that does not fail makes.
      const probe = new FailingStorage();
      await registry(probe);
      probe.calls = 0;
      await deleteModel(probe, 'd', 'm');
      const total = probe.calls;
      expect(total).toBeGreaterThan(8);
      // Known failure (one call fails, the rest succeed): a failed read of the pointer in
      // retreatLatest is taken for "no pointer", so the delete goes on and succeeds, and the
      // pointer is left naming the deleted model.
      for (let failAt = 1; failAt <= total; failAt++) {
        const storage = new FailingStorage();
        await registry(storage);
        storage.calls = 0;
        storage.log = [];
        storage.failAt = failAt;
        storage.crash = crash;
        await deleteModel(storage, 'd', 'm').catch((error: unknown) => {
          if (!StorageError.isInstance(error)) throw error;
        });
        storage.failAt = Number.POSITIVE_INFINITY;
        storage.crash = false;
        const context = `call ${failAt} of ${total} (${storage.log[failAt - 1]}) failed`;
        await checkNothingNamesAnUnlistedModel(storage, context);
        // Running the delete again (or finding it done) reaches the final state.
        await deleteModel(storage, 'd', 'm').catch((error: unknown) => {
          if (!ModelDeletedError.isInstance(error)) throw error;
        });
        await checkNothingNamesAnUnlistedModel(storage, `${context}, then retried`);
        expect({ context, listed: (await storage.head(layout.version('d', 'm'))) !== undefined }).toEqual({ context, listed: false });
        expect({ context, prod: (await storage.head(layout.stateVersion('d', 'prod', 'm'))) !== undefined }).toEqual({ context, prod: false });
      }
    });
  }
});
