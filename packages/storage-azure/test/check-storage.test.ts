// checkStorage on Azurite, which honours If-None-Match: * (409) and If-Match (412): every
// claim must hold, and the probe must leave nothing behind.
import { afterAll, describe, expect, it } from '@jest/globals';
import { checkStorage, ModelStore } from '@modelstore/core';
import { RawAdapter } from '@modelstore/adapter-raw';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { storageOn } from './server.js';

const work = mkdtempSync(path.join(tmpdir(), 'modelstore-azure-check-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('checkStorage on Azurite', () => {
  it('finds every claim true, and leaves no key behind; the guard lets uploads through', async () => {
    const storage = storageOn();
    const report = await checkStorage(storage);
    expect(report.checks.filter((check) => !check.ok).map((check) => `${check.name}: ${check.detail}`)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.observed).toEqual({ conditionalWrites: true, rangeReads: true });
    expect((await storage.list('')).objects).toEqual([]);
    const model = path.join(work, 'model.bin');
    writeFileSync(model, 'weights');
    const store = new ModelStore({ storage, adapters: [new RawAdapter()], cacheDir: path.join(work, 'cache') });
    await store.upload('churn', { model, modelId: 'm1' });
    expect((await storage.list('')).objects.map((object) => object.key).filter((key) => key.includes('probe'))).toEqual([]);
  }, 30_000);
});
