// Unit tests of the latest pointer (domains/<domain>.json): trusted only while it names
// a live model, repaired with a byte copy of the newest, moved forward only, retreated
// when its model is deleted.
import { describe, expect, it } from '@jest/globals';
import { text } from 'node:stream/consumers';
import { DomainNotFoundError, IntegrityError, StorageError } from '../errors.js';
import { MemoryStorage } from '../memory-storage.js';
import { layout } from '../registry-layout.js';
import type { Body, GetOptions, PutOptions } from '../storage.js';
import { readModel, type StoredModel } from './documents.js';
import { advanceLatest, latest, latestOrThrow, newestCommitted, retreatLatest } from './latest.js';

class CountingStorage extends MemoryStorage {
  puts: string[] = [];
  getFailures: { key: string; error: Error }[] = [];
  override async put(key: string, body: Body, options?: PutOptions) {
    this.puts.push(key);
    return super.put(key, body, options);
  }
  override async get(key: string, options?: GetOptions) {
    const failure = this.getFailures.findIndex((entry) => entry.key === key);
    if (failure >= 0) throw this.getFailures.splice(failure, 1)[0]!.error;
    return super.get(key, options);
  }
}

/** Python-looking text (spaces, 1.0) so that a byte copy can be told from a re-serialisation. */
const documentText = (id: string, day: number, uploadId: string, domain = 'd') =>
  `{"model": {"domain": "${domain}", "model_id": "${id}", "model_type": {"library": "x"}, "parameters": {"alpha": 1.0}}, "storage": {"type": "memory", "prefix": "operatorai-model-store/${domain}/x/${id}/artifacts.tar.gz"}, "code": {"created_at": "2024-01-${String(day).padStart(2, '0')}T00:00:00.000Z"}, "archive": {"sha256": "s", "size": 1, "files": {}, "upload_id": "${uploadId}"}}`;

async function commit(storage: MemoryStorage, id: string, day: number, uploadId = `u-${id}`): Promise<StoredModel> {
  await storage.put(layout.version('d', id), documentText(id, day, uploadId));
  return (await readModel(storage, layout.version('d', id)))!;
}

/** Commits each `[id, day]` in turn (as {@link commit}); the models in that order. */
async function commitAll<T extends Array<[id: string, day: number]>>(storage: MemoryStorage, ...models: T): Promise<{ [K in keyof T]: StoredModel }> {
  const committed: StoredModel[] = [];
  for (const [id, day] of models) committed.push(await commit(storage, id, day));
  return committed as { [K in keyof T]: StoredModel };
}

const pointerKey = layout.domain('d');
const pointerText = async (storage: MemoryStorage) => {
  const object = await storage.get(pointerKey);
  return object ? text(object.body) : undefined;
};

