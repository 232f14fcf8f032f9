// Unit tests of the domain's index: the first index (<domain>/modelstore-index.json,
// still read) and what is trusted in it, the append-only log that uploads and deletes
// write (one create-only entry each), and timesOf.
import { describe, expect, it } from '@jest/globals';
import { StorageError } from '../errors.js';
import { recording } from '../../test/support.js';
import { MemoryStorage } from '../memory-storage.js';
import { ModelStore } from '../model-store.js';
import { layout } from '../registry-layout.js';
import type { Body, GetOptions, PutOptions } from '../storage.js';
import { readLegacyIndex as readIndex, recordDeletion, recordModel, timesOf } from './creation-index.js';
import { mergedEntries, readIndexState, tagOf } from './index-log.js';
import { listObjects, readModel, type StoredModel } from './documents.js';

/** Counts puts and gets per key; can fail puts. */
class CountingStorage extends MemoryStorage {
  puts: string[] = [];
  gets: string[] = [];
  failPuts = false;
  override async put(key: string, body: Body, options?: PutOptions) {
    this.puts.push(key);
    if (this.failPuts) throw new StorageError('service unavailable', { retryable: true });
    return super.put(key, body, options);
  }
  override async get(key: string, options?: GetOptions) {
    this.gets.push(key);
    return super.get(key, options);
  }
}

const document = (id: string, createdAt: string) => JSON.stringify({ model: { domain: 'd', model_id: id, model_type: { library: 'x' } }, storage: { type: 'memory' }, code: { created_at: createdAt } });

async function commit(storage: MemoryStorage, id: string, createdAt = '2024-01-01T00:00:00.000Z'): Promise<StoredModel> {
  await storage.put(layout.version('d', id), document(id, createdAt));
  return (await readModel(storage, layout.version('d', id)))!;
}

const indexKey = layout.index('d');

describe('readLegacyIndex (the first index, still read)', () => {
  it('is empty when the index is missing, damaged or of the wrong shape', async () => {
    const storage = new MemoryStorage();
    expect((await readIndex(storage, 'd')).size).toBe(0);
    await storage.put(indexKey, '{"models": {"a": 1}, "etags": {"a": "');
    expect((await readIndex(storage, 'd')).size).toBe(0);
    await storage.put(indexKey, '[1, 2]');
    expect((await readIndex(storage, 'd')).size).toBe(0);
    await storage.put(indexKey, '{"models": null, "etags": "x"}');
    expect((await readIndex(storage, 'd')).size).toBe(0);
  });

  it('ignores entries without an etag, with a non-string etag or a non-number time', async () => {
    const storage = new MemoryStorage();
    await storage.put(indexKey, JSON.stringify({ models: { a: 1, b: 2, c: 'x', d: 4, e: 5 }, etags: { a: '"e1"', d: 7, e: '"e5"', z: '"ez"' } }));
    expect([...(await readIndex(storage, 'd'))]).toEqual([
      ['a', { time: 1, etag: '"e1"' }],
      ['e', { time: 5, etag: '"e5"' }],
    ]);
  });

  it('reads the archive size and library of an entry when recorded, and ignores malformed ones', async () => {
    const storage = new MemoryStorage();
    await storage.put(indexKey, JSON.stringify({ models: { a: 1, b: 2, c: 3 }, etags: { a: '"a"', b: '"b"', c: '"c"' }, sizes: { a: 10, b: -1, c: 1.5 }, libraries: { a: 'onnx', b: 7 } }));
    expect([...(await readIndex(storage, 'd'))]).toEqual([
      ['a', { time: 1, etag: '"a"', size: 10, library: 'onnx' }],
      ['b', { time: 2, etag: '"b"' }],
      ['c', { time: 3, etag: '"c"' }],
    ]);
  });

  it('reads "__proto__" and "constructor" as model ids, and an inherited etag is not an entry', async () => {
    const storage = new MemoryStorage();
    await storage.put(indexKey, '{"models": {"__proto__": 3, "constructor": 4, "toString": 5}, "etags": {"__proto__": "\\"p\\"", "constructor": "\\"c\\""}}');
    const entries = await readIndex(storage, 'd');
    expect(entries.get('__proto__')).toEqual({ time: 3, etag: '"p"' });
    expect(entries.get('constructor')).toEqual({ time: 4, etag: '"c"' });
    expect(entries.has('toString')).toBe(false);
  });
});

/** The domain's index entries by id (checkpoint and log). */
const entries = async (storage: MemoryStorage) => mergedEntries(await readIndexState(storage, layout.indexRoot('d')));
const logKeys = async (storage: MemoryStorage) => (await storage.list(`${layout.indexRoot('d')}log/`)).objects.map((object) => object.key);

