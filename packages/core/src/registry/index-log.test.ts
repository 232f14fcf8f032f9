// The append-only index: its key codec, compaction (parts reused, pointer by
// compare-and-swap, folded entries removed), crashes at every step of a compaction,
// writers and compactions racing, pages with cursors, and the storage requests of pages
// and listings at 100,000 models and 10,000 domains (counted with the recording storage).
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { text } from 'node:stream/consumers';
import { InterceptedStorage, recording } from '../../test/support.js';
import { StorageError } from '../errors.js';
import { MemoryStorage } from '../memory-storage.js';
import { ModelStore } from '../model-store.js';
import { layout } from '../registry-layout.js';
import type { Storage } from '../storage.js';
import { compactDomainIndex, recordDeletion, recordModel } from './creation-index.js';
import { readModel, type StoredModel } from './documents.js';
import { appendLog, compactIfDue, compactIndexLog, comparePositions, type IndexEntry, indexSettings, logName, mergedEntries, parseLogName, readIndexPage, readIndexState, readPointer, tagOf } from './index-log.js';

const root = layout.indexRoot('d');
const defaults = { ...indexSettings };
afterEach(() => {
  Object.assign(indexSettings, defaults);
});

/** `count` entries, one second apart, newest last; ids `m000000`... */
function synthetic(count: number, start = Date.UTC(2024, 0, 1)): IndexEntry[] {
  return Array.from({ length: count }, (_, i) => ({ id: `m${String(i).padStart(6, '0')}`, time: start + i * 1000, tag: tagOf(`"e${i}"`), size: 100 + i, library: 'onnx' }));
}

/** Writes a checkpoint holding exactly `entries`, through the module. */
async function seed(storage: Storage, entries: IndexEntry[], at = root): Promise<void> {
  await compactIndexLog(storage, at, { reconcile: async () => new Map(entries.map((entry) => [entry.id, entry])) });
}

const newestFirstIds = (entries: IndexEntry[]) => [...entries].sort(comparePositions).map((entry) => entry.id);

/** Every id of the index, page by page. */
async function allPages(storage: Storage, limit: number): Promise<string[]> {
  const ids: string[] = [];
  let after: { time: number; id: string } | undefined;
  for (;;) {
    const page = (await readIndexPage(storage, root, limit, after))!;
    ids.push(...page.entries.map((entry) => entry.id));
    if (!page.next) return ids;
    after = page.next;
  }
}

describe('log keys', () => {
  it('round-trip, and a long id keeps the id and drops the facts (then read from the body)', () => {
    const entry = { id: 'model.v1-é', time: 1_700_000_000_123, tag: tagOf('"abc"'), size: 12345, library: 'transformers.js' };
    expect(parseLogName(logName('a', entry))).toEqual({ kind: 'a', ...entry, complete: true });
    const long = { ...entry, id: 'x'.repeat(200), library: 'y'.repeat(40) };
    const name = logName('r', long);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(226);
    expect(parseLogName(name)).toEqual({ kind: 'r', id: long.id, time: long.time, tag: '', complete: false });
    expect(parseLogName('not-an-entry.json')).toBeUndefined();
    expect(parseLogName('000000000000001~x~~~~a.json')).toBeUndefined();
  });

  it('an entry whose key lacks the facts is read', async () => {
    const storage = new MemoryStorage();
    const long = { id: 'x'.repeat(200), time: 5, tag: tagOf('"e"'), size: 7, library: 'z'.repeat(60) };
    await appendLog(storage, root, 'a', long);
    expect(mergedEntries(await readIndexState(storage, root)).get(long.id)).toEqual(long);
  });
});