describe('latest', () => {
  it('finds nothing in an empty domain and writes nothing', async () => {
    const storage = new CountingStorage();
    expect(await latest(storage, 'd')).toEqual({ model: undefined, pointer: undefined });
    expect(storage.puts).toEqual([]);
    await expect(latestOrThrow(storage, 'd')).rejects.toBeInstanceOf(DomainNotFoundError);
  });

  it('trusts a pointer naming the live model, with no write', async () => {
    const storage = new CountingStorage();
    const [older] = await commitAll(storage, ['older', 1], ['newer', 2]);
    await storage.put(pointerKey, older.text);
    storage.puts = [];
    // The pointer is the authority while live, even if the listing has a newer model.
    expect((await latest(storage, 'd')).model?.metadata.model.model_id).toBe('older');
    expect(storage.puts).toEqual([]);
  });

  it('creates a missing pointer as a byte copy of the newest document', async () => {
    const storage = new MemoryStorage();
    await commit(storage, 'a', 1);
    const b = await commit(storage, 'b', 3);
    await commit(storage, 'c', 2);
    const { model, pointer } = await latest(storage, 'd');
    expect(model?.metadata.model.model_id).toBe('b');
    expect(pointer).toBeUndefined();
    expect(await pointerText(storage)).toBe(b.text);
  });

  it('repairs a pointer naming a deleted model', async () => {
    const storage = new MemoryStorage();
    const [gone, kept] = await commitAll(storage, ['gone', 9], ['kept', 1]);
    await storage.put(pointerKey, gone.text);
    await storage.delete(layout.version('d', 'gone'));
    expect((await latest(storage, 'd')).model?.metadata.model.model_id).toBe('kept');
    expect(await pointerText(storage)).toBe(kept.text);
  });

  it("repairs a pointer naming another domain's model, even when this domain has a model of that id", async () => {
    const storage = new MemoryStorage();
    const own = await commit(storage, 'same', 1);
    await storage.put(pointerKey, documentText('same', 1, 'u-same', 'other'));
    const { model, pointer } = await latest(storage, 'd');
    expect(model?.metadata.model.domain).toBe('d');
    expect(pointer?.text).toContain('"domain": "other"');
    expect(await pointerText(storage)).toBe(own.text);
  });

  it('repairs a pointer naming an earlier upload of a re-used id (another upload_id)', async () => {
    const storage = new MemoryStorage();
    await storage.put(pointerKey, documentText('m', 5, 'first-upload'));
    const reuploaded = await commit(storage, 'm', 5, 'second-upload');
    await commit(storage, 'n', 4);
    const { model } = await latest(storage, 'd');
    expect(model?.text).toBe(reuploaded.text);
    expect(await pointerText(storage)).toBe(reuploaded.text);
  });

  it('trusts a Python pointer (no upload_id) naming the same archive, and not one naming an earlier archive of the id', async () => {
    const python = (stamp: string) =>
      `{"model": {"domain": "d", "model_id": "p", "model_type": {"library": "sklearn"}}, "storage": {"type": "file_system", "root": "/old", "path": "/old/operatorai-model-store/d/${stamp}/p/artifacts.tar.gz"}, "code": {"created": "2024/01/05/10:00:00"}}`;
    const storage = new CountingStorage();
    await commit(storage, 'older', 1);
    await storage.put(layout.version('d', 'p'), python('2024.01.05-10.00.00'));
    await storage.put(pointerKey, python('2024.01.05-10.00.00'));
    storage.puts = [];
    expect((await latest(storage, 'd')).model?.metadata.model.model_id).toBe('p');
    expect(storage.puts).toEqual([]);
    // The id was deleted and uploaded again by Python: another archive folder.
    await storage.put(layout.version('d', 'p'), python('2024.01.06-10.00.00'));
    storage.puts = [];
    const { model } = await latest(storage, 'd');
    expect(model?.text).toBe(python('2024.01.06-10.00.00'));
    expect(storage.puts).toEqual([pointerKey]);
    expect(await pointerText(storage)).toBe(python('2024.01.06-10.00.00'));
  });

  it('repairs a damaged pointer, and with no model left reports it as IntegrityError', async () => {
    const storage = new MemoryStorage();
    await storage.put(pointerKey, '{"model": {"dom');
    const a = await commit(storage, 'a', 1);
    expect((await latest(storage, 'd')).model?.metadata.model.model_id).toBe('a');
    expect(await pointerText(storage)).toBe(a.text);

    const empty = new MemoryStorage();
    await empty.put(pointerKey, '{"model": {"dom');
    const { model, pointer } = await latest(empty, 'd');
    expect(model).toBeUndefined();
    expect(pointer?.damaged).toBe(true);
    const error = await latestOrThrow(empty, 'd').catch((caught: unknown) => caught);
    expect(IntegrityError.isInstance(error)).toBe(true);
  });

  it('does not trust a pointer whose model id is not a valid id', async () => {
    const storage = new MemoryStorage();
    const a = await commit(storage, 'a', 1);
    await storage.put(pointerKey, documentText('../a', 9, 'u-a'));
    expect((await latest(storage, 'd')).model?.metadata.model.model_id).toBe('a');
    expect(await pointerText(storage)).toBe(a.text);
  });

  it('returns the pointer it read when a domain has a pointer but no live model (Python left it after a delete)', async () => {
    const storage = new CountingStorage();
    await storage.put(pointerKey, documentText('gone', 1, 'u'));
    storage.puts = [];
    const { model, pointer } = await latest(storage, 'd');
    expect(model).toBeUndefined();
    expect(pointer?.damaged).toBe(false);
    expect(storage.puts).toEqual([]);
    await expect(latestOrThrow(storage, 'd')).rejects.toBeInstanceOf(DomainNotFoundError);
  });
});

describe('newestCommitted', () => {
  it('leaves out `except` from both the newest and the count', async () => {
    const storage = new MemoryStorage();
    await commit(storage, 'a', 1);
    await commit(storage, 'b', 2);
    expect((await newestCommitted(storage, 'd')).newest?.metadata.model.model_id).toBe('b');
    const without = await newestCommitted(storage, 'd', 'b');
    expect(without.newest?.metadata.model.model_id).toBe('a');
    expect(without.count).toBe(1);
    expect(await newestCommitted(storage, 'e')).toEqual({ newest: undefined, count: 0 });
  });
});

