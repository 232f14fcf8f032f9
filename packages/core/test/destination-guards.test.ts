// download refuses destinations whose replacement would destroy something other than a
// previous download: an empty path, the current folder or one holding it, the root of
// the file system, and the registry's own folder (inside it, or holding it).
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ModelStore, type ModelAdapter, type Storage } from '../src/index.js';
import { bytesAdapter } from './bytes-adapter.js';

let work: string;
let cwd: string;

beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'modelstore-destination-guards-'));
  cwd = process.cwd();
});

afterEach(() => {
  process.chdir(cwd);
  rmSync(work, { recursive: true, force: true });
});

async function fileSystemStore(root: string): Promise<ModelStore> {
  // The file-system backend lives in another package; core's tests describe a folder store the same way.
  const { MemoryStorage } = await import('../src/index.js');
  const memory = new MemoryStorage();
  const storage = Object.assign(Object.create(memory) as Storage, { describe: (key: string) => ({ type: 'file_system', root, path: path.join(root, key) }) });
  return new ModelStore({ storage, adapters: [bytesAdapter], cacheDir: path.join(work, 'cache') });
}

describe('download destinations that must not be replaced', () => {
  it('refuses an empty path and the root, before reading anything', async () => {
    const store = await fileSystemStore(path.join(work, 'registry'));
    await store.upload('d', { model: Buffer.from('weights'), modelId: 'm' });
    for (const to of ['', '   ']) await expect(store.download('d', { to, overwrite: true })).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'to' });
    await expect(store.download('d', { to: '/', overwrite: true })).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringMatching(/root of the file system/) });
  });

  it('refuses, with overwrite, the current folder and its parents, and leaves them as they were', async () => {
    const store = await fileSystemStore(path.join(work, 'registry'));
    await store.upload('d', { model: Buffer.from('weights'), modelId: 'm' });
    const here = path.join(work, 'project', 'here');
    mkdirSync(here, { recursive: true });
    writeFileSync(path.join(here, 'p.txt'), 'keep me');
    process.chdir(here);
    for (const to of ['.', '..', here]) {
      await expect(store.download('d', { to, overwrite: true })).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringMatching(/current folder/) });
    }
    expect(readFileSync(path.join(here, 'p.txt'), 'utf8')).toBe('keep me');
    // Into a folder of its own it works.
    await store.download('d', { to: 'model', overwrite: true });
    expect(readdirSync(path.join(here, 'model')).sort()).toEqual(['model-info.json', 'model.bin']);
  });

  it("refuses the registry's own folder, a folder inside it, and a folder holding it", async () => {
    const registry = path.join(work, 'outer', 'registry');
    const store = await fileSystemStore(registry);
    await store.upload('d', { model: Buffer.from('weights'), modelId: 'm' });
    for (const to of [registry, path.join(registry, 'operatorai-model-store', 'd', 'versions'), path.join(work, 'outer')]) {
      await expect(store.download('d', { to, overwrite: true })).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringMatching(/the registry's own folder/) });
    }
  });
});

describe('an existing folder as the destination', () => {
  it('is filled in place: same inode and mode, and a shell standing in it keeps its folder', async () => {
    const store = await fileSystemStore(path.join(work, 'registry'));
    await store.upload('d', { model: Buffer.from('weights'), modelId: 'm' });
    const folder = path.join(work, 'serving');
    mkdirSync(folder);
    chmodSync(folder, 0o2770);
    const before = statSync(folder);
    process.chdir(folder);
    await store.download('d', { to: '.' });
    const after = statSync(folder);
    expect(after.ino).toBe(before.ino);
    expect(after.mode & 0o7777).toBe(0o2770);
    expect(readdirSync(process.cwd()).sort()).toEqual(['model-info.json', 'model.bin']);
    // Replaced with overwrite (from elsewhere: the current folder is never overwritten), still in place.
    process.chdir(work);
    await store.download('d', { to: folder, overwrite: true });
    expect(statSync(folder).ino).toBe(before.ino);
    expect(readdirSync(folder).sort()).toEqual(['model-info.json', 'model.bin']);
  });
});

describe('a model folder that holds the store', () => {
  it('is refused before anything is written (it would pack the registry into the model)', async () => {
    const project = path.join(work, 'project');
    mkdirSync(project);
    writeFileSync(path.join(project, 'weights.bin'), 'w');
    const root = path.join(project, 'models');
    const store = await fileSystemStore(root);
    const folderAdapter: ModelAdapter<string, string> = {
      specificationVersion: 'v1',
      library: 'folder',
      matches: (model) => typeof model === 'string',
      save: async (model) => ({
        files: [
          { path: 'weights.bin', source: path.join(model, 'weights.bin') },
          { path: 'models/x', source: path.join(model, 'models', 'x') },
        ],
      }),
      load: async (directory) => directory,
    };
    const withFolders = new ModelStore({ storage: store.storage, adapters: [folderAdapter], cacheDir: path.join(work, 'cache') });
    const error = await withFolders.upload('d', { model: project }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/holds the registry's own folder/) });
    expect((await store.storage.list('')).objects.filter((object) => !object.key.includes('.modelstore-probe'))).toEqual([]);
  });
});