describe('compaction', () => {
  it('folds the log into parts of bounded size, newest first, and removes the folded entries', async () => {
    indexSettings.partSize = 10;
    const storage = new MemoryStorage();
    const entries = synthetic(35);
    for (const entry of entries) await appendLog(storage, root, 'a', entry);
    const result = await compactIndexLog(storage, root);
    expect(result).toMatchObject({ published: true, entries: 35, folded: 35, parts: 4, written: 4 });
    expect((await storage.list(`${root}log/`)).objects).toEqual([]);
    const { pointer } = await readPointer(storage, root);
    // Split from the oldest end: the newest part holds the remainder.
    expect(pointer!.parts.map((part) => part.count)).toEqual([5, 10, 10, 10]);
    expect(await allPages(storage, 7)).toEqual(newestFirstIds(entries));
  });

  it('reuses the parts nothing changed in: new models rewrite only the newest part', async () => {
    indexSettings.partSize = 10;
    const storage = new MemoryStorage();
    const entries = synthetic(40);
    await seed(storage, entries.slice(0, 35));
    const before = (await readPointer(storage, root)).pointer!;
    for (const entry of entries.slice(35)) await appendLog(storage, root, 'a', entry);
    const result = await compactIndexLog(storage, root);
    const after = (await readPointer(storage, root)).pointer!;
    expect(result).toMatchObject({ published: true, entries: 40, written: 1 });
    expect(after.parts.slice(1)).toEqual(before.parts.slice(1));
    expect(after.parts[0]!.count).toBe(10);
    expect(await allPages(storage, 9)).toEqual(newestFirstIds(entries));
  });

  it('applies tombstones and re-uploads wherever the old entry sits, and keeps young tombstones in the log', async () => {
    indexSettings.partSize = 10;
    const storage = new MemoryStorage();
    const entries = synthetic(30);
    await seed(storage, entries);
    await appendLog(storage, root, 'r', entries[3]!);
    const reused = { ...entries[12]!, time: entries[29]!.time + 5000, tag: tagOf('"again"') };
    await appendLog(storage, root, 'a', reused);
    await compactIndexLog(storage, root);
    const expected = entries.filter((entry) => entry.id !== entries[3]!.id && entry.id !== reused.id).concat([reused]);
    expect(await allPages(storage, 4)).toEqual(newestFirstIds(expected));
    // The tombstone stays (an entry for its version may still land late); the add is gone.
    expect((await storage.list(`${root}log/`)).objects.map((object) => parseLogName(object.key.slice(`${root}log/`.length))!.kind)).toEqual(['r']);
    await appendLog(storage, root, 'a', entries[3]!);
    expect(await allPages(storage, 100)).toEqual(newestFirstIds(expected));
  });

  it('only one of two compactions that read the same pointer publishes; the loser removes nothing', async () => {
    const storage = new MemoryStorage();
    const entries = synthetic(20);
    for (const entry of entries) await appendLog(storage, root, 'a', entry);
    const results = await Promise.all([compactIndexLog(storage, root), compactIndexLog(storage, root)]);
    expect(results.filter((result) => result.published).length).toBeGreaterThanOrEqual(1);
    expect(await allPages(storage, 6)).toEqual(newestFirstIds(entries));
  });

  it('compactIfDue lists the log only now and then, and compacts once it is long', async () => {
    indexSettings.compactAt = 5;
    const storage = new MemoryStorage();
    const { storage: counted, calls } = recording(storage);
    for (const entry of synthetic(4)) await appendLog(storage, root, 'a', entry);
    expect(
      await compactIfDue(
        counted,
        root,
        () => compactIndexLog(storage, root),
        () => 0.5,
      ),
    ).toBe(false);
    expect(calls).toEqual([]);
    expect(
      await compactIfDue(
        counted,
        root,
        () => compactIndexLog(storage, root),
        () => 0,
      ),
    ).toBe(false);
    expect(calls).toEqual([`list ${root}log/`]);
    await appendLog(storage, root, 'a', synthetic(5)[4]!);
    expect(
      await compactIfDue(
        counted,
        root,
        () => compactIndexLog(storage, root),
        () => 0,
      ),
    ).toBe(true);
    expect((await readPointer(storage, root)).pointer!.count).toBe(5);
  });

  it('a check also compacts, reconciling, a short log whose checkpoint was last reconciled over a day ago; the appends that do not check make no request', async () => {
    const storage = new MemoryStorage();
    // A model Python wrote: only in versions/, never in the log.
    await storage.put(layout.version('d', 'py'), JSON.stringify({ model: { domain: 'd', model_id: 'py', model_type: { library: 'x' } }, storage: { type: 'memory' }, code: { created_at: '2024-01-02T00:00:00.000Z' } }));
    await seed(storage, synthetic(2));
    const { pointer } = await readPointer(storage, root);
    // The seeded checkpoint's reconciliation, made two days old.
    await storage.put(`${root}_last_checkpoint`, JSON.stringify({ ...pointer, etag: undefined, reconciled: Date.now() - 2 * 24 * 3600 * 1000 }));
    const { storage: counted, calls } = recording(storage);
    const compact = () => compactDomainIndex(storage, 'd', { automatic: true });
    expect(await compactIfDue(counted, root, compact, () => 0.5, indexSettings.reconcileEveryMs)).toBe(false);
    expect(calls).toEqual([]);
    expect(await compactIfDue(counted, root, compact, () => 0, indexSettings.reconcileEveryMs)).toBe(true);
    expect(calls).toEqual([`list ${root}log/`, `get ${root}_last_checkpoint`]);
    const after = (await readPointer(storage, root)).pointer!;
    expect(Date.now() - after.reconciled!).toBeLessThan(60_000);
    expect((await readIndexPage(storage, root, 10, undefined))!.entries.map((entry) => entry.id)).toEqual(['py']);
    // Reconciled a moment ago: the next check lists and reads the pointer, and compacts nothing.
    calls.length = 0;
    expect(await compactIfDue(counted, root, compact, () => 0, indexSettings.reconcileEveryMs)).toBe(false);
    expect(calls).toEqual([`list ${root}log/`, `get ${root}_last_checkpoint`]);
  });
});

