// The local cache as users see and bound it: listCache names what each folder holds,
// pruneCache removes least recently used first and never a model a running load holds,
// ModelStore's cacheMaxBytes keeps the limit after each extraction, and a cache folder
// that cannot be written is a LocalFileError that says how to choose another.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import type { ModelAdapter } from '../adapter.js';
import { LocalFileError } from '../errors.js';
import { MemoryStorage } from '../memory-storage.js';
import { ModelStore } from '../model-store.js';
import type { GetOptions } from '../storage.js';
import { cacheFolderError, cachedModel, listCache, pruneCache } from './cache.js';

/** Counts reads of archives. */
class CountingStorage extends MemoryStorage {
  archiveReads = 0;
  override async get(key: string, options?: GetOptions) {
    if (key.endsWith('artifacts.tar.gz')) this.archiveReads++;
    return super.get(key, options);
  }
}

/** Models are byte buffers stored as model.bin; a load returns the bytes. */
const bytesAdapter: ModelAdapter<Buffer, Buffer> = {
  specificationVersion: 'v1',
  library: 'bytes',
  matches: (model) => Buffer.isBuffer(model),
  save: async (model) => ({ files: [{ path: 'model.bin', source: model }] }),
  load: async (directory) => readFileSync(path.join(directory, 'model.bin')),
};

const infoBytes = Buffer.byteLength(JSON.stringify({ library: 'bytes' }));

let work: string;
let cacheDir: string;
beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'modelstore-cache-limits-'));
  cacheDir = path.join(work, 'cache');
});
afterEach(() => {
  chmodSync(work, 0o700);
  rmSync(work, { recursive: true, force: true });
});

function store(storage: MemoryStorage, options: { cacheMaxBytes?: number; cacheDir?: string } = {}): ModelStore {
  return new ModelStore({ storage, adapters: [bytesAdapter], cacheDir: options.cacheDir ?? cacheDir, checkConditionalWrites: false, ...(options.cacheMaxBytes === undefined ? {} : { cacheMaxBytes: options.cacheMaxBytes }) });
}

/** Uploads one model per `size` into domain `d`, ids m0, m1, ... */
async function models(storage: MemoryStorage, sizes: number[]): Promise<void> {
  for (const [index, size] of sizes.entries()) await store(storage).upload('d', { model: Buffer.alloc(size, index + 1), modelId: `m${index}` });
}

const setLastUse = (directory: string, when: Date) => utimesSync(directory, when, when);

describe('listCache', () => {
  it('is empty for a cache folder that does not exist', async () => {
    expect(await listCache(path.join(work, 'none'))).toEqual([]);
  });

  it('lists each cached model with its domain, id, bytes and last use, most recently used first', async () => {
    const storage = new MemoryStorage();
    await models(storage, [1000, 3000]);
    const registry = store(storage);
    await registry.load('d', { modelId: 'm0' });
    await registry.load('d', { modelId: 'm1' });
    const entries = await listCache(cacheDir);
    expect(entries.map((entry) => entry.model?.modelId)).toEqual(['m1', 'm0']);
    expect(entries[0]).toMatchObject({ bytes: 3000 + infoBytes, inUse: false, model: { domain: 'd', modelId: 'm1', library: 'bytes', store: { type: 'memory' } } });
    expect(entries[1]!.bytes).toBe(1000 + infoBytes);
    expect(entries[0]!.lastUsed.getTime()).toBeGreaterThanOrEqual(entries[1]!.lastUsed.getTime());
    expect(readdirSync(entries[0]!.directory).sort()).toEqual(['model-info.json', 'model.bin']);

    // A load of the older one makes it the most recently used (its folder's time is set on each load).
    setLastUse(entries[0]!.directory, new Date(Date.now() - 60_000));
    setLastUse(entries[1]!.directory, new Date(Date.now() - 120_000));
    await registry.load('d', { modelId: 'm0' });
    expect((await listCache(cacheDir)).map((entry) => entry.model?.modelId)).toEqual(['m0', 'm1']);
  });

  it('marks a model in use while a load holds it, and not after it is released', async () => {
    const storage = new MemoryStorage();
    await models(storage, [100]);
    const held = await cachedModel(storage, cacheDir, 'd', {});
    expect((await listCache(cacheDir))[0]!.inUse).toBe(true);
    await held.release();
    expect((await listCache(cacheDir))[0]!.inUse).toBe(false);
  });

  it('is a LocalFileError when the cache folder is a file, and InvalidOptionError for no folder', async () => {
    writeFileSync(path.join(work, 'file'), 'x');
    await expect(listCache(path.join(work, 'file'))).rejects.toMatchObject({ code: 'LOCAL_FILE', errno: 'ENOTDIR' });
    await expect(listCache('')).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'cacheDir' });
  });
});