describe('advanceLatest', () => {
  it('moves the pointer forward to a newer model, byte for byte', async () => {
    const storage = new MemoryStorage();
    const a = await commit(storage, 'a', 1);
    await advanceLatest(storage, 'd', a);
    const b = await commit(storage, 'b', 2);
    await advanceLatest(storage, 'd', b);
    expect(await pointerText(storage)).toBe(b.text);
  });

  it('never moves back to an older model, nor rewrites for the same one', async () => {
    const storage = new CountingStorage();
    const [newer, older] = await commitAll(storage, ['newer', 5], ['older', 1]);
    await advanceLatest(storage, 'd', newer);
    storage.puts = [];
    await advanceLatest(storage, 'd', older);
    await advanceLatest(storage, 'd', newer);
    expect(storage.puts).toEqual([]);
    expect(await pointerText(storage)).toBe(newer.text);
  });

  it('breaks a tie of times by id: the greater id stays latest', async () => {
    const storage = new MemoryStorage();
    const [b, a] = await commitAll(storage, ['b', 3], ['a', 3]);
    await advanceLatest(storage, 'd', b);
    await advanceLatest(storage, 'd', a);
    expect(await pointerText(storage)).toBe(b.text);
  });

  it("replaces a pointer naming no live model with the listing's newest when that is newer than the candidate", async () => {
    const storage = new MemoryStorage();
    await storage.put(pointerKey, documentText('gone', 9, 'u'));
    const [newest, candidate] = await commitAll(storage, ['newest', 5], ['candidate', 2]);
    await advanceLatest(storage, 'd', candidate);
    expect(await pointerText(storage)).toBe(newest.text);
  });

  it('reads the pointer again after a read that broke off (retryable), and throws a non-retryable failure', async () => {
    const storage = new CountingStorage();
    const a = await commit(storage, 'a', 1);
    storage.getFailures.push({ key: pointerKey, error: new StorageError('reset', { retryable: true }) });
    await advanceLatest(storage, 'd', a);
    expect(await pointerText(storage)).toBe(a.text);
    const b = await commit(storage, 'b', 2);
    storage.getFailures.push({ key: pointerKey, error: new StorageError('forbidden', { retryable: false }) });
    await expect(advanceLatest(storage, 'd', b)).rejects.toThrow('forbidden');
    expect(await pointerText(storage)).toBe(a.text);
  });

  it('keeps the newest of concurrent advances', async () => {
    const storage = new MemoryStorage();
    const models = await Promise.all(Array.from({ length: 12 }, (_, index) => commit(storage, `m${String(index).padStart(2, '0')}`, index + 1)));
    await Promise.all([...models].reverse().map((model) => advanceLatest(storage, 'd', model)));
    expect(await pointerText(storage)).toBe(models[11]!.text);
  }, 20_000);
});

describe('retreatLatest', () => {
  it('points at the newest remaining model when the latest is being deleted', async () => {
    const storage = new MemoryStorage();
    await commit(storage, 'a', 1);
    const [b, c] = await commitAll(storage, ['b', 3], ['c', 2]);
    await storage.put(pointerKey, b.text);
    await retreatLatest(storage, 'd', 'b');
    expect(await pointerText(storage)).toBe(c.text);
  });

  it('removes the pointer when the last model goes (its document still listed while it retreats)', async () => {
    const storage = new MemoryStorage();
    const only = await commit(storage, 'only', 1);
    await storage.put(pointerKey, only.text);
    await retreatLatest(storage, 'd', 'only');
    expect(await storage.head(pointerKey)).toBeUndefined();
  });

  it('changes nothing when the pointer names another model, is damaged, or is missing', async () => {
    const storage = new CountingStorage();
    const [a] = await commitAll(storage, ['a', 1], ['b', 2]);
    await storage.put(pointerKey, a.text);
    storage.puts = [];
    await retreatLatest(storage, 'd', 'b');
    await storage.put(pointerKey, '{"dam');
    storage.puts = [];
    await retreatLatest(storage, 'd', 'b');
    expect(await pointerText(storage)).toBe('{"dam');
    await storage.delete(pointerKey);
    await retreatLatest(storage, 'd', 'b');
    expect(storage.puts).toEqual([]);
    expect(await storage.head(pointerKey)).toBeUndefined();
  });
});
