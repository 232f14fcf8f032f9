import { afterEach, describe, expect, it } from '@jest/globals';
import { StorageError } from '@modelstore/core';
import { startFaultProxy, type FaultProxy } from '@modelstore/test-servers';
import { randomBytes } from 'node:crypto';
import { server, storageOn } from './servers.js';
import { buffer } from 'node:stream/consumers';

let proxy: FaultProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

describe('S3Storage reads over connections that break', () => {
  const bytes = randomBytes(3 * 1024 * 1024);

  async function setUp(resets: number) {
    const info = server('MODELSTORE_TEST_S3');
    let left = resets;
    proxy = await startFaultProxy({ target: info.endpoint, decide: ({ method }) => (method === 'GET' && left-- > 0 ? 'reset' : undefined) });
    const direct = storageOn(info);
    await direct.put('model.bin', bytes);
    return storageOn({ ...info, endpoint: proxy.endpoint }, { rootPrefix: direct.rootPrefix, maxAttempts: 1 });
  }

  it('resumes a read cut off part-way, byte for byte', async () => {
    const storage = await setUp(2);
    const object = await storage.get('model.bin');
    expect((await buffer(object!.body)).equals(bytes)).toBe(true);
    expect(proxy!.counts.reset).toBe(2);
  }, 30_000);

  it('reports a read that keeps breaking as a retryable StorageError, not a socket error', async () => {
    const storage = await setUp(100);
    const error = await storage
      .get('model.bin')
      .then((object) => buffer(object!.body))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(StorageError.isInstance(error)).toBe(true);
    expect((error as StorageError).retryable).toBe(true);
  }, 30_000);
});
