// A commit that lands late: the upload's archive is written, its commit request is
// held in the store (received, not yet applied: a request in flight when its process
// died, or an SDK retry), garbage collection runs meanwhile, then the commit lands.
// The archive must still be there, or a listed model cannot be downloaded.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InvalidOptionError, MemoryStorage, ModelStore, defaultGarbageAge, minimumGarbageAge, type Body, type ObjectInfo, type PutOptions } from '../src/index.js';
import { bytesAdapter } from './bytes-adapter.js';

/** Holds the next commit (`<domain>/versions/<id>.json`) in the store until released. */
class DelayingStorage extends MemoryStorage {
  private gate: { release: () => void; wait: Promise<void> } | undefined;
  /** Resolves once a commit has arrived and is being held. */
  held!: Promise<void>;
  private arrived!: () => void;

  holdNextCommit(): () => void {
    let release!: () => void;
    const wait = new Promise<void>((resolve) => (release = resolve));
    this.gate = { release, wait };
    this.held = new Promise<void>((resolve) => (this.arrived = resolve));
    return release;
  }

  override async put(key: string, body: Body, options: PutOptions = {}): Promise<ObjectInfo> {
    const gate = this.gate;
    if (gate && /\/versions\/[^/]+\.json$/.test(key)) {
      this.gate = undefined;
      this.arrived();
      await gate.wait;
    }
    return super.put(key, body, options);
  }
}

const model = Buffer.from('weights '.repeat(1000));
let work: string;
let storage: DelayingStorage;
let store: ModelStore;

beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'modelstore-late-commit-'));
  storage = new DelayingStorage();
  store = new ModelStore({ storage, adapters: [bytesAdapter], cacheDir: path.join(work, 'cache') });
});

afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

/** Starts an upload whose commit the store holds; resolves once the archive is written and the commit waits. */
async function uploadWithHeldCommit(modelId: string) {
  const release = storage.holdNextCommit();
  const upload = store.upload('d', { model, modelId });
  await storage.held;
  const archive = (await storage.list('operatorai-model-store/d/')).objects.find((object) => object.key.endsWith(`/${modelId}/artifacts.tar.gz`));
  expect(archive).toBeDefined();
  return { release, upload, archive: archive! };
}

describe('garbage collection and a commit still in flight', () => {
  it('refuses a grace period below the minimum, so an archive whose commit is in flight cannot be removed', async () => {
    const { release, upload } = await uploadWithHeldCommit('m1');
    // The call that used to remove the archive under the commit in flight.
    const refused = await store.collectGarbage({ olderThan: 0 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(InvalidOptionError.isInstance(refused)).toBe(true);
    expect((refused as InvalidOptionError).option).toBe('olderThan');
    await expect(store.collectGarbage({ olderThan: minimumGarbageAge - 1 })).rejects.toThrow(/below the minimum/);
    await expect(store.collectGarbage({ olderThan: -1, quiesced: true })).rejects.toThrow(/at least 0/);
    // A clock set ahead shortens the grace period as surely as a small olderThan.
    await expect(store.collectGarbage({ now: new Date(Date.now() + 2 * defaultGarbageAge) })).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'now' });
    release();
    await upload;
    const to = path.join(work, 'm1');
    await store.download('d', { modelId: 'm1', to });
    expect(readFileSync(path.join(to, 'model.bin')).equals(model)).toBe(true);
  });

  it('keeps the archive with the smallest allowed grace period, and the model downloads once its commit lands', async () => {
    const { release, upload, archive } = await uploadWithHeldCommit('m2');
    // Up to the minimum age the archive is kept (ages measured on the store's lastModified)...
    for (const age of [0, 1000, minimumGarbageAge - 1]) {
      const now = new Date(archive.lastModified.getTime() + age);
      const result = await store.collectGarbage({ olderThan: minimumGarbageAge, now, quiesced: true });
      expect(result.removed).toEqual([]);
      expect(result.kept.map((object) => object.key)).toEqual([archive.key]);
    }
    // ...and the default grace period is longer still.
    expect(defaultGarbageAge).toBeGreaterThan(minimumGarbageAge);
    expect((await store.collectGarbage()).removed).toEqual([]);
    release();
    await upload;
    const to = path.join(work, 'm2');
    await store.download('d', { modelId: 'm2', to });
    expect(readFileSync(path.join(to, 'model.bin')).equals(model)).toBe(true);
  });

  it('keeps an archive whose commit landed while the registry was being listed', async () => {
    const { release, upload, archive } = await uploadWithHeldCommit('m3');
    // The commit lands during the listing, after gc has seen the archive but not the metadata.
    const list = storage.list.bind(storage);
    let landed = false;
    storage.list = async (prefix, options) => {
      const page = await list(prefix, options);
      if (!landed && page.objects.some((object) => object.key === archive.key)) {
        landed = true;
        release();
        await upload;
        // The page was read before the commit: it shows the archive without its metadata.
        return { ...page, objects: page.objects.filter((object) => !object.key.endsWith('/versions/m3.json')) };
      }
      return page;
    };
    const result = await store.collectGarbage({ olderThan: 0, quiesced: true, now: new Date(archive.lastModified.getTime() + 1) });
    expect(result.removed).toEqual([]);
    const to = path.join(work, 'm3');
    await store.download('d', { modelId: 'm3', to });
    expect(readFileSync(path.join(to, 'model.bin')).equals(model)).toBe(true);
  });

  it("shows what the rule prevents: a grace period shorter than the commit's flight (the old olderThan: 0) leaves a listed model that cannot be downloaded", async () => {
    const { release, upload } = await uploadWithHeldCommit('m5');
    // `quiesced: true` is a false promise here: a commit is in flight. This is what
    // `collectGarbage({ olderThan: 0 })` did before the minimum.
    const result = await store.collectGarbage({ olderThan: 0, quiesced: true });
    expect(result.removed).toHaveLength(1);
    release();
    await upload;
    expect(await store.listModels('d')).toContain('m5');
    await expect(store.download('d', { modelId: 'm5', to: path.join(work, 'm5') })).rejects.toThrow();
  });

  it('still removes an orphan archive older than the grace period', async () => {
    const { archive } = await uploadWithHeldCommit('m4');
    // The process died and its commit never lands.
    const result = await store.collectGarbage({ olderThan: minimumGarbageAge, now: new Date(archive.lastModified.getTime() + minimumGarbageAge + 1), quiesced: true });
    expect(result.removed.map((object) => object.key)).toEqual([archive.key]);
    expect(await storage.head(archive.key)).toBeUndefined();
  });
});
