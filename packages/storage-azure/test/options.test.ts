import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError, StoreConfigurationError, openModelStore, storeBackendPackages, type ModelStoreError } from '@modelstore/core';
import { randomBytes } from 'node:crypto';
import * as backend from '../src/index.js';
import { createStorage, describeOptions, fromEnvironment, fromStoreUri, pythonStorageNames, uriSchemes } from '../src/index.js';
import { azurite } from './server.js';

function thrown(run: () => unknown): ModelStoreError {
  try {
    run();
  } catch (error) {
    return error as ModelStoreError;
  }
  throw new Error('expected an error');
}

/** Runs `run` with AZURE_STORAGE_CONNECTION_STRING set to `value` (or unset), then restores it. */
async function withConnectionString<T>(value: string | undefined, run: () => Promise<T> | T): Promise<T> {
  const saved = process.env.AZURE_STORAGE_CONNECTION_STRING;
  if (value === undefined) delete process.env.AZURE_STORAGE_CONNECTION_STRING;
  else process.env.AZURE_STORAGE_CONNECTION_STRING = value;
  try {
    return await run();
  } finally {
    if (saved === undefined) delete process.env.AZURE_STORAGE_CONNECTION_STRING;
    else process.env.AZURE_STORAGE_CONNECTION_STRING = saved;
  }
}

describe('azure:// URIs and MODEL_STORE_STORAGE=azure-container map onto AzureBlobStorageOptions', () => {
  it('declares the scheme and MODEL_STORE_STORAGE value core routes to this package', () => {
    expect(storeBackendPackages.find((entry) => entry.package === '@modelstore/storage-azure')).toEqual({ package: '@modelstore/storage-azure', uriSchemes, pythonStorageNames });
    expect(describeOptions.map((option) => option.name)).toEqual(['account', 'endpoint', 'blockSize', 'concurrency', 'maxAttempts', 'retryDelayMs', 'idleTimeoutMs']);
  });

  it('reads the container, the prefix and every known option as numbers', () => {
    expect(fromStoreUri(new URL('azure://models/team?blockSize=4194304&concurrency=2&maxAttempts=3&retryDelayMs=100&idleTimeoutMs=5000'))).toEqual({
      container: 'models',
      rootPrefix: 'team',
      blockSize: 4194304,
      concurrency: 2,
      maxAttempts: 3,
      retryDelayMs: 100,
      idleTimeoutMs: 5000,
    });
    expect(fromStoreUri(new URL('azure://models'))).toEqual({ container: 'models' });
  });

  it('refuses an unknown option, the connection string, and a missing container', () => {
    expect(thrown(() => fromStoreUri(new URL('azure://models?blocksize=1'))).message).toBe('unknown option "blocksize" for azure:// URIs (known: account, endpoint, blockSize, concurrency, maxAttempts, retryDelayMs, idleTimeoutMs)');
    const secret = thrown(() => fromStoreUri(new URL('azure://models?connectionString=AccountKey%3Dx')));
    expect(secret).toBeInstanceOf(InvalidArgumentError);
    expect(secret.message).toMatch(/^Store URIs do not carry secrets/);
    expect(thrown(() => fromStoreUri(new URL('azure:///team'))).message).toBe('azure:// URIs name a container: azure://<container>/<prefix>');
  });

  it('MODEL_STORE_AZURE_CONTAINER is required; the connection string comes from the same variables', () => {
    expect(fromEnvironment({ MODEL_STORE_STORAGE: 'azure-container', MODEL_STORE_AZURE_CONTAINER: 'c', MODEL_STORE_AZURE_ROOT_PREFIX: 'r', AZURE_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true' })).toEqual({
      container: 'c',
      rootPrefix: 'r',
      connectionString: 'UseDevelopmentStorage=true',
    });
    expect(fromEnvironment({ MODEL_STORE_STORAGE: 'filesystem' })).toBeUndefined();
    const error = thrown(() => fromEnvironment({ MODEL_STORE_STORAGE: 'azure-container' })) as StoreConfigurationError;
    expect(error).toBeInstanceOf(StoreConfigurationError);
    expect(error.settings).toEqual(['MODEL_STORE_AZURE_CONTAINER']);
  });

  it('no connection string anywhere is a StoreConfigurationError naming AZURE_STORAGE_CONNECTION_STRING', async () => {
    await withConnectionString(undefined, async () => {
      const error = thrown(() => createStorage({ container: 'c' })) as StoreConfigurationError;
      expect(error).toBeInstanceOf(StoreConfigurationError);
      expect(error.settings).toEqual(['AZURE_STORAGE_CONNECTION_STRING']);
      await expect(openModelStore('azure://c/p', { importer: async () => backend })).rejects.toThrow(/set AZURE_STORAGE_CONNECTION_STRING/);
    });
  });

  it("openModelStore opens azure:// URIs and MODEL_STORE_* through this package's exports, against Azurite", async () => {
    const info = azurite();
    const prefix = `options-${randomBytes(5).toString('hex')}`;
    const viaUri = await withConnectionString(info.connectionString, () => openModelStore(`azure://${info.container}/${prefix}`, { importer: async () => backend }));
    await viaUri.createModelState('production');
    // The variables given to openModelStore carry the connection string: the process's are not needed.
    const viaEnv = await withConnectionString(undefined, () =>
      openModelStore(undefined, {
        importer: async () => backend,
        env: { MODEL_STORE_STORAGE: 'azure-container', MODEL_STORE_AZURE_CONTAINER: info.container, MODEL_STORE_AZURE_ROOT_PREFIX: prefix, AZURE_STORAGE_CONNECTION_STRING: info.connectionString },
      }),
    );
    expect(await viaEnv.listModelStates()).toEqual(['production']);
    expect(viaEnv.storage.describe('k')).toEqual(viaUri.storage.describe('k'));
  });
});