describe('recordModel and recordDeletion', () => {
  it('create one log entry whose key holds the time, kind, tag, size, library and id', async () => {
    const storage = new CountingStorage();
    const model = await commit(storage, 'a', '2024-02-03T04:05:06.789Z');
    storage.puts = [];
    storage.gets = [];
    await recordModel(storage, model);
    expect(storage.gets).toEqual([]);
    expect(storage.puts).toEqual([`${layout.indexRoot('d')}log/${String(Date.parse('2024-02-03T04:05:06.789Z')).padStart(15, '0')}~a~${tagOf(model.info.etag)}~~${Buffer.from('x').toString('base64url')}~a.json`]);
    expect((await entries(storage)).get('a')).toEqual({ id: 'a', time: Date.parse('2024-02-03T04:05:06.789Z'), tag: tagOf(model.info.etag), library: 'x' });
    await recordDeletion(storage, model);
    expect((await entries(storage)).has('a')).toBe(false);
    expect(await logKeys(storage)).toHaveLength(2);
  });

  it('records "__proto__" as a model id', async () => {
    const storage = new MemoryStorage();
    await recordModel(storage, await commit(storage, 'a'));
    const model = await commit(storage, '__proto__', '2024-05-05T00:00:00.000Z');
    await recordModel(storage, model);
    expect((await entries(storage)).get('__proto__')).toEqual({ id: '__proto__', time: Date.parse('2024-05-05T00:00:00.000Z'), tag: tagOf(model.info.etag), library: 'x' });
    await recordDeletion(storage, model);
    expect([...(await entries(storage)).keys()]).toEqual(['a']);
  });

  it('a tombstone removes only the version it names: a re-upload of the id stays', async () => {
    const storage = new MemoryStorage();
    const first = await commit(storage, 'a', '2024-01-01T00:00:00.000Z');
    await recordModel(storage, first);
    await recordDeletion(storage, first);
    const again = await commit(storage, 'a', '2025-01-01T00:00:00.000Z');
    await recordModel(storage, again);
    expect((await entries(storage)).get('a')).toMatchObject({ time: Date.parse('2025-01-01T00:00:00.000Z'), tag: tagOf(again.info.etag) });
  });

  it('a log entry that lands after the tombstone of its version stays hidden', async () => {
    const storage = new MemoryStorage();
    const model = await commit(storage, 'a');
    await recordDeletion(storage, model);
    await recordModel(storage, model);
    expect((await entries(storage)).has('a')).toBe(false);
  });

  it('loses no entry under 40 concurrent uploads: one create-only write each, no read but the pointer (by the checks)', async () => {
    const storage = new CountingStorage();
    const models = await Promise.all(Array.from({ length: 40 }, (_, index) => commit(storage, `m${index}`, new Date(Date.UTC(2024, 0, 1) + index * 1000).toISOString())));
    storage.puts = [];
    storage.gets = [];
    await Promise.all(models.map((model) => recordModel(storage, model)));
    expect(storage.puts).toHaveLength(40);
    // No read but the pointer's, by the appends (1 in 16) that check whether compaction is due.
    expect(storage.gets.filter((key) => key !== `${layout.indexRoot('d')}_last_checkpoint`)).toEqual([]);
    const found = await entries(storage);
    expect(found.size).toBe(40);
    models.forEach((model, index) => expect(found.get(`m${index}`)).toEqual({ id: `m${index}`, time: Date.UTC(2024, 0, 1) + index * 1000, tag: tagOf(model.info.etag), library: 'x' }));
  });

  it('records the domain in the registry index of domains when given the pointer version it wrote', async () => {
    const storage = new MemoryStorage();
    const model = await commit(storage, 'a', '2024-03-01T00:00:00.000Z');
    const pointer = await storage.put(layout.domain('d'), model.text);
    await recordModel(storage, model, pointer);
    expect(mergedEntries(await readIndexState(storage, layout.domainsIndexRoot())).get('d')).toEqual({ id: 'd', time: Date.parse('2024-03-01T00:00:00.000Z'), tag: tagOf(pointer.etag) });
  });

  it('never throws, even when every write fails', async () => {
    const storage = new CountingStorage();
    const model = await commit(storage, 'a');
    storage.failPuts = true;
    await expect(recordModel(storage, model)).resolves.toBeUndefined();
    await expect(recordDeletion(storage, model)).resolves.toBeUndefined();
  });
});

