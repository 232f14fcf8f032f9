// Garbage collection removes an archive only when it is proven an orphan. A model whose
// metadata document exists but cannot be read — a read that fails, a truncated
// document, or text that is not JSON even in Python's dialect — keeps its archive, and the
// document is reported. Python's own NaN and big integers are read (see json.test.ts).
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MemoryStorage, ModelStore, StorageError, type GetOptions, type StoredObject } from '../src/index.js';
import { bytesAdapter } from './bytes-adapter.js';

/** A storage whose reads of metadata documents fail, as a store answering 503 after every retry. */
class FailingReads extends MemoryStorage {
  failing = false;
  override async get(key: string, options?: GetOptions): Promise<StoredObject | undefined> {
    if (this.failing && /\/versions\/.*\.json$/.test(key)) throw new StorageError(`reading "${key}" failed: 503 Service Unavailable`, { retryable: true });
    return super.get(key, options);
  }
}

const weights = Buffer.from('weights '.repeat(500));
const later = () => new Date(Date.now() + 2 * 60 * 60 * 1000);
let work: string;
let storage: FailingReads;
let store: ModelStore;

beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'modelstore-gc-unreadable-'));
  storage = new FailingReads();
  store = new ModelStore({ storage, adapters: [bytesAdapter], cacheDir: path.join(work, 'cache') });
});

afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

async function archiveKeys(): Promise<string[]> {
  const { objects } = await storage.list('operatorai-model-store/');
  return objects.map((object) => object.key).filter((key) => key.endsWith('/artifacts.tar.gz'));
}

async function readText(key: string): Promise<string> {
  const stored = await storage.get(key);
  const chunks: Buffer[] = [];
  for await (const chunk of stored!.body) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Replaces the text of every metadata document of `modelId` (its version and state copies). */
async function rewriteDocuments(domain: string, modelId: string, rewrite: (text: string) => string) {
  const { objects } = await storage.list(`operatorai-model-store/${domain}/versions/`);
  for (const object of objects.filter((o) => o.key.endsWith(`/${modelId}.json`))) {
    await storage.put(object.key, rewrite(await readText(object.key)));
  }
}

describe('collectGarbage with metadata it cannot read', () => {
  it.each([
    ['truncated', (text: string) => text.slice(0, 50)],
    ["not JSON even in Python's dialect (a bare nan)", (text: string) => text.replace(/\}$/, ', "extra": {"val_loss": nan}}')],
    ['not an object', () => '[]'],
  ])('keeps the archive of a model whose metadata document is %s, and reports the document', async (_name, rewrite) => {
    const { model } = await store.upload('churn', { model: weights });
    await store.createModelState('production');
    await store.setModelState('churn', model.model_id, 'production');
    const before = await archiveKeys();
    expect(before).toHaveLength(1);
    await rewriteDocuments('churn', model.model_id, rewrite);

    const result = await store.collectGarbage({ now: later(), quiesced: true });
    expect(result.removed).toEqual([]);
    expect(result.unreadable).toEqual(expect.arrayContaining([`operatorai-model-store/churn/versions/${model.model_id}.json`, `operatorai-model-store/churn/versions/production/${model.model_id}.json`]));
    expect(await archiveKeys()).toEqual(before);
  });

  it("reads a document holding Python's NaN, Infinity and big integers: its archive is referenced, never garbage", async () => {
    const { model } = await store.upload('churn', { model: weights });
    const before = await archiveKeys();
    await rewriteDocuments('churn', model.model_id, (text) => text.replace(/\}$/, ', "extra": {"val_loss": NaN, "best": -Infinity, "seed": 18446744073709551615}}'));
    const result = await store.collectGarbage({ now: later(), quiesced: true });
    expect(result).toMatchObject({ removed: [], kept: [], unreadable: [] });
    expect(await archiveKeys()).toEqual(before);
    expect((await store.getModelInfo('churn', model.model_id)).extra).toEqual({ val_loss: Number.NaN, best: -Infinity, seed: 18446744073709551615n });
  });

  it('removes nothing while the store fails to return metadata documents, and the proven orphan once it answers', async () => {
    const { model } = await store.upload('churn', { model: weights });
    // An orphan: an archive whose model has no metadata document at all (a crashed upload).
    const orphanKey = `operatorai-model-store/churn/2020.01.01-00.00.00/crashed-upload/artifacts.tar.gz`;
    await storage.put(orphanKey, 'not referenced by anything');
    storage.failing = true;

    const failing = await store.collectGarbage({ now: later(), quiesced: true });
    expect(failing.removed).toEqual([]);
    expect(failing.unreadable).toEqual(expect.arrayContaining([`operatorai-model-store/churn/versions/${model.model_id}.json`, `operatorai-model-store/churn/versions/crashed-upload.json`]));
    expect(await archiveKeys()).toHaveLength(2);

    storage.failing = false;
    const answering = await store.collectGarbage({ now: later(), quiesced: true });
    expect(answering.removed.map((object) => object.key)).toEqual([orphanKey]);
    expect(answering.unreadable).toEqual([]);
    expect(await archiveKeys()).toHaveLength(1);
    const to = await store.download('churn', { modelId: model.model_id, to: path.join(work, 'out') });
    expect(readFileSync(path.join(to, 'model.bin'))).toEqual(weights);
  });

  it('keeps an archive when the check just before its removal cannot read the metadata', async () => {
    // The listing sees no document (the commit is not there yet); the re-read before the
    // removal fails: nothing proves the archive an orphan, so it stays.
    const { model } = await store.upload('churn', { model: weights });
    const versionKey = `operatorai-model-store/churn/versions/${model.model_id}.json`;
    expect(await readText(versionKey)).toContain(model.model_id);
    await storage.delete(versionKey);
    const listAll = storage.list.bind(storage);
    let listed = false;
    storage.list = async (prefix, options) => {
      const page = await listAll(prefix, options);
      if (!page.cursor) {
        listed = true;
        storage.failing = true;
      }
      return page;
    };
    const result = await store.collectGarbage({ now: later(), quiesced: true });
    expect(listed).toBe(true);
    expect(result.removed).toEqual([]);
    expect(result.unreadable).toEqual([versionKey]);
    expect(await archiveKeys()).toHaveLength(1);
  });
});
