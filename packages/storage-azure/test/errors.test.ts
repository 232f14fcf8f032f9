import { describe, expect, it } from '@jest/globals';
import { PreconditionFailedError, StorageError } from '@modelstore/core';
import { AzureBlobStorage } from '../src/index.js';
import { azurite, storageOn } from './server.js';

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

function thrownBy(construct: () => unknown): Error {
  try {
    construct();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the constructor to throw');
}

describe('AzureBlobStorage errors', () => {
  it('explains a malformed connection string without echoing it', () => {
    const error = thrownBy(() => new AzureBlobStorage({ container: 'c', connectionString: 'AccountName=only;AccountKey=c2VjcmV0LXZhbHVl' }));
    expect(StorageError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/connection string is not valid/);
    expect(error.message).not.toMatch(/c2VjcmV0LXZhbHVl/);
  });

  it('asks for a connection string when there is none', () => {
    const saved = process.env.AZURE_STORAGE_CONNECTION_STRING;
    delete process.env.AZURE_STORAGE_CONNECTION_STRING;
    try {
      expect(thrownBy(() => new AzureBlobStorage({ container: 'c' })).message).toMatch(/AZURE_STORAGE_CONNECTION_STRING/);
    } finally {
      if (saved !== undefined) process.env.AZURE_STORAGE_CONNECTION_STRING = saved;
    }
  });

  it('reads the connection string from AZURE_STORAGE_CONNECTION_STRING, as Python modelstore does', async () => {
    const saved = process.env.AZURE_STORAGE_CONNECTION_STRING;
    process.env.AZURE_STORAGE_CONNECTION_STRING = azurite().connectionString;
    try {
      const storage = new AzureBlobStorage({ container: azurite().container, rootPrefix: `env-${Date.now()}` });
      await storage.put('k', 'v');
      expect(await storage.head('k')).toEqual(expect.objectContaining({ size: 1 }));
    } finally {
      if (saved === undefined) delete process.env.AZURE_STORAGE_CONNECTION_STRING;
      else process.env.AZURE_STORAGE_CONNECTION_STRING = saved;
    }
  });

  it('says when the account key is wrong', async () => {
    const wrong = azurite().connectionString.replace(/AccountKey=[^;]+/, `AccountKey=${Buffer.from('not the key').toString('base64')}`);
    const storage = new AzureBlobStorage({ container: azurite().container, connectionString: wrong });
    const error = await errorOf(storage.put('k', 'v'));
    expect(StorageError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/check the account name and key/);
  });

  it('names a missing container', async () => {
    const storage = storageOn({ container: 'no-such-container' });
    for (const call of [() => storage.put('a/b', 'x'), () => storage.list(''), () => storage.get('a/b')]) {
      const error = await errorOf(call());
      expect(StorageError.isInstance(error)).toBe(true);
      expect(error.message).toMatch(/container "no-such-container" does not exist/);
    }
  });

  it('maps BlobAlreadyExists and ConditionNotMet to PreconditionFailedError, also for staged uploads', async () => {
    const storage = storageOn({ blockSize: 1024 * 1024 });
    await storage.put('k', 'v1', { ifNoneMatch: '*' });
    async function* big() {
      for (let i = 0; i < 3; i++) yield Buffer.alloc(1024 * 1024, i);
    }
    expect(PreconditionFailedError.isInstance(await errorOf(storage.put('k', big(), { ifNoneMatch: '*' })))).toBe(true);
    expect(PreconditionFailedError.isInstance(await errorOf(storage.put('k', big(), { ifMatch: '"0x0"' })))).toBe(true);
    const { etag } = (await storage.head('k'))!;
    const replaced = await storage.put('k', big(), { ifMatch: etag });
    expect(replaced.size).toBe(3 * 1024 * 1024);
  });

  it('describes objects as Python modelstore does', () => {
    const storage = new AzureBlobStorage({ container: 'models', rootPrefix: 'team', connectionString: azurite().connectionString });
    expect(storage.describe('operatorai-model-store/d/x.tar.gz')).toEqual({ type: 'azure:blob-storage', container: 'models', prefix: 'team/operatorai-model-store/d/x.tar.gz' });
  });

  it('does not call a host that does not resolve retryable', async () => {
    // The SDK's own retry policy retries ENOTFOUND; one attempt keeps the test fast.
    // A 64-character label: getaddrinfo refuses it (ENOTFOUND) without asking a DNS server, so no request leaves the machine.
    const connectionString = azurite().connectionString.replace(/BlobEndpoint=[^;]+/, 'BlobEndpoint=http://xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.invalid:9999/devstoreaccount1');
    expect(connectionString).toMatch(/x{64}\.invalid/);
    const storage = new AzureBlobStorage({ container: 'c', connectionString, maxAttempts: 1 });
    for (const call of [() => storage.head('a/b'), () => storage.get('a/b'), () => storage.put('a/b', 'x'), () => storage.list('')]) {
      const error = await errorOf(call());
      expect(StorageError.isInstance(error)).toBe(true);
      expect((error as StorageError).retryable).toBe(false);
      expect(error.message).toMatch(/failed \(ENOTFOUND\)/);
    }
  });
});
