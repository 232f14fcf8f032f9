import { describe, expect, it } from '@jest/globals';
import { RawAdapter } from '@modelstore/adapter-raw';
import { ModelStore, PreconditionFailedError, StorageError } from '@modelstore/core';
import { startGcsServer } from '@modelstore/test-servers';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GcsStorage } from '../src/index.js';
import { server, storageOn } from './server.js';

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

describe('GcsStorage errors and access modes', () => {
  it('reads a public bucket anonymously, and says plainly that writes need credentials', async () => {
    const gcs = await startGcsServer({ buckets: ['public-models'] });
    const work = mkdtempSync(path.join(tmpdir(), 'modelstore-gcs-public-'));
    try {
      // The owner publishes a model, then the bucket is public and read-only to anonymous callers.
      const owner = new ModelStore({ storage: new GcsStorage({ bucket: 'public-models', apiEndpoint: gcs.endpoint, projectId: 'owner' }), adapters: [new RawAdapter()], cacheDir: path.join(work, 'cache-owner') });
      writeFileSync(path.join(work, 'model.bin'), 'public weights');
      const { model } = await owner.upload('public', { model: path.join(work, 'model.bin') });
      gcs.setReadOnly('public-models', true);

      const anonymous = new GcsStorage({ bucket: 'public-models', apiEndpoint: gcs.endpoint, anonymous: true });
      const reader = new ModelStore({ storage: anonymous, adapters: [new RawAdapter()], cacheDir: path.join(work, 'cache-reader') });
      expect(await reader.listModels('public')).toEqual([model.model_id]);
      const directory = await reader.load<string>('public');
      expect(readFileSync(path.join(directory, 'model.bin'), 'utf8')).toBe('public weights');

      const error = await errorOf(reader.upload('public', { model: path.join(work, 'model.bin') }));
      expect(StorageError.isInstance(error)).toBe(true);
      expect(error.message).toMatch(/anonymous access is read-only/);
      const large = await errorOf(
        anonymous.put(
          'big.bin',
          (async function* () {
            yield Buffer.alloc(9 * 1024 * 1024);
          })(),
        ),
      );
      expect(StorageError.isInstance(large)).toBe(true);
      expect(await reader.listModels('public')).toEqual([model.model_id]);
    } finally {
      rmSync(work, { recursive: true, force: true });
      await gcs.close();
    }
  });

  it('names a missing bucket', async () => {
    const storage = storageOn(undefined, { bucket: 'no-such-bucket' });
    for (const call of [() => storage.put('a/b', 'x'), () => storage.list(''), () => storage.get('a/b')]) {
      const error = await errorOf(call());
      expect(StorageError.isInstance(error)).toBe(true);
      expect(error.message).toMatch(/bucket "no-such-bucket" does not exist/);
    }
  });

  it('carries the generation as the etag, and refuses an etag that is not one', async () => {
    const storage = storageOn();
    const first = await storage.put('k', 'v1');
    expect(first.etag).toMatch(/^\d+$/);
    expect((await storage.head('k'))!.etag).toBe(first.etag);
    expect(PreconditionFailedError.isInstance(await errorOf(storage.put('k', 'v2', { ifMatch: '"abc"' })))).toBe(true);
  });

  it('describes objects as Python modelstore does', () => {
    const storage = new GcsStorage({ bucket: 'models', rootPrefix: 'team', projectId: 'p', apiEndpoint: server().endpoint });
    expect(storage.describe('operatorai-model-store/d/x.tar.gz')).toEqual({ type: 'google:cloud-storage', bucket: 'models', prefix: 'team/operatorai-model-store/d/x.tar.gz' });
  });

  it('does not call a host that does not resolve retryable, and stops retrying it at once', async () => {
    // ENOTFOUND: the name will not resolve on the next attempt either. Before, media reads
    // retried it with the SDK's backoff (1 s, 2 s, 4 s, 8 s at five attempts).
    // A 64-character label: getaddrinfo refuses it (ENOTFOUND) without asking a DNS server, so no request leaves the machine.
    const storage = new GcsStorage({ bucket: 'b', projectId: 'p', apiEndpoint: 'http://xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.invalid:9999', maxAttempts: 5 });
    for (const call of [() => storage.get('a/b'), () => storage.put('a/b', 'x'), () => storage.head('a/b'), () => storage.list('a/'), () => storage.delete('a/b')]) {
      const started = Date.now();
      const error = await errorOf(call());
      expect(Date.now() - started).toBeLessThan(900);
      expect(StorageError.isInstance(error)).toBe(true);
      expect((error as StorageError).retryable).toBe(false);
      expect(error.message).toMatch(/^GCS (read|write|head|list|delete) of gs:\/\/b\/a\/?b? failed .*ENOTFOUND/);
    }
  });
});
