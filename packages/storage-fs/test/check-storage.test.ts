// checkStorage and the write-time guard on a local folder: every claim holds, the probe
// leaves no file behind, and what a probe that died leaves trips neither the registry's
// listings nor collectGarbage.
import { afterAll, describe, expect, it } from '@jest/globals';
import { RawAdapter } from '@modelstore/adapter-raw';
import { checkStorage, ModelStore } from '@modelstore/core';
import { probeKeyPrefix } from '@modelstore/core/internal';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileSystemStorage } from '../src/index.js';

const work = mkdtempSync(path.join(tmpdir(), 'modelstore-fs-check-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Files (not folders) under `root`, relative. */
function filesUnder(root: string): string[] {
  const files: string[] = [];
  const walk = (directory: string, prefix: string) => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(path.join(directory, entry.name), `${prefix}${entry.name}/`);
      else files.push(`${prefix}${entry.name}`);
    }
  };
  walk(root, '');
  return files.sort();
}

describe('checkStorage on FileSystemStorage', () => {
  it('finds every claim true, and leaves no file behind', async () => {
    const root = mkdtempSync(path.join(work, 'store-'));
    const report = await checkStorage(new FileSystemStorage({ root }));
    expect(report.checks.filter((check) => !check.ok)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.observed).toEqual({ conditionalWrites: true, rangeReads: true });
    expect(filesUnder(root)).toEqual([]);
  });

  it('probes before the first write, leaving no file or folder beside the registry', async () => {
    const root = mkdtempSync(path.join(work, 'store-'));
    const model = path.join(work, 'model.bin');
    writeFileSync(model, 'weights');
    const store = new ModelStore({ storage: new FileSystemStorage({ root }), adapters: [new RawAdapter()], cacheDir: path.join(work, 'cache') });
    const {
      model: { model_id: id },
    } = await store.upload('churn', { model });
    expect(readdirSync(path.join(root, 'operatorai-model-store')).filter((name) => name.includes('probe'))).toEqual([]);
    expect(filesUnder(root).filter((file) => file.includes('modelstore-probe'))).toEqual([]);
    expect(await store.listModels('churn')).toEqual([id]);
  });

  it('lists, and collects garbage, past what a probe that died left', async () => {
    const root = mkdtempSync(path.join(work, 'store-'));
    const storage = new FileSystemStorage({ root });
    const leftovers = [`${probeKeyPrefix}-0123456789abcdef`, `${probeKeyPrefix}/fedcba9876543210/object`, `${probeKeyPrefix}/fedcba9876543210/list/x/1`, `${probeKeyPrefix}/fedcba9876543210/list/x-1`];
    for (const key of leftovers) await storage.put(key, 'left by a probe that died');
    mkdirSync(path.join(root, probeKeyPrefix, 'empty-folder'), { recursive: true });
    const model = path.join(work, 'model.bin');
    writeFileSync(model, 'weights');
    const store = new ModelStore({ storage, adapters: [new RawAdapter()], cacheDir: path.join(work, 'cache') });
    await store.upload('churn', { model, modelId: 'm1' });
    expect(await store.listDomains()).toEqual(['churn']);
    expect(await store.listModels('churn')).toEqual(['m1']);
    expect(await store.collectGarbage({ olderThan: 0, quiesced: true })).toMatchObject({ removed: [], kept: [], unreadable: [] });
    for (const key of leftovers) expect(statSync(path.join(root, key)).isFile()).toBe(true);
    // A later check removes only leftovers over an hour old: these are new.
    expect((await checkStorage(storage)).staleRemoved).toEqual([]);
  });
});
