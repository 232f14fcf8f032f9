// The domain pointer (domains/<domain>.json) and index move by compare-and-swap on
// the version that was read: another writer acting between the read and the write
// must make the write fail and be retried, never be overwritten.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MemoryStorage, ModelStore, type GetOptions, type StoredObject } from '../src/index.js';
import { layout } from '../src/internal.js';
import { bytesAdapter } from './bytes-adapter.js';

/** Runs `meanwhile` once: right after the next read of `key` (before the reader sees it), or right before its next delete. */
class InterleavingStorage extends MemoryStorage {
  private hook: { operation: 'get' | 'delete'; key: string; meanwhile: () => Promise<void> } | undefined;

  interleave(operation: 'get' | 'delete', key: string, meanwhile: () => Promise<void>): void {
    this.hook = { operation, key, meanwhile };
  }

  private async fire(operation: 'get' | 'delete', key: string): Promise<void> {
    const hook = this.hook;
    if (hook?.operation !== operation || hook.key !== key) return;
    this.hook = undefined;
    await hook.meanwhile();
  }

  override async get(key: string, options?: GetOptions): Promise<StoredObject | undefined> {
    const result = await super.get(key, options);
    await this.fire('get', key);
    return result;
  }

  override async delete(key: string): Promise<boolean> {
    await this.fire('delete', key);
    return super.delete(key);
  }
}

let work: string;
let storage: InterleavingStorage;
let store: ModelStore;
const model = Buffer.from('weights '.repeat(100));

beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'modelstore-pointer-'));
  storage = new InterleavingStorage();
  store = new ModelStore({ storage, adapters: [bytesAdapter], cacheDir: path.join(work, 'cache') });
});

afterEach(() => rmSync(work, { recursive: true, force: true }));

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

/** Uploads "older"; right after it reads the pointer, "newer" (created later) is uploaded and completes. The pointer must end on "newer". */
async function uploadOlderWhileNewerLands(): Promise<void> {
  storage.interleave('get', layout.domain('d'), async () => {
    await tick();
    await store.upload('d', { model, modelId: 'newer' });
  });
  await store.upload('d', { model, modelId: 'older' });
  expect((await store.getDomain('d')).model.model_id).toBe('newer');
}

describe('the domain pointer under concurrent writers', () => {
  it('keeps a newer model created between an older upload reading "no pointer" and writing one', async () => {
    // The older upload reads the pointer (none yet); meanwhile a newer upload completes.
    await uploadOlderWhileNewerLands();
    expect(await store.listModels('d')).toEqual(['newer', 'older']);
  });

  it('keeps a newer model written between an older upload reading the previous pointer and replacing it', async () => {
    await store.upload('d', { model, modelId: 'first' });
    await tick();
    await uploadOlderWhileNewerLands();
  });

  it('replaces a damaged pointer, but not a valid one written after the damaged one was read', async () => {
    await store.upload('d', { model, modelId: 'first' });
    await storage.put(layout.domain('d'), '{"model": {"domain": "d", "mod');
    // A damaged pointer is read as a missing one: the newest committed model is the latest.
    expect((await store.getDomain('d')).model.model_id).toBe('first');
    await tick();
    await store.upload('d', { model, modelId: 'second' });
    expect((await store.getDomain('d')).model.model_id).toBe('second');

    await storage.put(layout.domain('d'), 'not json');
    await tick();
    await uploadOlderWhileNewerLands();
  });

  it('ignores a damaged index (the first one, or the checkpoint pointer), which the next compaction replaces', async () => {
    await store.upload('d', { model, modelId: 'first' });
    await storage.put(layout.index('d'), '{"models": {"first": 1');
    await storage.put(`${layout.indexRoot('d')}_last_checkpoint`, '{"version": 1, "parts": [');
    await tick();
    await store.upload('d', { model, modelId: 'second' });
    expect(await store.listModels('d')).toEqual(['second', 'first']);
    expect((await store.listModels('d', { limit: 1 })).models).toEqual(['second']);
    await store.compactIndex('d');
    const chunks: Buffer[] = [];
    for await (const chunk of (await storage.get(`${layout.indexRoot('d')}_last_checkpoint`))!.body) chunks.push(Buffer.from(chunk));
    expect(JSON.parse(Buffer.concat(chunks).toString('utf8'))).toMatchObject({ version: 1, count: 2 });
    const first = await store.listModels('d', { limit: 1 });
    expect(first.models).toEqual(['second']);
    expect((await store.listModels('d', { limit: 1, cursor: first.cursor! })).models).toEqual(['first']);
  });

  it('restores the pointer of a model uploaded while the last model of the domain was being deleted', async () => {
    await store.upload('d', { model, modelId: 'last' });
    // The delete has read the pointer (on "last") and found no other model; before it
    // removes the pointer, an upload commits "next" and moves the pointer onto it.
    storage.interleave('delete', layout.domain('d'), async () => {
      await store.upload('d', { model, modelId: 'next' });
    });
    await store.deleteModel('d', 'last');
    expect(await storage.head(layout.domain('d'))).toBeDefined();
    expect(await store.listDomains()).toEqual(['d']);
    expect((await store.getDomain('d')).model.model_id).toBe('next');
    expect(await store.listModels('d')).toEqual(['next']);
  });

  it('removes the pointer with the last model of the domain', async () => {
    await store.upload('d', { model, modelId: 'last' });
    await store.deleteModel('d', 'last');
    expect(await storage.head(layout.domain('d'))).toBeUndefined();
    expect(await store.listDomains()).toEqual([]);
  });
});