describe('pruneCache', () => {
  async function cacheOf(sizes: number[]): Promise<{ storage: CountingStorage; directories: string[] }> {
    const storage = new CountingStorage();
    await models(storage, sizes);
    const registry = store(storage);
    const directories: string[] = [];
    for (const index of sizes.keys()) {
      await registry.load('d', { modelId: `m${index}` });
      directories.push((await listCache(cacheDir)).find((entry) => entry.model?.modelId === `m${index}`)!.directory);
    }
    // m0 used longest ago, then m1, ...
    directories.forEach((directory, index) => setLastUse(directory, new Date(Date.now() - (sizes.length - index) * 3_600_000)));
    return { storage, directories };
  }

  it('removes the models unused for longer than olderThan, and keeps the rest', async () => {
    const { directories } = await cacheOf([100, 100, 100]);
    const report = await pruneCache(cacheDir, { olderThan: 2.5 * 3_600_000 });
    expect(report.removed.map((entry) => entry.model?.modelId)).toEqual(['m0']);
    expect(existsSync(directories[0]!)).toBe(false);
    expect(existsSync(directories[1]!)).toBe(true);
    expect(report.bytes).toBe(2 * (100 + infoBytes));
    expect((await listCache(cacheDir)).map((entry) => entry.model?.modelId)).toEqual(['m2', 'm1']);
  });

  it('removes least recently used first until the cache fits maxBytes; the next load of a removed model extracts it again', async () => {
    const { storage } = await cacheOf([1000, 1000, 1000]);
    const limit = 2 * (1000 + infoBytes);
    const report = await pruneCache(cacheDir, { maxBytes: limit });
    expect(report.removed.map((entry) => entry.model?.modelId)).toEqual(['m0']);
    expect(report.bytes).toBe(limit);
    // Records of the removed model are gone too; loading it again reads its archive again.
    expect(readdirSync(path.join(cacheDir, 'entries')).length).toBe(2);
    const reads = storage.archiveReads;
    expect((await store(storage).load<Buffer>('d', { modelId: 'm0' })).equals(Buffer.alloc(1000, 1))).toBe(true);
    expect(storage.archiveReads).toBe(reads + 1);
    // maxBytes 0 empties the cache.
    expect((await pruneCache(cacheDir, { maxBytes: 0 })).bytes).toBe(0);
    expect(await listCache(cacheDir)).toEqual([]);
  });

  it('never removes a model a running load holds: it is reported in inUse and the cache stays above the limit', async () => {
    const storage = new MemoryStorage();
    await models(storage, [500, 500]);
    const first = await cachedModel(storage, cacheDir, 'd', { modelId: 'm0' });
    const second = await cachedModel(storage, cacheDir, 'd', { modelId: 'm1' });
    await second.release();
    setLastUse(first.directory, new Date(Date.now() - 3_600_000));
    const report = await pruneCache(cacheDir, { maxBytes: 0 });
    expect(report.inUse.map((entry) => entry.model?.modelId)).toEqual(['m0']);
    expect(report.removed.map((entry) => entry.model?.modelId)).toEqual(['m1']);
    expect(readFileSync(path.join(first.directory, 'model.bin'))).toEqual(Buffer.alloc(500, 1));
    expect(report.bytes).toBe(500 + infoBytes);
    await first.release();
    expect((await pruneCache(cacheDir, { maxBytes: 0 })).removed.map((entry) => entry.model?.modelId)).toEqual(['m0']);
  });

  it('treats the lease of a dead process as gone, and removes it with the staging folders killed loads left', async () => {
    const storage = new MemoryStorage();
    await models(storage, [100]);
    const { directory, release } = await cachedModel(storage, cacheDir, 'd', {});
    await release();
    const host = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
    const deadLease = path.join(cacheDir, 'in-use', `${path.basename(directory)}.${host}-4194305-abcdef012345`);
    writeFileSync(deadLease, '');
    const deadStaging = path.join(cacheDir, 'models', `.x.modelstore-staging-${host}-4194305-abcdef012345`);
    mkdirSync(deadStaging);
    expect((await listCache(cacheDir))[0]!.inUse).toBe(false);
    const report = await pruneCache(cacheDir, { maxBytes: 1 << 30 });
    expect(report.removed).toEqual([]);
    expect(report.leftovers.sort()).toEqual([deadLease, deadStaging].sort());
  });

  it('with dryRun reports what it would remove and removes nothing', async () => {
    const { directories } = await cacheOf([100, 100]);
    const report = await pruneCache(cacheDir, { maxBytes: 0, dryRun: true });
    expect(report.removed.map((entry) => entry.model?.modelId)).toEqual(['m0', 'm1']);
    for (const directory of directories) expect(existsSync(directory)).toBe(true);
  });

  it('refuses no limit, a negative limit or a limit that is not a number, before touching the cache', async () => {
    await expect(pruneCache(cacheDir)).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining('maxBytes: 0 removes every model not in use') });
    await expect(pruneCache(cacheDir, { maxBytes: -1 })).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'maxBytes' });
    await expect(pruneCache(cacheDir, { olderThan: Number.NaN })).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'olderThan' });
    await expect(pruneCache(cacheDir, { olderThan: '1h' as never })).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'olderThan' });
    expect(existsSync(cacheDir)).toBe(false);
  });
});

