import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError, StoreConfigurationError, openModelStore, storeBackendPackages, type ModelStoreError } from '@modelstore/core';
import { randomBytes } from 'node:crypto';
import * as backend from '../src/index.js';
import { createStorage, describeOptions, fromEnvironment, fromStoreUri, pythonStorageNames, uriSchemes } from '../src/index.js';
import { server } from './server.js';

function thrown(run: () => unknown): ModelStoreError {
  try {
    run();
  } catch (error) {
    return error as ModelStoreError;
  }
  throw new Error('expected an error');
}

describe('gs:// URIs and MODEL_STORE_STORAGE=google-cloud-storage map onto GcsStorageOptions', () => {
  it('declares the schemes and MODEL_STORE_STORAGE value core routes to this package', () => {
    expect(storeBackendPackages.find((entry) => entry.package === '@modelstore/storage-gcs')).toEqual({ package: '@modelstore/storage-gcs', uriSchemes, pythonStorageNames });
    expect(describeOptions.map((option) => option.name)).toEqual(['projectId', 'apiEndpoint', 'anonymous', 'resumableThreshold', 'chunkSize', 'maxAttempts', 'requestTimeoutMs']);
  });

  it('reads the bucket, the prefix and every known option with its type', () => {
    expect(fromStoreUri(new URL('gs://models/team/a?projectId=p&apiEndpoint=http%3A%2F%2F127.0.0.1%3A4443&anonymous=true&resumableThreshold=1024&chunkSize=262144&maxAttempts=2&requestTimeoutMs=5000'))).toEqual({
      bucket: 'models',
      rootPrefix: 'team/a',
      projectId: 'p',
      apiEndpoint: 'http://127.0.0.1:4443',
      anonymous: true,
      resumableThreshold: 1024,
      chunkSize: 262144,
      maxAttempts: 2,
      requestTimeoutMs: 5000,
    });
    expect(fromStoreUri(new URL('gcs://models'))).toEqual({ bucket: 'models' });
  });

  it('an unknown option is an InvalidArgumentError listing the known ones', () => {
    const error = thrown(() => fromStoreUri(new URL('gs://models?project=p')));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toBe('unknown option "project" for gs:// URIs (known: projectId, apiEndpoint, anonymous, resumableThreshold, chunkSize, maxAttempts, requestTimeoutMs)');
    expect(thrown(() => fromStoreUri(new URL('gs://models?credentials=x'))).message).toMatch(/^Store URIs do not carry secrets/);
  });

  it('an apiEndpoint without a scheme fails at once with what to add, where the SDK would retry it for ~30 s', async () => {
    const started = Date.now();
    const error = thrown(() => fromStoreUri(new URL('gs://models?apiEndpoint=127.0.0.1:4443')));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toBe('apiEndpoint "127.0.0.1:4443" has no scheme: add http:// or https:// (http://127.0.0.1:4443 for a local emulator)');
    expect(thrown(() => createStorage({ bucket: 'b', apiEndpoint: 'localhost:4443' }))).toBeInstanceOf(InvalidArgumentError);
    await expect(openModelStore('gs://models/p?apiEndpoint=localhost%3A4443', { importer: async () => backend })).rejects.toThrow(/add http:\/\/ or https:\/\//);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('MODEL_STORE_GCP_BUCKET is required; project and prefix are optional', () => {
    expect(fromEnvironment({ MODEL_STORE_STORAGE: 'google-cloud-storage', MODEL_STORE_GCP_BUCKET: 'b', MODEL_STORE_GCP_PROJECT: 'p', MODEL_STORE_GCP_ROOT_PREFIX: 'r' })).toEqual({ bucket: 'b', projectId: 'p', rootPrefix: 'r' });
    expect(fromEnvironment({ MODEL_STORE_STORAGE: 'aws-s3' })).toBeUndefined();
    const error = thrown(() => fromEnvironment({ MODEL_STORE_STORAGE: 'google-cloud-storage' })) as StoreConfigurationError;
    expect(error).toBeInstanceOf(StoreConfigurationError);
    expect(error.message).toBe('MODEL_STORE_STORAGE=google-cloud-storage needs MODEL_STORE_GCP_BUCKET to be set');
  });

  it("openModelStore opens gs:// URIs through this package's exports, against a real server", async () => {
    const info = server();
    const prefix = `options-${randomBytes(5).toString('hex')}`;
    const store = await openModelStore(`gs://${info.bucket}/${prefix}?apiEndpoint=${encodeURIComponent(info.endpoint)}&projectId=modelstore-test`, { importer: async () => backend });
    await store.createModelState('production');
    expect(await store.listModelStates()).toEqual(['production']);
    expect(store.storage.describe('k')).toMatchObject({ type: 'google:cloud-storage', bucket: info.bucket, prefix: `${prefix}/k` });
  });
});
