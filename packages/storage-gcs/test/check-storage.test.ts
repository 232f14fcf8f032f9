// checkStorage on both GCS servers of the suite (ours and fake-gcs-server): each honours
// ifGenerationMatch, so every claim must hold, and the probe must leave nothing behind.
import { afterAll, describe, expect, it } from '@jest/globals';
import { checkStorage, ModelStore, type StorageCheckReport } from '@modelstore/core';
import { RawAdapter } from '@modelstore/adapter-raw';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gcsServers, server, storageOn } from './server.js';

const work = mkdtempSync(path.join(tmpdir(), 'modelstore-gcs-check-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const failedChecks = (report: StorageCheckReport) => report.checks.filter((check) => !check.ok).map((check) => `${check.name}: ${check.detail}`);

describe('checkStorage on GCS servers', () => {
  for (const { label, name } of gcsServers) {
    it(`finds every claim true on ${label}, and leaves no key behind; the guard lets uploads through`, async () => {
      const storage = storageOn(server(name));
      const report = await checkStorage(storage);
      expect(failedChecks(report)).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.observed).toEqual({ conditionalWrites: true, rangeReads: true });
      expect((await storage.list('')).objects).toEqual([]);
      const model = path.join(work, 'model.bin');
      writeFileSync(model, 'weights');
      const store = new ModelStore({ storage, adapters: [new RawAdapter()], cacheDir: path.join(work, 'cache') });
      await store.upload('churn', { model, modelId: 'm1' });
      expect((await storage.list('')).objects.map((object) => object.key).filter((key) => key.includes('probe'))).toEqual([]);
    }, 30_000);
  }
});
