import { describe, expect, it } from '@jest/globals';
import { PreconditionFailedError, StorageError } from '@modelstore/core';
import { GcsStorage } from '../src/index.js';
import { server, storageOn } from './server.js';

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

describe('GcsStorage errors and access modes', () => {
  it('reads a public bucket anonymously, and says plainly that writes need credentials', async () => {
    const info = server();
    // Seed the public bucket the way its owner would: the test server treats it as
    // read-only for everyone, so this write is refused too, and the listing is empty.
    const anonymous = new GcsStorage({ bucket: info.publicBucket, apiEndpoint: info.endpoint, anonymous: true });
    expect((await anonymous.list('')).objects).toEqual([]);
    expect(await anonymous.get('operatorai-model-store/domains/none.json')).toBeUndefined();
    const error = await errorOf(anonymous.put('operatorai-model-store/x.json', '{}'));
    expect(StorageError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/anonymous access is read-only/);
    const large = await errorOf(anonymous.put('big.bin', (async function* () { yield Buffer.alloc(9 * 1024 * 1024); })()));
    expect(StorageError.isInstance(large)).toBe(true);
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
});
