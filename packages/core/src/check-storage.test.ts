import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ModelAdapter, SavedModel } from './adapter.js';
import { checkStorage, ensureConditionalWrites, probeKeyPrefix } from './check-storage.js';
import { InvalidOptionError, StorageCapabilityError, StorageError } from './errors.js';
import { MemoryStorage } from './memory-storage.js';
import { ModelStore } from './model-store.js';
import type { Body, GetOptions, ListOptions, ListResult, ObjectInfo, PutOptions, Storage, StorageCapabilities, StorageLocation, StoredObject } from './storage.js';

/**
 * A store in memory that drops `ifNoneMatch` and `ifMatch`, as s3rver does with the
 * headers, while claiming whatever it is told to. It also counts calls, and can age
 * what `list` reports, fail the first listing, or refuse writes.
 */
class IgnoringConditions implements Storage {
  readonly specificationVersion = 'v1' as const;
  readonly inner = new MemoryStorage();
  readonly calls: string[] = [];
  listAge = 0;
  failListings = 0;
  refuseWrites = false;
  constructor(
    readonly capabilities: StorageCapabilities,
    private readonly honour = false,
  ) {}
  describe(key: string): StorageLocation {
    return this.inner.describe(key);
  }
  async put(key: string, body: Body, options: PutOptions = {}): Promise<ObjectInfo> {
    this.calls.push(`put ${key}`);
    if (this.refuseWrites) throw new StorageError(`Access denied writing "${key}"`);
    const { ifNoneMatch, ifMatch, ...rest } = options;
    return this.inner.put(key, body, this.honour ? options : rest);
  }
  async get(key: string, options?: GetOptions): Promise<StoredObject | undefined> {
    this.calls.push(`get ${key}`);
    return this.inner.get(key, options);
  }
  async head(key: string): Promise<ObjectInfo | undefined> {
    return this.inner.head(key);
  }
  async list(prefix: string, options?: ListOptions): Promise<ListResult> {
    this.calls.push(`list ${prefix}`);
    if (this.failListings > 0) {
      this.failListings--;
      throw new StorageError('connect ECONNREFUSED 127.0.0.1:9', { retryable: true });
    }
    const result = await this.inner.list(prefix, options);
    return { ...result, objects: result.objects.map((object) => ({ ...object, lastModified: new Date(object.lastModified.getTime() - this.listAge) })) };
  }
  async delete(key: string): Promise<boolean> {
    return this.inner.delete(key);
  }
}

async function allKeys(storage: Storage): Promise<string[]> {
  return (await storage.list('')).objects.map((object) => object.key);
}

const byName = (report: { checks: { name: string; ok: boolean }[] }) => Object.fromEntries(report.checks.map((check) => [check.name, check.ok]));

