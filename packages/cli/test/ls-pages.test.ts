// `modelstore ls <domain> --limit n [--cursor c]`: one page of a domain's models from its
// index, the next page's command on stderr, and the usage errors of the two flags.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ModelStore } from '@modelstore/core';
import { FileSystemStorage } from '@modelstore/storage-fs';
import { modelstore } from './helpers.js';

describe('modelstore ls --limit --cursor', () => {
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(path.join(tmpdir(), 'modelstore-cli-pages-'));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('pages through a domain newest first, printing the next page command, and refuses bad flags', async () => {
    const store = new ModelStore({ storage: new FileSystemStorage({ root: path.join(work, 'registry') }), cacheDir: path.join(work, 'cache') });
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const { RawAdapter } = await import('@modelstore/adapter-raw');
      const file = path.join(work, `m${i}.bin`);
      (await import('node:fs')).writeFileSync(file, `model ${i}`);
      ids.push((await new ModelStore({ storage: store.storage, adapters: [new RawAdapter()], cacheDir: path.join(work, 'cache') }).upload('churn', { model: file, modelId: `churn-${i}` })).model.model_id);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await store.compactIndex('churn');
    const newestFirst = [...ids].reverse();
    const cli = (...args: string[]) => modelstore(['--store', './registry', ...args], { cwd: work });

    const first = await cli('--json', 'ls', 'churn', '--limit', '3');
    expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: '' });
    const page = JSON.parse(first.stdout) as { models: { modelId: string; size: number; library: string }[]; cursor: string };
    expect(page.models.map((row) => row.modelId)).toEqual(newestFirst.slice(0, 3));
    expect(page.models[0]).toMatchObject({ library: 'model_file', size: expect.any(Number) });
    expect(page.cursor).toMatch(/^[A-Za-z0-9_-]+$/);

    // Without --json: the table, and on stderr the command of the next page.
    const human = await cli('ls', 'churn', '--limit', '3', '--cursor', page.cursor);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(newestFirst[3]);
    expect(human.stdout).not.toContain(newestFirst[2]);
    // The hint names the store it was given, so it runs as printed.
    const hint = /next page: modelstore (--store \S+ ls churn --limit 3 --cursor \S+)$/m.exec(human.stderr);
    expect(hint?.[1]).toMatch(/^--store \.\/registry ls/);
    const last = JSON.parse((await modelstore(['--json', ...hint![1]!.split(' ')], { cwd: work })).stdout) as { models: { modelId: string }[]; cursor?: string };
    expect(last.models.map((row) => row.modelId)).toEqual(newestFirst.slice(6));
    expect(last.cursor).toBeUndefined();

    for (const [args, flag] of [
      [['ls', 'churn', '--limit', '0'], '--limit'],
      [['ls', 'churn', '--limit', '1001'], '--limit'],
      [['ls', 'churn', '--limit', 'ten'], '--limit'],
      [['ls', 'churn', '--cursor', page.cursor], '--cursor'],
      [['ls', '--limit', '3'], '--limit'],
      [['ls', 'churn', '--limit', '3', '--cursor', 'bm90IGEgY3Vyc29y'], '--cursor'],
      [['ls', 'other', '--limit', '3', '--cursor', page.cursor], '--cursor'],
    ] as const) {
      const result = await cli('--json', ...args);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect({ args, message: (JSON.parse(result.stdout) as { error: { message: string } }).error.message }).toEqual({ args, message: expect.stringContaining(flag) });
    }
  }, 120_000);
});