/** A storage that fails the `n`-th mutation (put or delete) under the index root, and every one after it: a process killed there. */
class CrashingStorage extends InterceptedStorage {
  mutations = 0;
  crashAt = Number.POSITIVE_INFINITY;
  protected override before(method: string, key: string): void {
    if ((method === 'put' || method === 'delete') && key.startsWith(root) && ++this.mutations >= this.crashAt) throw new StorageError('killed');
  }
}

/** A store of 8 models (`m7` newest first), compacted into parts of 3: the store, the storage, the ids newest first, the pointer. */
async function compactedStore() {
  indexSettings.partSize = 3;
  const storage = new MemoryStorage();
  const ids: string[] = [];
  for (let i = 0; i < 8; i++) {
    const id = `m${i}`;
    await storage.put(
      layout.version('d', id),
      JSON.stringify({ model: { domain: 'd', model_id: id, model_type: { library: 'x' } }, storage: { type: 'memory' }, code: { created_at: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString() }, archive: { size: i } }),
    );
    ids.unshift(id);
  }
  const store = new ModelStore({ storage });
  await store.compactIndex('d');
  const { pointer } = await readPointer(storage, root);
  return { store, storage, ids, pointer: pointer! };
}

describe('a checkpoint part gone missing', () => {
  it('readers fall back to the registry, and the next compaction rebuilds the checkpoint from it rather than dropping entries', async () => {
    const { store, storage, ids, pointer } = await compactedStore();
    await storage.delete(`${root}${pointer.parts[1]!.key}`);
    expect((await store.listModels('d', { limit: 100 })).models).toEqual(ids);
    const state = await readIndexState(storage, root);
    expect(state.broken).toBe(true);
    // An automatic compaction (as an upload runs it) with a part missing reconciles.
    await compactDomainIndex(storage, 'd', { automatic: true });
    expect(await allPages(storage, 3)).toEqual(ids);
  });
});