describe('checkStorage', () => {
  it('finds every claim of MemoryStorage true, and leaves no key behind', async () => {
    const storage = new MemoryStorage();
    await storage.put('operatorai-model-store/domains/churn.json', '{}');
    const report = await checkStorage(storage);
    expect(report.ok).toBe(true);
    expect(report.claims).toEqual({ conditionalWrites: true, rangeReads: true });
    expect(report.observed).toEqual({ conditionalWrites: true, rangeReads: true });
    expect(report.checks.map((check) => check.name)).toEqual(['create-only', 'read-after-write', 'compare-and-swap-stale', 'compare-and-swap-current', 'range-read', 'list-order', 'list-pagination', 'delete', 'cleanup']);
    expect(report.checks.every((check) => check.ok && !check.skipped && check.durationMs >= 0)).toBe(true);
    expect(report.advice).toEqual([]);
    expect(report.probePrefix.startsWith(`${probeKeyPrefix}/`)).toBe(true);
    expect(await allKeys(storage)).toEqual(['operatorai-model-store/domains/churn.json']);
  });

  it('tells a store that ignores conditional writes while claiming them, and says what to set', async () => {
    const storage = new IgnoringConditions({ conditionalWrites: true, rangeReads: true });
    const report = await checkStorage(storage);
    expect(report.ok).toBe(false);
    expect(byName(report)).toEqual({
      'create-only': false,
      'read-after-write': true,
      'compare-and-swap-stale': false,
      'compare-and-swap-current': true,
      'range-read': true,
      'list-order': true,
      'list-pagination': true,
      delete: true,
      cleanup: true,
    });
    expect(report.observed.conditionalWrites).toBe(false);
    expect(report.checks[0]!.detail).toMatch(/ignores If-None-Match/);
    expect(report.advice).toHaveLength(1);
    expect(report.advice[0]).toMatch(/^This store ignores If-None-Match and If-Match: open it with conditionalWrites: false .*\?conditionalWrites=false.* one writer at a time/);
    expect(await allKeys(storage.inner)).toEqual([]);
  });

  it('accepts the same store once it declares conditionalWrites: false, and says what it saw', async () => {
    const report = await checkStorage(new IgnoringConditions({ conditionalWrites: false, rangeReads: true }));
    expect(report.ok).toBe(true);
    expect(report.observed.conditionalWrites).toBe(false);
    expect(report.checks[0]!.detail).toMatch(/not claimed \(conditionalWrites: false\).*one writer at a time/);
    expect(report.advice).toEqual([]);
  });

  it('says so when a store honours conditional writes it does not claim, and skips range reads it does not claim', async () => {
    const report = await checkStorage(new IgnoringConditions({ conditionalWrites: false, rangeReads: false }, true));
    expect(report.ok).toBe(true);
    expect(report.observed).toEqual({ conditionalWrites: true, rangeReads: undefined });
    expect(report.checks.find((check) => check.name === 'range-read')).toMatchObject({ ok: true, skipped: true });
    expect(report.advice).toEqual([expect.stringMatching(/open it with conditionalWrites: true/)]);
  });

  it('throws the StorageError of a store it cannot reach', async () => {
    const storage = new IgnoringConditions({ conditionalWrites: true, rangeReads: true }, true);
    storage.failListings = 1;
    const error = await checkStorage(storage).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(StorageError.isInstance(error)).toBe(true);
    expect((error as StorageError).message).toMatch(/ECONNREFUSED/);
    expect(storage.calls.filter((call) => call.startsWith('put '))).toEqual([]);
  });

  it('reports writes the store refuses as failed checks, not as an exception', async () => {
    const storage = new IgnoringConditions({ conditionalWrites: true, rangeReads: true }, true);
    storage.refuseWrites = true;
    const report = await checkStorage(storage);
    expect(report.ok).toBe(false);
    expect(report.checks[0]).toMatchObject({ name: 'create-only', ok: false });
    expect(report.checks[0]!.detail).toMatch(/a create-only write of a new key failed: StorageError: Access denied/);
    expect(report.checks.filter((check) => check.skipped).map((check) => check.name)).toEqual(['read-after-write', 'compare-and-swap-stale', 'compare-and-swap-current', 'range-read', 'list-order', 'list-pagination', 'delete']);
    expect(report.observed.conditionalWrites).toBeUndefined();
  });

  it('removes probe keys over an hour old that a probe which died left, and nothing else', async () => {
    const storage = new IgnoringConditions({ conditionalWrites: true, rangeReads: true }, true);
    const leftovers = [`${probeKeyPrefix}-0123456789abcdef`, `${probeKeyPrefix}/fedcba9876543210/list/x/1`];
    for (const key of leftovers) await storage.inner.put(key, 'left');
    await storage.inner.put('operatorai-model-store/domains/churn.json', '{}');
    storage.listAge = 30 * 60_000;
    expect((await checkStorage(storage)).staleRemoved).toEqual([]);
    expect(await allKeys(storage.inner)).toEqual(['operatorai-model-store/.modelstore-probe-0123456789abcdef', ...leftovers.slice(1), 'operatorai-model-store/domains/churn.json'].sort());
    storage.listAge = 2 * 3600_000;
    const report = await checkStorage(storage);
    expect(report.ok).toBe(true);
    expect(report.staleRemoved).toEqual([...leftovers].sort());
    expect(await allKeys(storage.inner)).toEqual(['operatorai-model-store/domains/churn.json']);
  });

  it('refuses what is not a Storage with InvalidOptionError', async () => {
    for (const bad of [undefined, null, {}, { put() {}, list() {} }]) {
      const error = await checkStorage(bad as unknown as Storage).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(InvalidOptionError.isInstance(error)).toBe(true);
    }
  });
});