describe('ModelStore cacheMaxBytes', () => {
  it('after each extraction removes the least recently used models until the cache fits, keeping the one just loaded', async () => {
    const storage = new MemoryStorage();
    await models(storage, [1000, 1000, 5000]);
    const limit = 2 * (1000 + infoBytes);
    const registry = store(storage, { cacheMaxBytes: limit });
    await registry.load('d', { modelId: 'm0' });
    await registry.load('d', { modelId: 'm1' });
    expect((await listCache(cacheDir)).map((entry) => entry.model?.modelId)).toEqual(['m1', 'm0']);
    // m0 becomes the most recently used; m1 is the one to go.
    const [m1, m0] = await listCache(cacheDir);
    setLastUse(m1!.directory, new Date(Date.now() - 120_000));
    setLastUse(m0!.directory, new Date(Date.now() - 60_000));
    await registry.load('d', { modelId: 'm0' });
    // m2 alone is over the limit: it is kept (it was just loaded), everything else goes.
    expect((await registry.load<Buffer>('d', { modelId: 'm2' })).length).toBe(5000);
    expect((await listCache(cacheDir)).map((entry) => entry.model?.modelId)).toEqual(['m2']);
  });

  it('refuses a negative or non-numeric cacheMaxBytes', () => {
    expect(() => store(new MemoryStorage(), { cacheMaxBytes: -5 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'cacheMaxBytes' }));
    expect(() => store(new MemoryStorage(), { cacheMaxBytes: '1GB' as never })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'cacheMaxBytes' }));
  });
});

describe('load with a cache folder it cannot write', () => {
  const hint = /cacheDir option.*XDG_CACHE_HOME.*--cache-dir/s;

  it('under a file (ENOTDIR): LocalFileError naming the folder and the three ways to choose another', async () => {
    const storage = new MemoryStorage();
    await models(storage, [100]);
    writeFileSync(path.join(work, 'home-is-a-file'), 'x');
    const folder = path.join(work, 'home-is-a-file', '.cache', 'modelstore');
    const error = await store(storage, { cacheDir: folder })
      .load('d')
      .catch((e: unknown) => e);
    expect(LocalFileError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'LOCAL_FILE', errno: 'ENOTDIR', path: folder });
    expect((error as Error).message).toMatch(hint);
    expect((error as Error).message).toContain(JSON.stringify(folder));
  });

  // As root every folder is writable: the load then runs with nobody's effective uid (glibc
  // applies seteuid to every thread, libuv's too). Otherwise the folder is closed to its owner.
  it('without write permission (EACCES), checked for real', async () => {
    const storage = new MemoryStorage();
    await models(storage, [100]);
    const root = process.getuid?.() === 0;
    const home = path.join(work, 'home');
    mkdirSync(home);
    chmodSync(work, 0o755);
    chmodSync(home, 0o555);
    const folder = path.join(home, '.cache', 'modelstore');
    const registry = store(storage, { cacheDir: folder });
    if (root) process.seteuid!(65534);
    let error: unknown;
    try {
      error = await registry.load('d').catch((e: unknown) => e);
    } finally {
      if (root) process.seteuid!(0);
    }
    expect(error).toMatchObject({ code: 'LOCAL_FILE', errno: 'EACCES', path: folder });
    expect((error as Error).message).toMatch(/permission denied/);
    expect((error as Error).message).toMatch(hint);
  });

  it('maps a full disk to freeing space or another disk, and passes other errors through (the mapping itself)', () => {
    const full = cacheFolderError(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }), '/c');
    expect(full).toMatchObject({ code: 'LOCAL_FILE', errno: 'ENOSPC', path: '/c' });
    expect((full as Error).message).toMatch(/Free space \(modelstore cache prune, or pruneCache\), or choose a folder on another disk: the cacheDir option/);
    const io = Object.assign(new Error('EIO'), { code: 'EIO' });
    expect(cacheFolderError(io, '/c')).toBe(io);
  });
});