describe('a damaged index that is still valid JSON', () => {
  /** {@link compactedStore}, its parts checked: 2, 3 and 3 entries. */
  async function compacted() {
    const compactedOnce = await compactedStore();
    expect(compactedOnce.pointer.parts.map((part) => part.count)).toEqual([2, 3, 3]);
    return compactedOnce;
  }
  const pages = async (store: ModelStore) => {
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listModels('d', { limit: 3, ...(cursor ? { cursor } : {}) });
      ids.push(...page.models);
      cursor = page.cursor;
    } while (cursor);
    return ids;
  };

  it('a part whose entries were emptied or shortened is treated as missing: pages come from the full listing', async () => {
    for (const damage of [[], 'shortened'] as const) {
      const { store, storage, ids, pointer } = await compacted();
      const key = `${root}${pointer.parts[1]!.key}`;
      const rows = (JSON.parse(await text((await storage.get(key))!.body as AsyncIterable<Uint8Array>)) as { entries: unknown[] }).entries;
      await storage.put(key, JSON.stringify({ entries: damage === 'shortened' ? rows.slice(0, 2) : [] }));
      expect(await readIndexPage(storage, root, 10, undefined)).toBeUndefined();
      expect(await pages(store)).toEqual(ids);
      expect((await readIndexState(storage, root)).broken).toBe(true);
    }
  });

  it('a pointer that lost a part (its count is not the sum of its parts) is not used, and the next automatic compaction rebuilds it from the registry', async () => {
    const { store, storage, ids, pointer } = await compacted();
    await storage.put(`${root}_last_checkpoint`, JSON.stringify({ ...pointer, etag: undefined, parts: [pointer.parts[0], pointer.parts[2]] }));
    expect((await readPointer(storage, root)).pointer).toBeUndefined();
    expect(await pages(store)).toEqual(ids);
    expect((await readIndexState(storage, root)).broken).toBe(true);
    await compactDomainIndex(storage, 'd', { automatic: true });
    expect(await allPages(storage, 3)).toEqual(ids);
  });

  it('a pointer whose parts are out of order is not used', async () => {
    const { store, storage, ids, pointer } = await compacted();
    await storage.put(`${root}_last_checkpoint`, JSON.stringify({ ...pointer, etag: undefined, parts: [pointer.parts[1], pointer.parts[0], pointer.parts[2]] }));
    expect((await readPointer(storage, root)).pointer).toBeUndefined();
    expect(await pages(store)).toEqual(ids);
  });

  it('log names that do not parse strictly, and entries whose id is not a valid model id, are ignored', async () => {
    const { store, storage, ids } = await compacted();
    const time = String(Date.UTC(2030, 0, 1)).padStart(15, '0');
    const tag = tagOf('"x"');
    for (const name of [`${time}~a~zz~zz~zz~zz.json`, `${time}~a~${tag}~01~~ghost.json`, `${time}~a~${tag}~~eA=~ghost.json`, `${time}~a~${tag}~~~bad id.json`, `${time}~a~${tag}~~~a#b.json`, `${time}~x~${tag}~~~ghost.json`]) {
      await storage.put(`${root}log/${name}`, '{}');
    }
    expect(parseLogName(`${time}~a~zz~zz~zz~zz.json`)).toBeUndefined();
    expect(parseLogName(`${time}~a~${tag}~01~~ghost.json`)).toBeUndefined();
    expect(parseLogName(`${time}~a~${tag}~1~~ghost.json`)).toMatchObject({ id: 'ghost', size: 1 });
    expect(await pages(store)).toEqual(ids);
    expect([...mergedEntries(await readIndexState(storage, root)).keys()].sort()).toEqual([...ids].sort());
  });
});

