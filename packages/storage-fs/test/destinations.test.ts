// Download and load targets as they exist in deployments: a file where the folder
// should be, a symlink to a folder, a mount point that cannot be replaced (a Kubernetes
// emptyDir volume, made here with `unshare -rm` and a tmpfs), a full disk, and the
// staging folders that a download or load killed with SIGKILL leaves behind.
import { ModelStore, ModelStoreError } from '@modelstore/core';
import { RawAdapter } from '@modelstore/adapter-raw';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileSystemStorage } from '../src/index.js';

let work: string;
let registry: string;
let store: ModelStore;
const child = path.join(__dirname, 'destination-child.mjs');

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'modelstore-destinations-'));
  registry = path.join(work, 'registry');
  store = new ModelStore({ storage: new FileSystemStorage({ root: registry }), adapters: [new RawAdapter()], cacheDir: path.join(work, 'cache'), compressionLevel: 0 });
  const small = path.join(work, 'small');
  mkdirSync(small);
  writeFileSync(path.join(small, 'model.bin'), 'weights');
  writeFileSync(path.join(small, 'config.json'), '{}');
  await store.upload('small', { model: small });
  // 48 MiB that does not compress: bigger than the 4 MiB volume below, and slow enough to kill mid-way.
  const big = path.join(work, 'big.bin');
  writeFileSync(big, randomBytes(48 * 1024 * 1024));
  await store.upload('big', { model: big });
  rmSync(big);
}, 120_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

const tree = (directory: string) => Object.fromEntries(readdirSync(directory).map((name) => [name, readFileSync(path.join(directory, name), 'utf8')]));
const smallTree = { 'config.json': '{}', 'model-info.json': '{"library":"model_file"}', 'model.bin': 'weights' };
const fresh = (name: string) => mkdtempSync(path.join(work, `${name}-`));

describe('download destinations', () => {
  it('refuses a file where the folder should be, and leaves it as it was', async () => {
    const folder = fresh('file');
    const file = path.join(folder, 'models');
    writeFileSync(file, 'not a folder');
    for (const overwrite of [false, true]) {
      const error = await store.download('small', { to: file, overwrite }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'DESTINATION_EXISTS', path: file });
      expect((error as Error).message).toMatch(/is a file/);
    }
    expect(readFileSync(file, 'utf8')).toBe('not a folder');
    expect(readdirSync(folder)).toEqual(['models']);
  });

  it('follows a symlink to a folder: the model goes into the folder it points to, and the link stays', async () => {
    const folder = fresh('link');
    const real = path.join(folder, 'volume');
    mkdirSync(real);
    const link = path.join(folder, 'models');
    symlinkSync(real, link);
    await store.download('small', { to: link });
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(tree(real)).toEqual(smallTree);

    await expect(store.download('small', { to: link })).rejects.toMatchObject({ code: 'DESTINATION_EXISTS' });
    writeFileSync(path.join(real, 'stale.txt'), 'old');
    await store.download('small', { to: link, overwrite: true });
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(tree(real)).toEqual(smallTree);
    expect(readdirSync(folder).sort()).toEqual(['models', 'volume']);
  });

  it('refuses a dangling symlink, or one to a file', async () => {
    const folder = fresh('dangling');
    const dangling = path.join(folder, 'dangling');
    symlinkSync(path.join(folder, 'nowhere'), dangling);
    await expect(store.download('small', { to: dangling })).rejects.toMatchObject({ code: 'DESTINATION_EXISTS', message: expect.stringMatching(/dangles/) });
    const file = path.join(folder, 'file');
    writeFileSync(file, 'x');
    const toFile = path.join(folder, 'to-file');
    symlinkSync(file, toFile);
    await expect(store.download('small', { to: toFile, overwrite: true })).rejects.toMatchObject({ code: 'DESTINATION_EXISTS' });
    expect(readFileSync(file, 'utf8')).toBe('x');
    expect(readdirSync(folder).sort()).toEqual(['dangling', 'file', 'to-file']);
  });

  it('fills an empty mount point in place once verified, replaces its contents with overwrite, and reports a full disk as LocalFileError leaving the old model', async () => {
    const mountPoint = path.join(fresh('mount'), 'models');
    mkdirSync(mountPoint);
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        'unshare',
        ['-rm', 'sh', '-c', 'mount -t tmpfs -o size=4m modelstore-test "$1" && exec "$2" "$3" "$4" "$5" mount "$1"', 'sh', mountPoint, process.execPath, child, registry, path.join(work, 'child-cache')],
        (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(out.mountedDevice).toBe(true);
    expect(out.first).toBe('ok');
    expect(out.afterFirst).toEqual(Object.keys(smallTree));
    expect(out.bytes).toBe('weights');
    expect(out.refused).toMatchObject({ code: 'DESTINATION_EXISTS' });
    expect(out.second).toBe('ok');
    expect(out.afterSecond).toEqual(Object.keys(smallTree));
    expect(out.full).toMatchObject({ code: 'LOCAL_FILE', errno: 'ENOSPC', typed: true });
    // The model that was there is untouched, and no staging folder is left.
    expect(out.afterFull).toEqual(Object.keys(smallTree));
  }, 60_000);
});

