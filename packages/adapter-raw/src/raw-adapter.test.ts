import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ModelStoreError, SourceFileError, type ModelMetadata } from '@modelstore/core';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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

  it('keeps a directory tree, relative to the directory, with an entry for every folder', async () => {
    const saved = await adapter.save(path.join(work, 'dir'));
    expect(saved.files.map((file) => [file.path, file.type ?? 'file'])).toEqual([
      ['b.txt', 'file'],
      ['sub', 'directory'],
      ['sub/a.txt', 'file'],
    ]);
  });

  it('lists empty folders, and refuses a tree that holds no file at all', async () => {
    mkdirSync(path.join(work, 'saved', 'assets'), { recursive: true });
    mkdirSync(path.join(work, 'saved', 'variables'));
    writeFileSync(path.join(work, 'saved', 'saved_model.pb'), '');
    const saved = await adapter.save(path.join(work, 'saved'));
    expect(saved.files.map((file) => [file.path, file.type ?? 'file'])).toEqual([
      ['assets', 'directory'],
      ['saved_model.pb', 'file'],
      ['variables', 'directory'],
    ]);
    mkdirSync(path.join(work, 'hollow', 'a', 'b'), { recursive: true });
    await expect(adapter.save(path.join(work, 'hollow'))).rejects.toThrow(/holds no files/);
  });

  it('stores a list of files by base name and refuses clashing names', async () => {
    const saved = await adapter.save([path.join(work, 'model.bin'), path.join(work, 'dir', 'b.txt')]);
    expect(saved.files.map((file) => file.path)).toEqual(['model.bin', 'b.txt']);
    writeFileSync(path.join(work, 'b.txt'), 'another b');
    await expect(adapter.save([path.join(work, 'b.txt'), path.join(work, 'dir', 'b.txt')])).rejects.toThrow(/Two files are named "b.txt"/);
  });

  it('stores a link that stays inside the folder as what it points to (file or folder)', async () => {
    writeFileSync(path.join(work, 'dir', 'checkpoint-500.ckpt'), 'ckpt');
    symlinkSync('checkpoint-500.ckpt', path.join(work, 'dir', 'last.ckpt'));
    symlinkSync('sub', path.join(work, 'dir', 'current'));
    const saved = await adapter.save(path.join(work, 'dir'));
    const real = realpathSync(path.join(work, 'dir'));
    expect(saved.files).toEqual([
      { path: 'b.txt', source: path.join(work, 'dir', 'b.txt'), size: 1 },
      { path: 'checkpoint-500.ckpt', source: path.join(work, 'dir', 'checkpoint-500.ckpt'), size: 4 },
      { path: 'current', source: path.join(real, 'sub'), type: 'directory' },
      { path: 'current/a.txt', source: path.join(real, 'sub', 'a.txt'), size: 1 },
      { path: 'last.ckpt', source: path.join(real, 'checkpoint-500.ckpt'), size: 4 },
      { path: 'sub', source: path.join(real, 'sub'), type: 'directory' },
      { path: 'sub/a.txt', source: path.join(work, 'dir', 'sub', 'a.txt'), size: 1 },
    ]);
  });

  it('refuses a dangling link with a SourceFileError naming it', async () => {
    symlinkSync('checkpoint-500.ckpt', path.join(work, 'dir', 'last.ckpt'));
    const error = (await adapter.save(path.join(work, 'dir')).catch((e: unknown) => e)) as SourceFileError;
    expect(SourceFileError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'SOURCE_FILE', reason: 'dangling-link', path: path.join(work, 'dir', 'last.ckpt'), retryable: false });
    expect(error.message).toContain('"checkpoint-500.ckpt", which does not exist');
  });

  it('refuses a link that leads outside the folder, even through another link', async () => {
    symlinkSync(path.join(work, 'model.bin'), path.join(work, 'dir', 'outside.bin'));
    await expect(adapter.save(path.join(work, 'dir'))).rejects.toMatchObject({ reason: 'link-outside', path: path.join(work, 'dir', 'outside.bin') });
    rmSync(path.join(work, 'dir', 'outside.bin'));
    symlinkSync('..', path.join(work, 'dir', 'sub', 'up'));
    symlinkSync('sub/up/../model.bin', path.join(work, 'dir', 'sneaky'));
    await expect(adapter.save(path.join(work, 'dir'))).rejects.toMatchObject({ reason: 'link-outside' });
  });

  it('refuses links to a folder that holds them (cycles) and loops of links', async () => {
    symlinkSync('..', path.join(work, 'dir', 'sub', 'loop'));
    await expect(adapter.save(path.join(work, 'dir'))).rejects.toMatchObject({ code: 'SOURCE_FILE', reason: 'link-cycle', path: path.join(work, 'dir', 'sub', 'loop') });
    rmSync(path.join(work, 'dir', 'sub', 'loop'));
    symlinkSync('ping', path.join(work, 'dir', 'pong'));
    symlinkSync('pong', path.join(work, 'dir', 'ping'));
    await expect(adapter.save(path.join(work, 'dir'))).rejects.toMatchObject({ code: 'SOURCE_FILE', reason: 'link-cycle' });
  });

  it('refuses a FIFO in the folder as a special file', async () => {
    execFileSync('mkfifo', [path.join(work, 'dir', 'pipe')]);
    await expect(adapter.save(path.join(work, 'dir'))).rejects.toMatchObject({ code: 'SOURCE_FILE', reason: 'special', path: path.join(work, 'dir', 'pipe') });
    await expect(adapter.save([path.join(work, 'dir', 'pipe')])).rejects.toMatchObject({ code: 'SOURCE_FILE', reason: 'special' });
  });

  it('refuses a folder it may not list (EACCES) with SourceFileError "unreadable", checked for real', async () => {
    // As root every folder is readable: save then runs with nobody's effective uid.
    const root = process.getuid?.() === 0;
    chmodSync(work, 0o755);
    chmodSync(path.join(work, 'dir'), 0o755);
    chmodSync(path.join(work, 'dir', 'sub'), root ? 0o700 : 0o000);
    if (root) process.seteuid!(65534);
    let error: unknown;
    try {
      error = await adapter.save(path.join(work, 'dir')).catch((e: unknown) => e);
    } finally {
      if (root) process.seteuid!(0);
      chmodSync(path.join(work, 'dir', 'sub'), 0o755);
    }
    expect(error).toMatchObject({ code: 'SOURCE_FILE', reason: 'unreadable', path: path.join(work, 'dir', 'sub'), retryable: false });
    expect((error as Error).message).toMatch(/permission denied/);
  });

  it('answers a model that is not a path with a typed error', async () => {
    await expect(adapter.save(42 as unknown as string)).rejects.toBeInstanceOf(ModelStoreError);
  });

  it('loads as the directory of extracted files', async () => {
    expect(await adapter.load(work, {} as ModelMetadata)).toBe(work);
  });
});
