// `modelstore cache ls` and `modelstore cache prune`, run as child processes: what the
// load cache holds, bounded least recently used first, never removing a model that a
// running load (another process) holds; usage errors exit 2 before the cache is touched.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { RawAdapter } from '@modelstore/adapter-raw';
import { ModelStore } from '@modelstore/core';
import { FileSystemStorage } from '@modelstore/storage-fs';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { modelstore } from './helpers.js';

let work: string;
let registry: string;
let cacheDir: string;
beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'modelstore-cli-cache-'));
  registry = path.join(work, 'registry');
  cacheDir = path.join(work, 'cache');
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

const infoBytes = Buffer.byteLength(JSON.stringify({ library: 'model_file' }));

/** Uploads models with the CLI (one file of `size` bytes each, ids m0, m1, ...) and loads each through the API into `cacheDir`, m0 used longest ago. */
async function cachedModels(sizes: number[], domain = 'churn'): Promise<string[]> {
  const store = new ModelStore({ storage: new FileSystemStorage({ root: registry }), adapters: [new RawAdapter()], cacheDir });
  const directories: string[] = [];
  for (const [index, size] of sizes.entries()) {
    const file = path.join(work, `model-${index}.bin`);
    writeFileSync(file, Buffer.alloc(size, index + 1));
    const uploaded = await modelstore(['--store', './registry', 'upload', domain, file, '--id', `m${index}`], { cwd: work });
    expect(uploaded.code).toBe(0);
    directories.push(await store.load<string>(domain, { modelId: `m${index}` }));
  }
  directories.forEach((directory, index) => {
    const when = new Date(Date.now() - (sizes.length - index) * 3_600_000);
    utimesSync(directory, when, when);
  });
  return directories;
}

const cli = (args: string[], env: Record<string, string> = {}) => modelstore(args, { cwd: work, env });

describe('modelstore cache ls', () => {
  it('lists the cached models, most recently used first, with domain, id, size, last use and store', async () => {
    const directories = await cachedModels([1000, 3000]);
    const listed = await cli(['--cache-dir', cacheDir, 'cache', 'ls']);
    expect(listed.code).toBe(0);
    expect(listed.stderr).toBe('');
    const lines = listed.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^DOMAIN\s+MODEL ID\s+SIZE\s+LAST USED\s+IN USE\s+STORE$/);
    expect(lines[1]).toMatch(new RegExp(`^churn\\s+m1\\s+${((3000 + infoBytes) / 1024).toFixed(1)} KiB\\s+\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\s+file_system ${registry}$`));
    expect(lines[2]).toMatch(/^churn\s+m0\s+/);
    expect(lines[3]).toBe(`2 model(s), ${((4000 + 2 * infoBytes) / 1024).toFixed(1)} KiB in ${cacheDir}`);

    const json = JSON.parse((await cli(['--cache-dir', cacheDir, '--json', 'cache', 'ls'])).stdout);
    expect(json).toMatchObject({ cacheDir, totalBytes: 4000 + 2 * infoBytes });
    expect(json.models).toEqual([
      expect.objectContaining({ domain: 'churn', modelId: 'm1', library: 'model_file', bytes: 3000 + infoBytes, inUse: false, directory: directories[1], store: expect.objectContaining({ type: 'file_system' }) }),
      expect.objectContaining({ domain: 'churn', modelId: 'm0', bytes: 1000 + infoBytes, inUse: false, directory: directories[0] }),
    ]);
    expect(Date.parse(json.models[1].lastUsed)).toBeLessThan(Date.parse(json.models[0].lastUsed));
  });

  it('says a cache folder that does not exist holds nothing (exit 0), and reads $XDG_CACHE_HOME/modelstore without --cache-dir', async () => {
    const none = path.join(work, 'none');
    const empty = await cli(['--cache-dir', none, 'cache', 'ls']);
    expect(empty).toMatchObject({ code: 0, stdout: `no cached models in ${none}\n` });
    expect(JSON.parse((await cli(['--cache-dir', none, '--json', 'cache', 'ls'])).stdout)).toEqual({ cacheDir: none, totalBytes: 0, models: [] });

    cacheDir = path.join(work, 'xdg', 'modelstore');
    await cachedModels([10]);
    const listed = JSON.parse((await cli(['--json', 'cache', 'ls'], { XDG_CACHE_HOME: path.join(work, 'xdg') })).stdout);
    expect(listed.cacheDir).toBe(cacheDir);
    expect(listed.models.map((model: { modelId: string }) => model.modelId)).toEqual(['m0']);
  });

  it('is exit 1 with the folder named when --cache-dir is a file', async () => {
    writeFileSync(path.join(work, 'a-file'), 'x');
    const result = await cli(['--cache-dir', path.join(work, 'a-file'), 'cache', 'ls']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(path.join(work, 'a-file'));
    expect(result.stderr).toMatch(/ENOTDIR/);
  });
});