/** Starts the child on `command`, SIGKILLs it once `ready()` holds, and returns when it is gone. */
async function killMidway(command: 'download' | 'load', to: string, cacheDir: string, ready: () => boolean): Promise<void> {
  const process_ = spawn(process.execPath, [child, registry, cacheDir, command, to], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  process_.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  const exited = new Promise((resolve) => process_.on('exit', resolve));
  const deadline = Date.now() + 30_000;
  while (!ready()) {
    if (Date.now() > deadline || process_.exitCode !== null) throw new Error(`the ${command} ended before it could be killed mid-way: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  process_.kill('SIGKILL');
  await exited;
}

const staged = (folder: string) => readdirSync(folder).filter((name) => name.includes('.modelstore-staging-'));

describe('leftovers of killed downloads and loads', () => {
  it('a download killed with SIGKILL leaves its staging folder, which the next download into the same place removes', async () => {
    const folder = fresh('killed');
    const to = path.join(folder, 'models');
    await killMidway('download', to, path.join(work, 'kill-cache'), () => staged(folder).length > 0);
    expect(staged(folder)).toHaveLength(1);
    expect(existsSync(to)).toBe(false);
    await store.download('small', { to });
    expect(staged(folder)).toEqual([]);
    expect(tree(to)).toEqual(smallTree);
  }, 60_000);

  it("a live download's staging folder is never removed by another download into the same place", async () => {
    const folder = fresh('live');
    const to = path.join(folder, 'models');
    const running = spawn(process.execPath, [child, registry, path.join(work, 'live-cache'), 'download', to], { stdio: ['ignore', 'pipe', 'pipe'] });
    const finished = new Promise<number | null>((resolve) => running.on('exit', resolve));
    while (staged(folder).length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const theirs = staged(folder)[0]!;
    // Meanwhile this process downloads a small model to the same place: it must not touch
    // the live download's staging folder, and it lands first.
    await store.download('small', { to });
    expect(staged(folder)).toEqual([theirs]);
    expect(tree(to)).toEqual(smallTree);
    // The other download then finds the destination filled, refuses to replace it, and cleans up after itself.
    expect(await finished).not.toBe(0);
    expect(tree(to)).toEqual(smallTree);
    expect(staged(folder)).toEqual([]);
  }, 60_000);

  it('a load killed with SIGKILL leaves its staging folder in the cache: the next load removes it, and so does cleanCache()', async () => {
    const cacheDir = path.join(work, 'load-cache');
    const models = path.join(cacheDir, 'models');
    await killMidway('load', '-', cacheDir, () => existsSync(models) && staged(models).length > 0);
    expect(staged(models)).toHaveLength(1);
    const loader = new ModelStore({ storage: new FileSystemStorage({ root: registry }), adapters: [new RawAdapter()], cacheDir });
    // cleanCache() (modelstore gc --local) removes the dead process's folder and keeps the rest.
    const cleaned = await loader.cleanCache();
    expect(cleaned.removed).toHaveLength(1);
    expect(staged(models)).toEqual([]);
    await killMidway('load', '-', cacheDir, () => staged(models).length > 0);
    const loaded = (await loader.load<string>('big')) as unknown;
    expect(typeof loaded).toBe('string');
    expect(staged(models)).toEqual([]);
    expect(
      ModelStoreError.isInstance(
        await loader.cleanCache().then(
          () => undefined,
          (error: unknown) => error,
        ),
      ),
    ).toBe(false);
  }, 60_000);
});