describe('ensureConditionalWrites', () => {
  it('passes a store that honours conditional writes, once per storage object, with one probe for concurrent callers', async () => {
    const storage = new IgnoringConditions({ conditionalWrites: true, rangeReads: true }, true);
    await Promise.all([ensureConditionalWrites(storage), ensureConditionalWrites(storage), ensureConditionalWrites(storage)]);
    const puts = storage.calls.filter((call) => call.startsWith('put '));
    expect(puts).toHaveLength(4);
    expect(new Set(puts).size).toBe(1);
    expect(puts[0]!.startsWith(`put ${probeKeyPrefix}-`)).toBe(true);
    await ensureConditionalWrites(storage);
    expect(storage.calls.filter((call) => call.startsWith('put '))).toHaveLength(4);
    expect(await allKeys(storage.inner)).toEqual([]);
  });

  it('refuses a store that claims conditional writes but ignores them, and keeps refusing without probing again', async () => {
    const storage = new IgnoringConditions({ conditionalWrites: true, rangeReads: true });
    const results = await Promise.allSettled([ensureConditionalWrites(storage), ensureConditionalWrites(storage)]);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      const error = (result as PromiseRejectedResult).reason as StorageCapabilityError;
      expect(StorageCapabilityError.isInstance(error)).toBe(true);
      expect(error.code).toBe('STORAGE_CAPABILITY');
      expect(error.capability).toBe('conditionalWrites');
      expect(error.message).toMatch(/ignores If-None-Match.*conditionalWrites: false.*one writer at a time/);
    }
    const calls = storage.calls.length;
    await expect(ensureConditionalWrites(storage)).rejects.toMatchObject({ code: 'STORAGE_CAPABILITY' });
    expect(storage.calls.length).toBe(calls);
    expect(await allKeys(storage.inner)).toEqual([]);
  });

  it('does not probe a store that declares conditionalWrites: false, nor when told not to', async () => {
    const declared = new IgnoringConditions({ conditionalWrites: false, rangeReads: true });
    await ensureConditionalWrites(declared);
    const skipped = new IgnoringConditions({ conditionalWrites: true, rangeReads: true });
    await ensureConditionalWrites(skipped, false);
    expect([...declared.calls, ...skipped.calls]).toEqual([]);
  });

  it('refuses what is not a Storage with InvalidOptionError', async () => {
    for (const bad of [undefined, null, 'file:///tmp', { put() {} }]) {
      const error = await ensureConditionalWrites(bad as unknown as Storage).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(InvalidOptionError.isInstance(error)).toBe(true);
    }
  });

  it('probes again after a probe that failed for another reason', async () => {
    const storage = new IgnoringConditions({ conditionalWrites: true, rangeReads: true }, true);
    storage.refuseWrites = true;
    await expect(ensureConditionalWrites(storage)).rejects.toMatchObject({ code: 'STORAGE' });
    storage.refuseWrites = false;
    await ensureConditionalWrites(storage);
    expect(storage.calls.filter((call) => call.startsWith('put '))).toHaveLength(5);
  });
});

