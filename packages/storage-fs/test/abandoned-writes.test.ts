// A process killed while writing leaves its temporary file, which listings never show;
// collectGarbage removes it once it is older than the grace period (the backend's
// removeAbandonedWrites), and never the file of a write still in progress.
import { ModelStore } from '@modelstore/core';
import { RawAdapter } from '@modelstore/adapter-raw';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileSystemStorage } from '../src/index.js';

let root: string;

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'modelstore-abandoned-'));
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const temporaries = (folder: string): string[] =>
  readdirSync(folder, { recursive: true })
    .map(String)
    .filter((name) => name.endsWith('.modelstore-tmp'));

describe('writes that never finished', () => {
  it('collectGarbage removes the temporary file a killed writer left, once older than the grace period', async () => {
    // A writer killed in the middle of a 64 MiB archive.
    const script = `
      import { FileSystemStorage } from '@modelstore/storage-fs';
      const storage = new FileSystemStorage({ root: ${JSON.stringify(root)} });
      async function* body() { for (;;) { yield Buffer.alloc(1 << 20, 7); await new Promise((r) => setTimeout(r, 5)); } }
      await storage.put('operatorai-model-store/d/2026.01.01-00.00.00/killed/artifacts.tar.gz', body());
    `;
    const writer = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: __dirname, stdio: 'ignore' });
    const exited = new Promise((resolve) => writer.on('exit', resolve));
    const deadline = Date.now() + 20_000;
    while (temporaries(root).length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    writer.kill('SIGKILL');
    await exited;
    const [left] = temporaries(root);
    expect(left).toBeDefined();

    const storage = new FileSystemStorage({ root });
    const store = new ModelStore({ storage, adapters: [new RawAdapter()], cacheDir: path.join(root, '..', `${path.basename(root)}-cache`) });
    // Within the grace period it stays (it could be a write still in progress).
    expect((await store.collectGarbage({ olderThan: 60 * 60 * 1000 })).removed).toEqual([]);
    expect(existsSync(path.join(root, left!))).toBe(true);
    // Older than the grace period: a dry run names it, a real run removes it.
    const hourAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    utimesSync(path.join(root, left!), hourAgo, hourAgo);
    const dry = await store.collectGarbage({ olderThan: 60 * 60 * 1000, dryRun: true });
    expect(dry.removed.map((object) => object.key)).toEqual([left!.split(path.sep).join('/')]);
    expect(existsSync(path.join(root, left!))).toBe(true);
    const real = await store.collectGarbage({ olderThan: 60 * 60 * 1000 });
    expect(real.removed.map((object) => object.key)).toEqual([left!.split(path.sep).join('/')]);
    expect(temporaries(root)).toEqual([]);
  }, 60_000);
});