describe('crashes at every step of a compaction', () => {
  it('lose nothing: the index still holds every entry, and the next compaction finishes', async () => {
    indexSettings.partSize = 4;
    indexSettings.graceMs = 0;
    const entries = synthetic(12);
    // Count the mutations of one whole compaction (8 parts... writes, the pointer, deletes).
    const probe = new CrashingStorage();
    await seed(probe, entries.slice(0, 6));
    for (const entry of entries.slice(6)) await appendLog(probe, root, 'a', entry);
    await appendLog(probe, root, 'r', entries[1]!);
    probe.mutations = 0;
    await compactIndexLog(probe, root);
    const steps = probe.mutations;
    expect(steps).toBeGreaterThan(8);
    const expected = newestFirstIds(entries.filter((entry) => entry.id !== entries[1]!.id));
    for (let crashAt = 1; crashAt <= steps; crashAt++) {
      const storage = new CrashingStorage();
      await seed(storage, entries.slice(0, 6));
      for (const entry of entries.slice(6)) await appendLog(storage, root, 'a', entry);
      await appendLog(storage, root, 'r', entries[1]!);
      storage.mutations = 0;
      storage.crashAt = crashAt;
      await compactIndexLog(storage, root).catch(() => undefined);
      storage.crashAt = Number.POSITIVE_INFINITY;
      expect({ crashAt, ids: await allPages(storage, 5) }).toEqual({ crashAt, ids: expected });
      expect({ crashAt, ids: newestFirstIds([...mergedEntries(await readIndexState(storage, root)).values()]) }).toEqual({ crashAt, ids: expected });
      await compactIndexLog(storage, root);
      expect({ crashAt, ids: await allPages(storage, 5) }).toEqual({ crashAt, ids: expected });
      // Nothing is left behind once the next compaction ran: no log entry, no part no pointer names.
      const { pointer } = await readPointer(storage, root);
      const named = new Set(pointer!.parts.map((part) => `${root}${part.key}`));
      expect({ crashAt, stray: (await storage.list(`${root}checkpoint/`)).objects.map((object) => object.key).filter((key) => !named.has(key)) }).toEqual({ crashAt, stray: [] });
      expect({ crashAt, log: (await storage.list(`${root}log/`)).objects.length }).toEqual({ crashAt, log: 0 });
    }
  });
});

describe('16 writers while compactions run', () => {
  it('lose nothing and keep the order exact', async () => {
    indexSettings.partSize = 25;
    const storage = new MemoryStorage();
    const entries = synthetic(16 * 30).map((entry, i) => ({ ...entry, time: entry.time + ((i * 7919) % 480) * 10 }));
    let writing = true;
    const compactions = (async () => {
      let published = 0;
      while (writing) {
        if ((await compactIndexLog(storage, root)).published) published++;
        await new Promise((resolve) => setImmediate(resolve));
      }
      return published;
    })();
    await Promise.all(
      Array.from({ length: 16 }, async (_, writer) => {
        for (let i = writer; i < entries.length; i += 16) {
          await appendLog(storage, root, 'a', entries[i]!);
          await new Promise((resolve) => setImmediate(resolve));
        }
      }),
    );
    writing = false;
    expect(await compactions).toBeGreaterThan(3);
    expect(await allPages(storage, 37)).toEqual(newestFirstIds(entries));
    await compactIndexLog(storage, root);
    expect(await allPages(storage, 50)).toEqual(newestFirstIds(entries));
  });
});

