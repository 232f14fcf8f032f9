import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { InvalidArgumentError, StoreConfigurationError, openModelStore, storeBackendPackages, type ModelStoreError } from '@modelstore/core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as backend from '../src/index.js';
import { describeOptions, fromEnvironment, fromStoreUri, pythonStorageNames, uriSchemes } from '../src/index.js';

function thrown(run: () => unknown): ModelStoreError {
  try {
    run();
  } catch (error) {
    return error as ModelStoreError;
  }
  throw new Error('expected an error');
}

describe('file:// URIs and MODEL_STORE_STORAGE=filesystem map onto FileSystemStorageOptions', () => {
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(path.join(tmpdir(), 'modelstore-fs-options-'));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('declares the scheme and MODEL_STORE_STORAGE value core routes to this package', () => {
    expect(storeBackendPackages.find((entry) => entry.package === '@modelstore/storage-fs')).toEqual({ package: '@modelstore/storage-fs', uriSchemes, pythonStorageNames });
    expect(describeOptions.map((option) => option.name)).toEqual(['staleLockMs']);
  });

  it('reads the absolute path (percent-decoded), localhost as no host, and staleLockMs as a number', () => {
    expect(fromStoreUri(new URL('file:///srv/models'))).toEqual({ root: '/srv/models' });
    expect(fromStoreUri(new URL('file://localhost/srv/models?staleLockMs=20000'))).toEqual({ root: '/srv/models', staleLockMs: 20000 });
    expect(fromStoreUri(pathToFileURL('/srv/a b/#1?%'))).toEqual({ root: '/srv/a b/#1?%' });
  });

  it('file://relative/path is an InvalidArgumentError that says to drop file://', () => {
    const error = thrown(() => fromStoreUri(new URL('file://models/team')));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toBe('file:// URIs name an absolute local path: file:///absolute/path (got host "models"); give a relative path without file://, e.g. ./models/team');
  });

  it('an unknown option, a bad number and an encoded / are InvalidArgumentErrors', () => {
    expect(thrown(() => fromStoreUri(new URL('file:///srv/models?stalelockms=1'))).message).toBe('unknown option "stalelockms" for file:// URIs (known: staleLockMs)');
    expect(thrown(() => fromStoreUri(new URL('file:///srv/models?staleLockMs=soon')))).toBeInstanceOf(InvalidArgumentError);
    expect(thrown(() => fromStoreUri(new URL('file:///srv/a%2Fb')))).toBeInstanceOf(InvalidArgumentError);
  });

  it('MODEL_STORE_ROOT_PREFIX is required, and resolved against the current directory', () => {
    expect(fromEnvironment({ MODEL_STORE_STORAGE: 'filesystem', MODEL_STORE_ROOT_PREFIX: 'models' })).toEqual({ root: path.resolve('models') });
    expect(fromEnvironment({ MODEL_STORE_STORAGE: 'aws-s3' })).toBeUndefined();
    for (const value of [undefined, '']) {
      const error = thrown(() => fromEnvironment({ MODEL_STORE_STORAGE: 'filesystem', MODEL_STORE_ROOT_PREFIX: value })) as StoreConfigurationError;
      expect(error).toBeInstanceOf(StoreConfigurationError);
      expect(error.message).toBe('MODEL_STORE_STORAGE=filesystem needs MODEL_STORE_ROOT_PREFIX to be set');
      expect(error.settings).toEqual(['MODEL_STORE_ROOT_PREFIX']);
    }
  });

  it('openModelStore opens the same folder from a path, a file:// URI, MODELSTORE_STORE and MODEL_STORE_*', async () => {
    const root = path.join(work, 'registry with space');
    const importer = async () => backend;
    const byPath = await openModelStore(root, { importer });
    await byPath.createModelState('production');
    for (const store of [
      await openModelStore(pathToFileURL(root).href, { importer }),
      await openModelStore(undefined, { importer, env: { MODELSTORE_STORE: root } }),
      await openModelStore(undefined, { importer, env: { MODEL_STORE_STORAGE: 'filesystem', MODEL_STORE_ROOT_PREFIX: root } }),
    ]) {
      expect(await store.listModelStates()).toEqual(['production']);
      expect(store.storage.describe('k')).toEqual(byPath.storage.describe('k'));
    }
  });
});
