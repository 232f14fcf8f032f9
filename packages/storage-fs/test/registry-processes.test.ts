import { describe, expect, it, beforeEach, afterEach } from '@jest/globals';
import { ModelStore } from '@modelstore/core';
import { layout } from '@modelstore/core/internal';
import { RawAdapter } from '@modelstore/adapter-raw';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { FileSystemStorage } from '../src/index.js';

const run = promisify(execFile);
const child = path.join(__dirname, 'upload-child.mjs');

describe('ModelStore on FileSystemStorage across processes', () => {
  let work: string;
  let root: string;
  let modelFile: string;
  let store: ModelStore;
  beforeEach(() => {
    work = mkdtempSync(path.join(tmpdir(), 'modelstore-fs-processes-'));
    root = path.join(work, 'registry');
    modelFile = path.join(work, 'model.bin');
    writeFileSync(modelFile, Buffer.alloc(200_000, 3));
    store = new ModelStore({ storage: new FileSystemStorage({ root }), adapters: [new RawAdapter()], cacheDir: path.join(work, 'cache') });
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  const upload = (domain: string, modelId: string, startAt: number) =>
    run(process.execPath, [child, root, domain, modelFile, modelId, String(startAt)], { timeout: 60_000 }).then(({ stdout }) => JSON.parse(stdout) as { ok: boolean; modelId?: string; created?: string; error?: string });

  it('lists all of 8 uploads from 8 processes, and the domain points at the newest', async () => {
    const startAt = Date.now() + 1500;
    const results = await Promise.all(Array.from({ length: 8 }, () => upload('shared', '-', startAt)));
    expect(results.every((result) => result.ok)).toBe(true);
    const ids = await store.listModels('shared');
    expect([...ids].sort()).toEqual(results.map((result) => result.modelId).sort());
    const newest = [...results].sort((a, b) => Date.parse(b.created!) - Date.parse(a.created!) || (a.modelId! < b.modelId! ? 1 : -1))[0]!;
    expect((await store.getDomain('shared')).model.model_id).toBe(newest.modelId);
    expect(ids[0]).toBe(newest.modelId);
  }, 120_000);

  it('lets exactly one of 4 processes uploading one model id win, leaving no orphan archive', async () => {
    const startAt = Date.now() + 1500;
    const results = await Promise.all(Array.from({ length: 4 }, () => upload('contested', 'the-one', startAt)));
    expect(results.filter((result) => result.ok)).toHaveLength(1);
    expect(results.filter((result) => !result.ok).map((result) => result.error)).toEqual(['MODEL_EXISTS', 'MODEL_EXISTS', 'MODEL_EXISTS']);
    const storage = new FileSystemStorage({ root });
    const archives = (await storage.list(layout.domainPrefix('contested'))).objects.filter((object) => object.key.endsWith('.tar.gz'));
    expect(archives).toHaveLength(1);
    await store.download('contested', { modelId: 'the-one', to: path.join(work, 'out') });
  }, 120_000);

  it('shows nothing of an upload killed after its archive was written but before its commit', async () => {
    await store.upload('killed', { model: modelFile, modelId: 'before' });
    const domainBefore = await store.getDomain('killed');
    const process_ = spawn(process.execPath, [child, root, 'killed', modelFile, 'victim', '0', 'hang-before-commit'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      process_.stdout.on('data', (data: Buffer) => {
        if (data.toString().includes('archive-written')) resolve();
      });
      process_.on('exit', () => reject(new Error('the uploader exited before writing its archive')));
    });
    process_.kill('SIGKILL');
    await new Promise((resolve) => process_.on('exit', resolve));

    const storage = new FileSystemStorage({ root });
    const archives = (await storage.list(layout.domainPrefix('killed'))).objects.filter((object) => object.key.endsWith('.tar.gz'));
    expect(archives.map((object) => object.key).some((key) => key.includes('/victim/'))).toBe(true);
    expect(await store.listModels('killed')).toEqual(['before']);
    expect(await store.modelExists('killed', 'victim')).toBe(false);
    expect(await store.getDomain('killed')).toEqual(domainBefore);
  }, 120_000);
});
