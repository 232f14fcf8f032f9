// checkStorage and the write-time guard on every S3 server of the suite: our own,
// MinIO and moto honour conditional writes; s3rver ignores If-None-Match and If-Match
// (and lists in file-system order, and answers "bytes=0-0" with the whole object), and
// must be told apart from the others.
import { afterAll, describe, expect, it } from '@jest/globals';
import { RawAdapter } from '@modelstore/adapter-raw';
import { checkStorage, ModelStore, StorageCapabilityError, StorageError, type StorageCheckReport } from '@modelstore/core';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { S3Storage } from '../src/index.js';
import { conditionalServers, server, storageOn } from './servers.js';

const work = mkdtempSync(path.join(tmpdir(), 'modelstore-s3-check-'));
const opened: S3Storage[] = [];
const open = (...args: Parameters<typeof storageOn>) => {
  const storage = storageOn(...args);
  opened.push(storage);
  return storage;
};

afterAll(() => {
  for (const storage of opened) storage.client.destroy();
  rmSync(work, { recursive: true, force: true });
});

const failedChecks = (report: StorageCheckReport) => report.checks.filter((check) => !check.ok).map((check) => check.name);

/** Every key under the storage's root prefix. */
async function keysOf(storage: S3Storage): Promise<string[]> {
  return (await storage.list('')).objects.map((object) => object.key);
}

describe('checkStorage on S3 servers', () => {
  for (const { label, name } of conditionalServers) {
    it(`finds every claim true on ${label}, and leaves no key behind`, async () => {
      const storage = open(server(name));
      const report = await checkStorage(storage);
      expect(failedChecks(report)).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.observed).toEqual({ conditionalWrites: true, rangeReads: true });
      expect(await keysOf(storage)).toEqual([]);
    }, 30_000);
  }

  it('tells s3rver apart: it ignores If-None-Match and If-Match, and says what to set', async () => {
    const storage = open(server('MODELSTORE_TEST_S3RVER'));
    const report = await checkStorage(storage);
    expect(report.ok).toBe(false);
    expect(report.observed.conditionalWrites).toBe(false);
    // s3rver 3.7.1 also answers "bytes=0-0" with the whole object, and lists "x/1" before
    // "x-1" (a walk of its folders, not byte order), so a walk of cursors skips keys.
    expect(failedChecks(report)).toEqual(['create-only', 'compare-and-swap-stale', 'range-read', 'list-order', 'list-pagination']);
    expect(report.checks.find((check) => check.name === 'list-pagination')!.detail).toMatch(/skipped: "x-1", "x.y"/);
    expect(report.advice[0]).toMatch(/^This store ignores If-None-Match and If-Match: open it with conditionalWrites: false .*\?conditionalWrites=false.*one writer at a time/);
    expect(await keysOf(storage)).toEqual([]);
  }, 30_000);

  it('on s3rver opened with conditionalWrites: false, the conditional checks pass as declared (its listing and ranges still fail)', async () => {
    const report = await checkStorage(open(server('MODELSTORE_TEST_S3RVER'), { conditionalWrites: false }));
    expect(report.claims.conditionalWrites).toBe(false);
    expect(report.checks.find((check) => check.name === 'create-only')).toMatchObject({ ok: true, detail: expect.stringMatching(/not claimed.*one writer at a time/) });
    expect(failedChecks(report)).toEqual(['range-read', 'list-order', 'list-pagination']);
  }, 30_000);

  it('throws the StorageError of a store it cannot reach', async () => {
    const storage = new S3Storage({ bucket: 'nowhere', endpoint: 'http://127.0.0.1:9', forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
    opened.push(storage);
    const error = await checkStorage(storage).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(StorageError.isInstance(error)).toBe(true);
  }, 30_000);
});

describe('the write-time guard on s3rver', () => {
  const model = path.join(work, 'model.bin');
  writeFileSync(model, 'weights');

  it('refuses two concurrent uploads of one model id with S3Storage defaults, and writes nothing', async () => {
    const first = open(server('MODELSTORE_TEST_S3RVER'));
    const second = new S3Storage({ bucket: first.bucket, rootPrefix: first.rootPrefix, client: first.client });
    const stores = [first, second].map((storage) => new ModelStore({ storage, adapters: [new RawAdapter()], cacheDir: path.join(work, 'cache') }));
    const results = await Promise.allSettled(stores.map((store) => store.upload('churn', { model, modelId: 'same' })));
    for (const result of results) {
      expect(result.status).toBe('rejected');
      const error = (result as PromiseRejectedResult).reason as StorageCapabilityError;
      expect(StorageCapabilityError.isInstance(error)).toBe(true);
      expect(error.message).toMatch(/ignores If-None-Match.*conditionalWrites: false/);
    }
    expect(await keysOf(first)).toEqual([]);
  }, 30_000);

  it('with conditionalWrites: false declared, both uploads succeed and the last writer wins (the documented risk)', async () => {
    const first = open(server('MODELSTORE_TEST_S3RVER'), { conditionalWrites: false });
    const second = new S3Storage({ bucket: first.bucket, rootPrefix: first.rootPrefix, client: first.client, conditionalWrites: false });
    const stores = [first, second].map((storage) => new ModelStore({ storage, adapters: [new RawAdapter()], cacheDir: path.join(work, 'cache') }));
    const uploads = await Promise.all(stores.map((store, index) => store.upload('churn', { model, modelId: 'same', extraMetadata: { writer: index } })));
    expect(uploads).toHaveLength(2);
    expect(await stores[0]!.listModels('churn')).toEqual(['same']);
    const kept = (await stores[0]!.getModelInfo('churn', 'same')).extra?.writer;
    expect([0, 1]).toContain(kept);
  }, 30_000);
});
