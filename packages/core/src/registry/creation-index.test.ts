// Unit tests of the domain's creation index (<domain>/modelstore-index.json): what is
// trusted when read, compare-and-swap updates that lose nothing, and timesOf.
import { describe, expect, it } from '@jest/globals';
import { text } from 'node:stream/consumers';
import { StorageError } from '../errors.js';
import { MemoryStorage } from '../memory-storage.js';
import { layout } from '../registry-layout.js';
import type { Body, GetOptions, PutOptions } from '../storage.js';
import { readIndex, timesOf, updateIndex } from './creation-index.js';
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
const indexText = async (storage: MemoryStorage) => text((await storage.get(indexKey))!.body);

describe('readIndex', () => {
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

describe('updateIndex', () => {
  it('creates the index with the model time and the etag of its document', async () => {
    const storage = new MemoryStorage();
    const model = await commit(storage, 'a', '2024-02-03T04:05:06.789Z');
    await updateIndex(storage, 'd', { add: model });
    expect(JSON.parse(await indexText(storage))).toEqual({ models: { a: Date.parse('2024-02-03T04:05:06.789Z') }, etags: { a: model.info.etag }, sizes: {}, libraries: { a: 'x' } });
  });

  it('records "__proto__" as a model id, written as an own key that reads back', async () => {
    const storage = new MemoryStorage();
    await updateIndex(storage, 'd', { add: await commit(storage, 'a') });
    const model = await commit(storage, '__proto__', '2024-05-05T00:00:00.000Z');
    await updateIndex(storage, 'd', { add: model });
    expect(await indexText(storage)).toContain('"__proto__":');
    expect((await readIndex(storage, 'd')).get('__proto__')).toEqual({ time: Date.parse('2024-05-05T00:00:00.000Z'), etag: model.info.etag, library: 'x' });
    expect((await readIndex(storage, 'd')).get('a')).toBeDefined();
    await updateIndex(storage, 'd', { remove: '__proto__' });
    expect([...(await readIndex(storage, 'd')).keys()]).toEqual(['a']);
  });

  it('writes nothing when the same version is already recorded, and replaces the entry of a rewritten document', async () => {
    const storage = new CountingStorage();
    const first = await commit(storage, 'a', '2024-01-01T00:00:00.000Z');
    await updateIndex(storage, 'd', { add: first });
    storage.puts = [];
    await updateIndex(storage, 'd', { add: first });
    expect(storage.puts).toEqual([]);
    const rewritten = await commit(storage, 'a', '2025-01-01T00:00:00.000Z');
    await updateIndex(storage, 'd', { add: rewritten });
    expect((await readIndex(storage, 'd')).get('a')).toEqual({ time: Date.parse('2025-01-01T00:00:00.000Z'), etag: rewritten.info.etag, library: 'x' });
  });

  it('loses no entry under 20 concurrent adds', async () => {
    const storage = new MemoryStorage();
    const models = await Promise.all(Array.from({ length: 20 }, (_, index) => commit(storage, `m${index}`, new Date(Date.UTC(2024, 0, 1) + index * 1000).toISOString())));
    await Promise.all(models.map((model) => updateIndex(storage, 'd', { add: model })));
    const entries = await readIndex(storage, 'd');
    expect(entries.size).toBe(20);
    models.forEach((model, index) => expect(entries.get(`m${index}`)).toEqual({ time: Date.UTC(2024, 0, 1) + index * 1000, etag: model.info.etag, library: 'x' }));
  }, 20_000);

  it('loses nothing when adds and removes race', async () => {
    const storage = new MemoryStorage();
    const models = await Promise.all(Array.from({ length: 10 }, (_, index) => commit(storage, `m${index}`)));
    for (const model of models.slice(0, 5)) await updateIndex(storage, 'd', { add: model });
    await Promise.all([...models.slice(5).map((model) => updateIndex(storage, 'd', { add: model })), ...['m0', 'm1'].map((id) => updateIndex(storage, 'd', { remove: id }))]);
    expect([...(await readIndex(storage, 'd')).keys()].sort()).toEqual(['m2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9']);
  }, 20_000);

  it('writes nothing to remove an id the index does not hold, nor when there is no index', async () => {
    const storage = new CountingStorage();
    await updateIndex(storage, 'd', { remove: 'a' });
    expect(storage.puts).toEqual([]);
    expect(await storage.head(indexKey)).toBeUndefined();
    await updateIndex(storage, 'd', { add: await commit(storage, 'b') });
    storage.puts = [];
    await updateIndex(storage, 'd', { remove: 'a' });
    expect(storage.puts).toEqual([]);
  });

  it('replaces a damaged index rather than giving up', async () => {
    const storage = new MemoryStorage();
    await storage.put(indexKey, '{"models": {');
    await updateIndex(storage, 'd', { add: await commit(storage, 'a') });
    expect([...(await readIndex(storage, 'd')).keys()]).toEqual(['a']);
  });

  it('never throws, even when every write fails', async () => {
    const storage = new CountingStorage();
    const model = await commit(storage, 'a');
    storage.failPuts = true;
    storage.puts = [];
    await expect(updateIndex(storage, 'd', { add: model })).resolves.toBeUndefined();
    expect(storage.puts).toEqual([indexKey]);
  });
});

describe('timesOf', () => {
  it('takes an indexed time without reading the document, and reads a document whose version differs', async () => {
    const storage = new CountingStorage();
    const a = await commit(storage, 'a', '2024-01-01T00:00:00.000Z');
    const b = await commit(storage, 'b', '2024-01-02T00:00:00.000Z');
    await updateIndex(storage, 'd', { add: a });
    await updateIndex(storage, 'd', { add: b });
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
    expect(storage.gets.filter((key) => key !== indexKey)).toEqual([layout.version('d', 'b')]);
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