describe('pages and their storage requests at scale', () => {
  let storage: MemoryStorage;
  const entries = synthetic(100_000);
  beforeEach(async () => {
    storage = new MemoryStorage();
    await seed(storage, entries);
    // A log of 400 uploads since the last compaction, some older than the newest checkpoint entries.
    for (let i = 0; i < 400; i++) await appendLog(storage, root, 'a', { id: `new${i}`, time: entries.at(-1)!.time + (i % 2 === 0 ? i * 10 : -i * 1000), tag: tagOf(`"n${i}"`), size: 1, library: 'onnx' });
  });

  it('the first page of 50 of 100,000 models costs at most 5 requests, and so does each following page', async () => {
    const { storage: counted, calls } = recording(storage);
    const counting = new ModelStore({ storage: counted });
    const first = await counting.listModels('d', { limit: 50 });
    expect(first.models).toHaveLength(50);
    expect(calls.length).toBeLessThanOrEqual(5);
    expect(calls).toEqual([`list ${root}log/`, `get ${root}_last_checkpoint`, expect.stringMatching(/^get .*checkpoint\//)]);
    const perPage: number[] = [calls.length];
    let cursor = first.cursor;
    const seen = [...first.models];
    for (let page = 0; page < 60 && cursor; page++) {
      calls.length = 0;
      const next = await counting.listModels('d', { limit: 50, cursor });
      perPage.push(calls.length);
      seen.push(...next.models);
      cursor = next.cursor;
    }
    expect(Math.max(...perPage)).toBeLessThanOrEqual(5);
    // Summaries: the same page, plus the listing of the states (none defined here).
    calls.length = 0;
    const summaries = await counting.listModelSummaries('d', { limit: 50 });
    expect(summaries.models.map((summary) => summary.modelId)).toEqual(first.models);
    expect(summaries.models[0]).toMatchObject({ size: 1, library: 'onnx', states: [] });
    expect(calls.length).toBe(4);
    // The same order as the whole index, newest first.
    const whole = newestFirstIds([...mergedEntries(await readIndexState(storage, root)).values()]);
    expect(seen).toEqual(whole.slice(0, seen.length));
  }, 120_000);

  it('pages through all 100,400 in order, each id once', async () => {
    const ids = await allPages(storage, 1000);
    expect(ids).toHaveLength(100_400);
    expect(ids).toEqual(newestFirstIds([...mergedEntries(await readIndexState(storage, root)).values()]));
  }, 120_000);
});

describe('listings at scale', () => {
  it('the unlimited listModels of 10,000 models this library indexed costs at most 25 requests', async () => {
    const storage = new MemoryStorage();
    const models: StoredModel[] = [];
    for (let i = 0; i < 10_000; i++) {
      const id = `m${String(i).padStart(5, '0')}`;
      await storage.put(
        layout.version('d', id),
        JSON.stringify({ model: { domain: 'd', model_id: id, model_type: { library: 'x' } }, storage: { type: 'memory' }, code: { created_at: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString() }, archive: { size: i } }),
      );
    }
    for (const id of ['m00000', 'm09999']) models.push((await readModel(storage, layout.version('d', id)))!);
    const store = new ModelStore({ storage });
    await store.compactIndex('d');
    // Two uploads since (in the log), one deleted.
    await recordModel(storage, models[0]!);
    await recordDeletion(storage, models[1]!);
    await storage.delete(layout.version('d', 'm09999'));
    const { storage: counted, calls } = recording(storage);
    const ids = await new ModelStore({ storage: counted }).listModels('d');
    expect(ids).toHaveLength(9_999);
    expect(ids[0]).toBe('m09998');
    expect(ids.at(-1)).toBe('m00000');
    // 10 listing pages of versions/, the index's log listing, its pointer and 5 parts of 2,000.
    expect(calls.length).toBe(17);
    expect(calls.filter((call) => call.startsWith('get ') && call.includes('/versions/'))).toEqual([]);
  }, 120_000);

  it('listDomains at 10,000 domains costs at most 25 requests, newest first; a pointer the index does not describe is read', async () => {
    const storage = new MemoryStorage();
    const entries: IndexEntry[] = [];
    for (let i = 0; i < 10_000; i++) {
      const domain = `domain-${String(i).padStart(5, '0')}`;
      const time = Date.UTC(2024, 0, 1) + ((i * 7919) % 10_000) * 1000;
      const info = await storage.put(layout.domain(domain), JSON.stringify({ model: { domain, model_id: 'm', model_type: { library: 'x' } }, storage: { type: 'memory' }, code: { created_at: new Date(time).toISOString() } }));
      entries.push({ id: domain, time, tag: tagOf(info.etag) });
    }
    await seed(storage, entries, layout.domainsIndexRoot());
    const { storage: counted, calls } = recording(storage);
    const domains = await new ModelStore({ storage: counted }).listDomains();
    expect(domains).toEqual([...entries].sort((a, b) => b.time - a.time || (a.id < b.id ? -1 : 1)).map((entry) => entry.id));
    // 10 listing pages of domains/, the index's log listing, its pointer and 5 parts of 2,000.
    expect(calls.length).toBe(17);
    expect(calls.filter((call) => call.startsWith('get ') && call.includes('/domains/domain-'))).toEqual([]);
  }, 120_000);
});
