import { StoreConfigurationError, readStoreUriOptions, requireVariable, storeUriLocation, type Environment, type StoreUriOption } from '@modelstore/core';
import { AzureBlobStorage, type AzureBlobStorageOptions } from './azure-blob-storage.js';

/** The URI scheme this package opens: `azure://container/prefix`. */
export const uriSchemes: readonly string[] = ['azure'];

/** Python modelstore's `MODEL_STORE_STORAGE` value this package reads (0.0.82, `AzureBlobStorage.NAME`). */
export const pythonStorageNames: readonly string[] = ['azure-container'];

/** The query options of `azure://` URIs (the connection string never: it comes from `AZURE_STORAGE_CONNECTION_STRING`). */
export const describeOptions: readonly StoreUriOption[] = [
  { name: 'blockSize', type: 'number', description: 'bytes per block of streamed uploads' },
  { name: 'concurrency', type: 'number', description: 'blocks uploaded at once' },
  { name: 'maxAttempts', type: 'number', description: 'attempts per request, the first included' },
  { name: 'retryDelayMs', type: 'number', description: 'milliseconds before the first retry' },
  { name: 'idleTimeoutMs', type: 'number', description: 'milliseconds a connection may move no bytes' },
];

/**
 * `azure://container/prefix?blockSize=4194304` → `{ container, rootPrefix, blockSize }`.
 * @throws InvalidArgumentError for a missing container, an unknown option (listing `describeOptions`), a secret, or a bad value.
 */
export function fromStoreUri(url: URL): AzureBlobStorageOptions {
  const { name, prefix } = storeUriLocation(url, 'container');
  const options = readStoreUriOptions(url, describeOptions) as Partial<AzureBlobStorageOptions>;
  return { ...options, container: name, ...(prefix ? { rootPrefix: prefix } : {}) };
}

/**
 * Python modelstore 0.0.82's variables for `MODEL_STORE_STORAGE=azure-container`:
 * `MODEL_STORE_AZURE_CONTAINER` (required), `MODEL_STORE_AZURE_ROOT_PREFIX` (optional); the
 * connection string is `AZURE_STORAGE_CONNECTION_STRING` of the same variables, as Python's `AzureBlobStorage` reads it.
 * @returns `undefined` when `MODEL_STORE_STORAGE` names another backend.
 * @throws StoreConfigurationError when `MODEL_STORE_AZURE_CONTAINER` is unset or empty.
 */
export function fromEnvironment(env: Environment): AzureBlobStorageOptions | undefined {
  if (env.MODEL_STORE_STORAGE !== 'azure-container') return undefined;
  return {
    container: requireVariable(env, 'MODEL_STORE_AZURE_CONTAINER'),
    ...(env.MODEL_STORE_AZURE_ROOT_PREFIX ? { rootPrefix: env.MODEL_STORE_AZURE_ROOT_PREFIX } : {}),
    ...(env.AZURE_STORAGE_CONNECTION_STRING ? { connectionString: env.AZURE_STORAGE_CONNECTION_STRING } : {}),
  };
}

/**
 * The storage for options from `fromStoreUri` or `fromEnvironment`.
 * @throws StoreConfigurationError when neither the options nor `AZURE_STORAGE_CONNECTION_STRING` give a connection string.
 */
export function createStorage(options: AzureBlobStorageOptions): AzureBlobStorage {
  if (options.client === undefined && !options.connectionString && !process.env.AZURE_STORAGE_CONNECTION_STRING) {
    throw new StoreConfigurationError('azure:// stores need a connection string: set AZURE_STORAGE_CONNECTION_STRING (as Python modelstore reads it), or create AzureBlobStorage with a client built with a credential', [
      'AZURE_STORAGE_CONNECTION_STRING',
    ]);
  }
  return new AzureBlobStorage(options);
}
