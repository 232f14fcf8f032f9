// Writes whose answer is lost: the request was applied, but the client saw a failure
// (a reset or a timeout), and the SDK's retry then reported "already exists".
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MemoryStorage, ModelExistsError, ModelStore, PreconditionFailedError, StorageError, type Body, type ObjectInfo, type PutOptions } from '../src/index.js';
import { layout } from '../src/internal.js';
import { bytesAdapter } from './bytes-adapter.js';

/** A model that is a buffer, saved as one file. */
type Mode = 'applied-then-412' | 'applied-then-error' | 'not-applied';

/** Fails the next put of a key matching `pattern` in the way `mode` says. */
class LossyStorage extends MemoryStorage {
  private trap: { pattern: RegExp; mode: Mode } | undefined;
  fired = 0;

  failNext(pattern: RegExp, mode: Mode): void {
    this.trap = { pattern, mode };
  }

  override async put(key: string, body: Body, options: PutOptions = {}): Promise<ObjectInfo> {
    const trap = this.trap;
    if (!trap || !trap.pattern.test(key)) return super.put(key, body, options);
    this.trap = undefined;
    this.fired++;
    if (trap.mode === 'not-applied') {
      for await (const _ of body as AsyncIterable<unknown>) void _;
      throw new StorageError(`connection reset while writing ${key}`, { retryable: true });
    }
    await super.put(key, body, options);
    if (trap.mode === 'applied-then-412') throw new PreconditionFailedError(key);
    throw new StorageError(`no answer for ${key} after 5 attempts`, { retryable: true });
  }
}

let work: string;
let storage: LossyStorage;
let store: ModelStore;

beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'modelstore-lost-'));
  storage = new LossyStorage();
  store = new ModelStore({ storage, adapters: [bytesAdapter], cacheDir: path.join(work, 'cache') });
});

afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

const model = Buffer.from('weights '.repeat(1000));

async function expectIntact(modelId: string) {
  expect(storage.fired).toBe(1);
  expect(await store.listModels('d')).toEqual([modelId]);
  expect((await store.getDomain('d')).model.model_id).toBe(modelId);
  expect(await store.load<Buffer>('d', { modelId })).toEqual(model);
}

describe('writes whose answer was lost', () => {
  it('treats a commit applied before its "already exists" retry as a success, and keeps the archive', async () => {
    storage.failNext(/\/d\/versions\/m1\.json$/, 'applied-then-412');
    const metadata = await store.upload('d', { model, modelId: 'm1' });
    expect(metadata.model.model_id).toBe('m1');
    await expectIntact('m1');
  });

  it('treats a commit applied before its retries ran out as a success', async () => {
    storage.failNext(/\/d\/versions\/m1\.json$/, 'applied-then-error');
    await store.upload('d', { model, modelId: 'm1' });
    await expectIntact('m1');
  });

  it('treats an archive written before its "already exists" retry as written (same bytes read back)', async () => {
    storage.failNext(/artifacts\.tar\.gz$/, 'applied-then-412');
    await store.upload('d', { model, modelId: 'm1' });
    await expectIntact('m1');
  });

  it('fails a commit that was not applied with the storage error, keeping the archive for collectGarbage', async () => {
    storage.failNext(/\/d\/versions\/m1\.json$/, 'not-applied');
    await expect(store.upload('d', { model, modelId: 'm1' })).rejects.toBeInstanceOf(StorageError);
    expect(storage.fired).toBe(1);
    await expect(store.modelExists('d', 'm1')).resolves.toBe(false);
    // The write might still land later (a request in flight), so the archive is kept...
    const orphan = await store.collectGarbage({ olderThan: 0, dryRun: true, quiesced: true });
    expect(orphan.removed.map((object) => object.key)).toEqual([expect.stringMatching(/\/m1\/artifacts\.tar\.gz$/)]);
    // ...until garbage collection, after its grace period.
    expect((await store.collectGarbage({ olderThan: 60 * 60 * 1000 })).removed).toEqual([]);
    await store.collectGarbage({ olderThan: 0, quiesced: true });
    expect((await storage.list(layout.domainPrefix('d'))).objects).toEqual([]);
  });

  it('finds the latest model when an upload died between its commit and the domain pointer', async () => {
    storage.failNext(/\/domains\/d\.json$/, 'not-applied');
    // Reported as committed (not as a failed upload, which a caller would retry), with the metadata.
    const error = await store.upload('d', { model, modelId: 'm1' }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'COMMITTED_WITH_ERRORS', metadata: { model: { model_id: 'm1' } } });
    expect((error as Error & { cause: unknown }).cause).toBeInstanceOf(StorageError);
    expect(await storage.head(layout.domain('d'))).toBeUndefined();
    // The model is committed: it is listed, and it is the domain's latest...
    expect((await store.getDomain('d')).model.model_id).toBe('m1');
    // ...and the pointer is written for the next reader.
    expect(await storage.head(layout.domain('d'))).toBeDefined();
    await expectIntact('m1');
  });

  it('reads the domain pointer again when a read of it breaks off', async () => {
    await store.upload('d', { model, modelId: 'm0' });
    const get = storage.get.bind(storage);
    let broken = 0;
    storage.get = async (key, options) => {
      if (key === layout.domain('d') && broken++ === 0) throw new StorageError('the read broke off and the object changed before it could resume', { retryable: true });
      return get(key, options);
    };
    await store.upload('d', { model, modelId: 'm1' });
    storage.get = get;
    expect(broken).toBeGreaterThan(1);
    expect((await store.getDomain('d')).model.model_id).toBe('m1');
  });

  it('still refuses an id another upload holds, and removes only its own archive', async () => {
    const first = await store.upload('d', { model, modelId: 'm1' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    // Skip the early id check, as a concurrent upload would.
    const head = storage.head.bind(storage);
    storage.head = async (key) => (key.endsWith('/m1.json') ? undefined : head(key));
    await expect(store.upload('d', { model: Buffer.from('other'), modelId: 'm1' })).rejects.toBeInstanceOf(ModelExistsError);
    storage.head = head;
    storage.fired = 1;
    const archives = (await storage.list(layout.domainPrefix('d'))).objects.filter((object) => object.key.endsWith('.tar.gz'));
    expect(archives.map((object) => object.key)).toEqual([layout.archive('d', new Date(first.code!.created_at!), 'm1')]);
    await expectIntact('m1');
  });
});