/** A model that is its own bytes. */
const bytesAdapter: ModelAdapter<Uint8Array, string> = {
  specificationVersion: 'v1',
  library: 'bytes',
  matches: (model: unknown) => model instanceof Uint8Array,
  save: async (model: Uint8Array): Promise<SavedModel> => ({ files: [{ path: 'model.bin', source: model }] }),
  load: async (directory: string) => directory,
} as ModelAdapter<Uint8Array, string>;

describe('ModelStore and the guard', () => {
  const withCache = async (run: (cacheDir: string) => Promise<void>) => {
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'modelstore-guard-'));
    try {
      await run(cacheDir);
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  };

  it('refuses every write to a store that ignores the conditions it claims, before writing anything', async () =>
    withCache(async (cacheDir) => {
      const storage = new IgnoringConditions({ conditionalWrites: true, rangeReads: true });
      const store = new ModelStore({ storage, adapters: [bytesAdapter], cacheDir });
      const uploads = await Promise.allSettled([store.upload('churn', { model: Buffer.from('one'), modelId: 'same' }), store.upload('churn', { model: Buffer.from('two'), modelId: 'same' })]);
      for (const result of uploads) expect(StorageCapabilityError.isInstance((result as PromiseRejectedResult).reason)).toBe(true);
      const writes = [
        () => store.createModelState('production'),
        () => store.setModelState('churn', 'same', 'production'),
        () => store.removeModelState('churn', 'same', 'production'),
        () => store.deleteModelState('production'),
        () => store.collectGarbage(),
      ];
      for (const write of writes) {
        await expect(write()).rejects.toMatchObject({ code: 'STORAGE_CAPABILITY' });
      }
      expect(await allKeys(storage.inner)).toEqual([]);
    }));

  it('writes to it when told not to check (checkConditionalWrites: false), or when the store declares conditionalWrites: false', async () =>
    withCache(async (cacheDir) => {
      for (const [storage, options] of [
        [new IgnoringConditions({ conditionalWrites: true, rangeReads: true }), { checkConditionalWrites: false }],
        [new IgnoringConditions({ conditionalWrites: false, rangeReads: true }), {}],
      ] as const) {
        const store = new ModelStore({ storage, adapters: [bytesAdapter], cacheDir, ...options });
        await store.upload('churn', { model: Buffer.from('one'), modelId: 'm1' });
        expect(await store.listModels('churn')).toEqual(['m1']);
        expect(storage.calls.some((call) => call.includes('.modelstore-probe'))).toBe(false);
      }
    }));

  it('probes an honest store once, and the registry ignores probe keys a crashed probe left', async () =>
    withCache(async (cacheDir) => {
      const storage = new IgnoringConditions({ conditionalWrites: true, rangeReads: true }, true);
      const leftovers = [`${probeKeyPrefix}-0123456789abcdef`, `${probeKeyPrefix}/fedcba9876543210/object`, `${probeKeyPrefix}/fedcba9876543210/list/x/1`, `${probeKeyPrefix}/fedcba9876543210/list/x0`];
      for (const key of leftovers) await storage.inner.put(key, 'left');
      const store = new ModelStore({ storage, adapters: [bytesAdapter], cacheDir });
      await Promise.all([store.upload('churn', { model: Buffer.from('one'), modelId: 'm1' }), store.createModelState('production')]);
      await store.upload('churn', { model: Buffer.from('two'), modelId: 'm2' });
      await store.setModelState('churn', 'm1', 'production');
      expect(storage.calls.filter((call) => call.startsWith(`put ${probeKeyPrefix}-`) && !call.endsWith('0123456789abcdef'))).toHaveLength(4);
      expect(await store.listDomains()).toEqual(['churn']);
      expect(await store.listModels('churn')).toEqual(['m2', 'm1']);
      expect(await store.listModelStates()).toEqual(['production']);
      const gc = await store.collectGarbage({ olderThan: 0, quiesced: true });
      expect(gc).toMatchObject({ removed: [], kept: [], unreadable: [] });
      for (const key of leftovers) expect(await storage.inner.head(key)).toBeDefined();
    }));
});
