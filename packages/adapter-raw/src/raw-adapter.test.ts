import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ModelStoreError, type ModelMetadata } from '@modelstore/core';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RawAdapter } from './raw-adapter.js';

describe('RawAdapter', () => {
  let work: string;
  const adapter = new RawAdapter();
  beforeEach(() => {
    work = mkdtempSync(path.join(tmpdir(), 'modelstore-raw-'));
    writeFileSync(path.join(work, 'model.bin'), 'weights');
    mkdirSync(path.join(work, 'dir', 'sub'), { recursive: true });
    writeFileSync(path.join(work, 'dir', 'b.txt'), 'b');
    writeFileSync(path.join(work, 'dir', 'sub', 'a.txt'), 'a');
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('is the model_file library, as Python modelstore names it', () => {
    expect(adapter.library).toBe('model_file');
  });

  it('matches existing paths and lists of existing paths only', () => {
    expect(adapter.matches(path.join(work, 'model.bin'))).toBe(true);
    expect(adapter.matches(path.join(work, 'dir'))).toBe(true);
    expect(adapter.matches([path.join(work, 'model.bin'), path.join(work, 'dir', 'b.txt')])).toBe(true);
    expect(adapter.matches(path.join(work, 'missing'))).toBe(false);
    expect(adapter.matches([path.join(work, 'model.bin'), path.join(work, 'missing')])).toBe(false);
    expect(adapter.matches([])).toBe(false);
    expect(adapter.matches({ weights: [] })).toBe(false);
  });

  it('stores a file at the top of the archive', async () => {
    const saved = await adapter.save(path.join(work, 'model.bin'));
    expect(saved.files).toEqual([{ path: 'model.bin', source: path.join(work, 'model.bin') }]);
  });

  it('keeps a directory tree, relative to the directory', async () => {
    const saved = await adapter.save(path.join(work, 'dir'));
    expect(saved.files.map((file) => file.path)).toEqual(['b.txt', 'sub/a.txt']);
  });

  it('stores a list of files by base name and refuses clashing names', async () => {
    const saved = await adapter.save([path.join(work, 'model.bin'), path.join(work, 'dir', 'b.txt')]);
    expect(saved.files.map((file) => file.path)).toEqual(['model.bin', 'b.txt']);
    writeFileSync(path.join(work, 'b.txt'), 'another b');
    await expect(adapter.save([path.join(work, 'b.txt'), path.join(work, 'dir', 'b.txt')])).rejects.toThrow(/Two files are named "b.txt"/);
  });

  it('refuses links to directories, which could loop', async () => {
    symlinkSync(path.join(work, 'dir'), path.join(work, 'dir', 'sub', 'loop'));
    await expect(adapter.save(path.join(work, 'dir'))).rejects.toBeInstanceOf(ModelStoreError);
  });

  it('loads as the directory of extracted files', async () => {
    expect(await adapter.load(work, {} as ModelMetadata)).toBe(work);
  });
});
