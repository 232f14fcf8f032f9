import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RawAdapter } from '@modelstore/adapter-raw';
import { ModelStore, PreconditionFailedError, StorageError } from '@modelstore/core';
import { layout } from '@modelstore/core/internal';
import { startS3Server, type S3Server } from '@modelstore/test-servers';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { S3Storage } from '../src/index.js';
import { server, storageOn } from './servers.js';

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

describe('S3Storage errors', () => {
  it('says to check the credentials when they are wrong, without showing them', async () => {
    const info = server('MODELSTORE_TEST_S3');
    const storage = storageOn(info, { credentials: { accessKeyId: 'WRONGKEY', secretAccessKey: 'wrong-secret-value' } });
    for (const call of [() => storage.put('a/b', 'x'), () => storage.get('a/b'), () => storage.list('a/')]) {
      const error = await errorOf(call());
      expect(StorageError.isInstance(error)).toBe(true);
      expect(error.message).toMatch(/check the credentials/);
      expect(error.message).not.toMatch(/wrong-secret-value/);
      expect((error as StorageError).retryable).toBe(false);
    }
    storage.client.destroy();
  });

  it('names a missing bucket', async () => {
    const storage = storageOn(server('MODELSTORE_TEST_S3'), { bucket: 'no-such-bucket' });
    for (const call of [() => storage.put('a/b', 'x'), () => storage.get('a/b'), () => storage.list('')]) {
      const error = await errorOf(call());
      expect(StorageError.isInstance(error)).toBe(true);
      expect(error.message).toMatch(/bucket "no-such-bucket" does not exist/);
    }
    storage.client.destroy();
  });

  it('maps a lost conditional write to PreconditionFailedError, including If-Match on a missing key', async () => {
    const storage = storageOn(server('MODELSTORE_TEST_S3'));
    const first = await storage.put('k', 'v1');
    await storage.delete('k');
    expect(PreconditionFailedError.isInstance(await errorOf(storage.put('k', 'v2', { ifMatch: first.etag })))).toBe(true);
    storage.client.destroy();
  });

  it('describes objects as Python modelstore does, for AWS and for MinIO', () => {
    const aws = new S3Storage({ bucket: 'models', rootPrefix: '/team/', region: 'eu-west-1' });
    expect(aws.describe('operatorai-model-store/d/x.tar.gz')).toEqual({ type: 'aws:s3', bucket: 'models', prefix: 'team/operatorai-model-store/d/x.tar.gz' });
    const minio = new S3Storage({ bucket: 'models', endpoint: 'http://minio.internal:9000', minio: true, region: 'us-east-1' });
    expect(minio.describe('k')).toEqual({ type: 'minio:minio.internal:9000', bucket: 'models', prefix: 'k' });
    expect(new S3Storage({ bucket: 'models', conditionalWrites: false }).capabilities.conditionalWrites).toBe(false);
    aws.client.destroy();
    minio.client.destroy();
  });
});

describe('S3Storage on a server that drops connections mid-upload', () => {
  let faulty: S3Server;
  let work: string;
  beforeAll(async () => {
    faulty = await startS3Server({ buckets: ['flaky'] });
    work = mkdtempSync(path.join(tmpdir(), 'modelstore-s3-drop-'));
  });
  afterAll(async () => {
    await faulty.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('fails the upload with a retryable StorageError, and no model becomes visible', async () => {
    const storage = new S3Storage({ bucket: 'flaky', endpoint: faulty.endpoint, forcePathStyle: true, credentials: faulty.credentials, region: 'us-east-1' });
    const store = new ModelStore({ storage, adapters: [new RawAdapter()], cacheDir: path.join(work, 'cache') });
    const modelFile = path.join(work, 'model.bin');
    writeFileSync(modelFile, randomBytes(12 * 1024 * 1024));
    faulty.dropNextUploads(1000);
    const error = await errorOf(store.upload('flaky', { model: modelFile, modelId: 'dropped' }));
    expect(StorageError.isInstance(error)).toBe(true);
    expect((error as StorageError).retryable).toBe(true);
    faulty.dropNextUploads(0);
    expect(await store.modelExists('flaky', 'dropped')).toBe(false);
    expect((await storage.list(layout.domainPrefix('flaky'))).objects).toEqual([]);
    // The SDK retried before giving up.
    expect(faulty.requests.filter((line) => line.startsWith('PUT ')).length).toBeGreaterThan(1);

    // The same upload succeeds once the server behaves.
    await store.upload('flaky', { model: modelFile, modelId: 'dropped' });
    expect(await store.listModels('flaky')).toEqual(['dropped']);
    storage.client.destroy();
  }, 60_000);

  it('does not call a host that does not resolve retryable', async () => {
    // A 64-character label: getaddrinfo refuses it (ENOTFOUND) without asking a DNS server, so no request leaves the machine.
    const storage = new S3Storage({
      bucket: 'b',
      endpoint: 'http://xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.invalid:9999',
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    for (const call of [() => storage.head('a/b'), () => storage.get('a/b'), () => storage.put('a/b', 'x'), () => storage.list('')]) {
      const error = await errorOf(call());
      expect(StorageError.isInstance(error)).toBe(true);
      expect((error as StorageError).retryable).toBe(false);
      expect(error.message).toMatch(/ENOTFOUND/);
    }
    storage.client.destroy();
  });
});