describe('timesOf', () => {
  it('takes an indexed time without reading the document, and reads a document whose version differs', async () => {
    const storage = new CountingStorage();
    const a = await commit(storage, 'a', '2024-01-01T00:00:00.000Z');
    const b = await commit(storage, 'b', '2024-01-02T00:00:00.000Z');
    await recordModel(storage, a);
    await recordModel(storage, b);
    // b is re-written (a re-used id): its index entry names the old version.
    await commit(storage, 'b', '2023-06-01T00:00:00.000Z');
    storage.gets = [];
    const times = await timesOf(storage, 'd', await listObjects(storage, layout.versions('d'), '.json', 'model id'));
    expect(times).toEqual(
      new Map([
        ['a', Date.parse('2024-01-01T00:00:00.000Z')],
        ['b', Date.parse('2023-06-01T00:00:00.000Z')],
      ]),
    );
    expect(storage.gets.filter((key) => key !== indexKey && !key.startsWith(layout.indexRoot('d')))).toEqual([layout.version('d', 'b')]);
  });

  it('leaves out a document deleted since the listing and counts a damaged one as oldest (0)', async () => {
    const storage = new MemoryStorage();
    await commit(storage, 'a', '2024-01-01T00:00:00.000Z');
    await commit(storage, 'gone');
    await storage.put(layout.version('d', 'broken'), '{"model": ');
    const listed = await listObjects(storage, layout.versions('d'), '.json', 'model id');
    await storage.delete(layout.version('d', 'gone'));
    expect(await timesOf(storage, 'd', listed)).toEqual(
      new Map([
        ['a', Date.parse('2024-01-01T00:00:00.000Z')],
        ['broken', 0],
      ]),
    );
  });
});

describe('pages: options and cursors', () => {
  it('refuses a bad limit, a cursor without limit, and a cursor that is not one of this listing, with InvalidOptionError before any I/O', async () => {
    const { storage, calls } = recording(new MemoryStorage());
    const store = new ModelStore({ storage });
    for (const options of [{ limit: 0 }, { limit: 1001 }, { limit: 1.5 }, { limit: Number.NaN }, { cursor: 'abc' }, { limit: 5, cursor: 'not a cursor!' }, { limit: 5, cursor: Buffer.from('{"v":2}').toString('base64url') }]) {
      await expect(store.listModels('d', options as { limit: number })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
      await expect(store.listModelSummaries('d', options as { limit: number })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    }
    expect(calls).toEqual([]);
  });

  it('a cursor belongs to its domain and state', async () => {
    const storage = new MemoryStorage();
    for (let i = 0; i < 3; i++) await recordModel(storage, await commit(storage, `m${i}`, new Date(Date.UTC(2024, 0, 1 + i)).toISOString()));
    await storage.put(layout.domain('d'), document('m2', '2024-01-03T00:00:00.000Z'));
    const store = new ModelStore({ storage });
    const first = await store.listModels('d', { limit: 2 });
    expect(first.models).toEqual(['m2', 'm1']);
    await expect(store.listModels('other', { limit: 2, cursor: first.cursor! })).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining('another listing') });
    await store.createModelState('prod');
    await expect(store.listModels('d', { limit: 2, state: 'prod', cursor: first.cursor! })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    expect(await store.listModels('d', { limit: 2, cursor: first.cursor! })).toEqual({ models: ['m0'] });
    await expect(store.listModels('nowhere', { limit: 2 })).rejects.toMatchObject({ code: 'DOMAIN_NOT_FOUND' });
  });
});

describe('pages of a domain without a checkpoint (grown by Python modelstore)', () => {
  it('order by one read per document; only the models of the page have their archives looked at', async () => {
    const memory = new MemoryStorage();
    // Python-shaped documents: no archive size recorded, so a summary needs a `head` of the archive.
    for (let day = 1; day <= 28; day++) {
      const id = `m${String(day).padStart(2, '0')}`;
      const document = {
        model: { domain: 'd', model_id: id, model_type: { library: 'x' } },
        storage: { type: 'file_system', path: `/old/operatorai-model-store/d/2024/${id}/artifacts.tar.gz` },
        code: { created_at: `2024-01-${String(day).padStart(2, '0')}T00:00:00.000Z` },
      };
      await memory.put(layout.version('d', id), JSON.stringify(document));
      await memory.put(`operatorai-model-store/d/2024/${id}/artifacts.tar.gz`, 'x'.repeat(day));
    }
    const { storage, calls } = recording(memory);
    const store = new ModelStore({ storage, checkConditionalWrites: false });
    const ids = await store.listModels('d', { limit: 5 });
    expect(ids.models).toEqual(['m28', 'm27', 'm26', 'm25', 'm24']);
    expect(calls.filter((call) => call.startsWith('head '))).toEqual([]);
    calls.length = 0;
    const summaries = await store.listModelSummaries('d', { limit: 5 });
    expect(summaries.models.map((summary) => [summary.modelId, summary.size])).toEqual([
      ['m28', 28],
      ['m27', 27],
      ['m26', 26],
      ['m25', 25],
      ['m24', 24],
    ]);
    expect(calls.filter((call) => call.startsWith('head ') && call.endsWith('.tar.gz')).sort()).toEqual(['m24', 'm25', 'm26', 'm27', 'm28'].map((id) => `head operatorai-model-store/d/2024/${id}/artifacts.tar.gz`));
  });
});