describe('modelstore cache prune', () => {
  it('--max-size removes least recently used first until the cache fits; --dry-run removes nothing', async () => {
    const directories = await cachedModels([1000, 1000, 1000]);
    const limit = 2 * (1000 + infoBytes);
    const dry = JSON.parse((await cli(['--cache-dir', cacheDir, '--json', 'cache', 'prune', '--max-size', String(limit), '--dry-run'])).stdout);
    expect(dry).toMatchObject({ dryRun: true, bytes: limit });
    expect(dry.removed.map((model: { modelId: string }) => model.modelId)).toEqual(['m0']);
    expect(existsSync(directories[0]!)).toBe(true);

    const pruned = await cli(['--cache-dir', cacheDir, 'cache', 'prune', '--max-size', String(limit)]);
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toMatch(new RegExp(`^removed 1 cached model\\(s\\), ${((1000 + infoBytes) / 1024).toFixed(1)} KiB; ${(limit / 1024).toFixed(1)} KiB left in ${cacheDir}\\n`));
    expect(pruned.stdout).toMatch(/\nchurn\s+m0\s/);
    expect(existsSync(directories[0]!)).toBe(false);
    expect(existsSync(directories[1]!)).toBe(true);

    // Units: a model is 1000 + 24 bytes; 1KiB (1024 bytes) holds one of them, 1kB (1000 bytes) none.
    expect(1000 + infoBytes).toBe(1024);
    const binary = JSON.parse((await cli(['--cache-dir', cacheDir, '--json', 'cache', 'prune', '--max-size', '1KiB'])).stdout);
    expect(binary.removed.map((model: { modelId: string }) => model.modelId)).toEqual(['m1']);
    expect(binary.bytes).toBe(1024);
    const decimal = JSON.parse((await cli(['--cache-dir', cacheDir, '--json', 'cache', 'prune', '--max-size', '1kB'])).stdout);
    expect(decimal.removed.map((model: { modelId: string }) => model.modelId)).toEqual(['m2']);
    expect(decimal.bytes).toBe(0);
  });

  it('--older-than removes the models not used for that long', async () => {
    const directories = await cachedModels([10, 10, 10]);
    // m0 was used 3 hours ago, m1 2 hours ago, m2 1 hour ago.
    const pruned = JSON.parse((await cli(['--cache-dir', cacheDir, '--json', 'cache', 'prune', '--older-than', '150m'])).stdout);
    expect(pruned.removed.map((model: { modelId: string }) => model.modelId)).toEqual(['m0']);
    expect(directories.map((directory) => existsSync(directory))).toEqual([false, true, true]);
  });

  it('keeps a model that a load in another process holds, shows it in use, and removes it once that load is done', async () => {
    await cachedModels([100]);
    // Evicted from the cache, so that the child's load extracts and holds a fresh copy.
    expect((await cli(['--cache-dir', cacheDir, 'cache', 'prune', '--max-size', '0'])).code).toBe(0);
    const child = spawn(process.execPath, [path.join(__dirname, 'load-child.mjs'), registry, cacheDir, 'churn'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let output = '';
    const said = (text: string) =>
      new Promise<void>((resolve, reject) => {
        const check = () => output.includes(text) && resolve();
        child.stdout.on('data', (data: Buffer) => {
          output += data.toString();
          check();
        });
        child.on('exit', () => (output.includes(text) ? resolve() : reject(new Error(`the load exited before saying "${text}": ${output}`))));
        check();
      });
    try {
      await said('loading ');
      const directory = /loading (.*)\n/.exec(output)![1]!;
      const listed = await cli(['--cache-dir', cacheDir, 'cache', 'ls']);
      expect(listed.stdout.split('\n')[1]).toMatch(/^churn\s+m0\s+.*\s+yes\s+file_system /);

      const pruned = await cli(['--cache-dir', cacheDir, '--json', 'cache', 'prune', '--max-size', '0']);
      expect(pruned.code).toBe(0);
      const report = JSON.parse(pruned.stdout);
      expect(report.removed).toEqual([]);
      expect(report.inUse).toEqual([expect.objectContaining({ modelId: 'm0', inUse: true, directory })]);
      expect(readdirSync(directory).sort()).toEqual(['model-0.bin', 'model-info.json']);

      child.stdin.write('go\n');
      await said('loaded ');
      await new Promise((resolve) => (child.exitCode === null ? child.on('exit', resolve) : resolve(undefined)));
      const after = JSON.parse((await cli(['--cache-dir', cacheDir, '--json', 'cache', 'prune', '--max-size', '0'])).stdout);
      expect(after.removed.map((model: { modelId: string }) => model.modelId)).toEqual(['m0']);
      expect(existsSync(directory)).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);

  it('usage errors exit 2 before the cache is touched: no limit, a size or a duration it cannot read', async () => {
    const directories = await cachedModels([10]);
    for (const [args, message, argument] of [
      [[], /needs --older-than <duration> and\/or --max-size <size>/, '--max-size'],
      [['--max-size', '12XB'], /--max-size takes a size such as 500MB, 2GiB or 1000000 \(bytes\), got "12XB"/, '--max-size'],
      [['--max-size', '-1'], /--max-size takes a size/, '--max-size'],
      [['--older-than', 'soon'], /--older-than takes a duration such as 30m, 12h or 7d, got "soon"/, '--older-than'],
    ] as Array<[string[], RegExp, string]>) {
      const result = await cli(['--cache-dir', cacheDir, 'cache', 'prune', ...args]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      const json = await cli(['--cache-dir', cacheDir, '--json', 'cache', 'prune', ...args]);
      expect(json.code).toBe(2);
      expect(JSON.parse(json.stdout)).toEqual({ error: expect.objectContaining({ code: 'INVALID_ARGUMENT', argument }) });
    }
    expect(existsSync(directories[0]!)).toBe(true);
  }, 60_000);
});
