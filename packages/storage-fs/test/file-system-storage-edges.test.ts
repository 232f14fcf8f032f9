import { describe, expect, it, beforeEach, afterEach } from '@jest/globals';
import { InvalidNameError, StorageError } from '@modelstore/core';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileSystemStorage } from '../src/index.js';

describe('FileSystemStorage edges', () => {
  let root: string;
  let storage: FileSystemStorage;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'modelstore-fs-edge-'));
    storage = new FileSystemStorage({ root });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('describes objects with absolute paths, as Python modelstore records them', () => {
    const relative = new FileSystemStorage({ root: path.relative(process.cwd(), root) });
    expect(relative.root).toBe(root);
    expect(relative.describe('operatorai-model-store/d/versions/m.json')).toEqual({
      type: 'file_system',
      root,
      path: path.join(root, 'operatorai-model-store', 'd', 'versions', 'm.json'),
    });
  });

  it('reserves the names of its temporary and lock files', async () => {
    for (const key of ['a/.b.123.modelstore-tmp', 'a.modelstore-lock/b']) {
      await expect(storage.put(key, 'x')).rejects.toBeInstanceOf(InvalidNameError);
    }
    expect(readdirSync(root)).toEqual([]);
  });

  it('hides the temporary file a crashed writer left, and the object it never published', async () => {
    mkdirSync(path.join(root, 'd'));
    writeFileSync(path.join(root, 'd', '.model.bin.0a1b2c.modelstore-tmp'), 'half a model');
    await storage.put('d/other', 'x');
    expect((await storage.list('')).objects.map((o) => o.key)).toEqual(['d/other']);
    expect(await storage.head('d/model.bin')).toBeUndefined();
  });

  it('breaks a lock whose holder died', async () => {
    await storage.put('k', 'v1');
    const lock = path.join(root, '.k.modelstore-lock');
    mkdirSync(lock);
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    const info = await storage.put('k', 'v2');
    expect(info.size).toBe(2);
    expect(readdirSync(root)).toEqual(['k']);
  });

  it('says why a key cannot be both an object and a "directory"', async () => {
    await storage.put('a/b', 'file');
    const error = await storage.put('a/b/c', 'nested').catch((e: unknown) => e);
    expect(StorageError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/cannot hold both/);
  });
});
