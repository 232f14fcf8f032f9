// Progress as users see it: upload reports the model's own bytes (before compression)
// against their total, download and load the archive's bytes against its size, and a
// load served from the cache reports nothing.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ModelAdapter } from './adapter.js';
import { MemoryStorage } from './memory-storage.js';
import { ModelStore } from './model-store.js';
import type { TransferProgress } from './upload.js';

/** An adapter of files on disk: the model is a list of paths, loaded back as the first file's text. */
const filesAdapter: ModelAdapter<string[], string> = {
  specificationVersion: 'v1',
  library: 'files',
  matches: (model) => Array.isArray(model),
  save: async (files) => ({ files: files.map((file) => ({ path: path.basename(file), source: file })) }),
  load: async (directory) => readFileSync(path.join(directory, 'a.txt'), 'utf8'),
};

let work: string;
beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'modelstore-progress-'));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

function store(storage = new MemoryStorage()): ModelStore {
  return new ModelStore({ storage, adapters: [filesAdapter], cacheDir: path.join(work, 'cache'), checkConditionalWrites: false });
}

describe('upload progress', () => {
  it('counts source bytes against the files’ total, reaching 100% for data that compresses 1000 to 1', async () => {
    const a = path.join(work, 'a.txt');
    const b = path.join(work, 'b.txt');
    writeFileSync(a, 'x'.repeat(6 << 20));
    writeFileSync(b, 'hello');
    const extra = path.join(work, 'notes.md');
    writeFileSync(extra, 'notes');
    const events: TransferProgress[] = [];
    const metadata = await store().upload('d', { model: [a, b], extraFiles: [extra], onProgress: (event) => events.push(event) });
    const modelInfo = Buffer.byteLength(JSON.stringify({ library: 'files' }));
    const total = (6 << 20) + 5 + 5 + modelInfo;
    expect(events[0]).toEqual({ phase: 'packing', bytes: 0, totalBytes: total });
    expect(events.at(-1)).toEqual({ phase: 'committing', bytes: total, totalBytes: total });
    const uploading = events.filter((event) => event.phase === 'uploading');
    expect(uploading.length).toBeGreaterThan(3);
    expect(uploading.at(-1)).toEqual({ phase: 'uploading', bytes: total, totalBytes: total });
    for (let i = 1; i < events.length; i++) expect(events[i]!.bytes).toBeGreaterThanOrEqual(events[i - 1]!.bytes);
    // The archive is far smaller than what was reported: the old bar stopped near 0%.
    expect(metadata.archive!.size).toBeLessThan(total / 100);
    expect(Object.values(metadata.archive!.files).reduce((sum, file) => sum + file.size, 0)).toBe(total);
  });
});

describe('download and load progress', () => {
  it('reports archive bytes against the archive size; a cache hit reports nothing', async () => {
    const a = path.join(work, 'a.txt');
    writeFileSync(a, 'weights '.repeat(100_000));
    const models = store();
    const metadata = await models.upload('d', { model: [a] });
    const size = metadata.archive!.size;

    const downloaded: TransferProgress[] = [];
    await models.download('d', { to: path.join(work, 'out'), onProgress: (event) => downloaded.push(event) });
    expect(downloaded[0]).toEqual({ phase: 'downloading', bytes: 0, totalBytes: size });
    expect(downloaded.at(-1)).toEqual({ phase: 'downloading', bytes: size, totalBytes: size });

    const loaded: TransferProgress[] = [];
    expect(await models.load('d', { onProgress: (event) => loaded.push(event) })).toBe('weights '.repeat(100_000));
    expect(loaded.at(-1)).toEqual({ phase: 'downloading', bytes: size, totalBytes: size });
    const again: TransferProgress[] = [];
    await models.load('d', { onProgress: (event) => again.push(event) });
    expect(again).toEqual([]);
  });

  it('takes the total from the stored object when the metadata records no archive size (Python-written)', async () => {
    const a = path.join(work, 'a.txt');
    writeFileSync(a, 'python');
    const storage = new MemoryStorage();
    const models = store(storage);
    const metadata = await models.upload('d', { model: [a] });
    const { archive, ...withoutArchive } = metadata;
    const key = `operatorai-model-store/d/versions/${metadata.model.model_id}.json`;
    await storage.put(key, JSON.stringify(withoutArchive));
    const events: TransferProgress[] = [];
    await models.download('d', { modelId: metadata.model.model_id, to: path.join(work, 'py'), onProgress: (event) => events.push(event) });
    expect(events.at(-1)).toEqual({ phase: 'downloading', bytes: archive!.size, totalBytes: archive!.size });
  });

  it('refuses an onProgress that is not a function on load, before any I/O', async () => {
    await expect(store().load('d', { onProgress: 5 as never })).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'onProgress' });
  });
});
