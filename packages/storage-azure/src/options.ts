import { StoreConfigurationError, bucketBackend } from '@modelstore/core';
import { AzureBlobStorage, type AzureBlobStorageOptions } from './azure-blob-storage.js';

/**
 * The `StoreBackend` of `@modelstore/storage-azure`, exported member by member as `openModelStore` imports it:
 *
 * - `uriSchemes`: `azure://container/prefix`.
 * - `pythonStorageNames`: `azure-container` (Python modelstore 0.0.82, `AzureBlobStorage.NAME`).
 * - `describeOptions`: the query options below. Secrets never: the connection string comes from
 *   `AZURE_STORAGE_CONNECTION_STRING`, a SAS token from `AZURE_STORAGE_SAS_TOKEN`. With `account` (or `endpoint`)
 *   the credential is the SAS token if one is set, else Microsoft Entra ID (`@azure/identity`'s `DefaultAzureCredential`).
 * - `fromStoreUri`: `azure://container/prefix?account=myaccount&blockSize=4194304` → `{ container, rootPrefix, account, blockSize }`;
 *   throws `InvalidArgumentError` for a missing container, an unknown option (listing `describeOptions`), a secret, or a bad value.
 * - `fromEnvironment`: Python modelstore 0.0.82's variables for `MODEL_STORE_STORAGE=azure-container`:
 *   `MODEL_STORE_AZURE_CONTAINER` (required), `MODEL_STORE_AZURE_ROOT_PREFIX` (optional); the connection string is
 *   `AZURE_STORAGE_CONNECTION_STRING` of the same variables, as Python's `AzureBlobStorage` reads it; `undefined` when
 *   `MODEL_STORE_STORAGE` names another backend; throws `StoreConfigurationError` when `MODEL_STORE_AZURE_CONTAINER` is unset or empty.
 * - `createStorage`: the `AzureBlobStorage` for those options; throws `StoreConfigurationError` when there is neither an
 *   `account` / `endpoint` nor a connection string (options or `AZURE_STORAGE_CONNECTION_STRING`), and `MissingDependencyError`
 *   when `account` needs Microsoft Entra ID and `@azure/identity` is not installed.
 */
export const { uriSchemes, pythonStorageNames, describeOptions, fromStoreUri, fromEnvironment, createStorage } = bucketBackend<AzureBlobStorageOptions, AzureBlobStorage>({
  schemes: ['azure'],
  location: 'container',
  options: {
    account: 'string: the storage account (https://<account>.blob.core.windows.net), signed in with AZURE_STORAGE_SAS_TOKEN or Microsoft Entra ID',
    endpoint: 'url: the blob service URL, for other clouds and Azurite (instead of account)',
    blockSize: 'number: bytes per block of streamed uploads',
    concurrency: 'number: blocks uploaded at once',
    maxAttempts: 'number: attempts per request, the first included',
    retryDelayMs: 'number: milliseconds before the first retry',
    idleTimeoutMs: 'number: milliseconds a connection may move no bytes',
  },
  environment: {
    'azure-container': { required: { container: 'MODEL_STORE_AZURE_CONTAINER' }, optional: { rootPrefix: 'MODEL_STORE_AZURE_ROOT_PREFIX', connectionString: 'AZURE_STORAGE_CONNECTION_STRING' } },
  },
  create(options) {
    const byAccount = options.account !== undefined || options.endpoint !== undefined;
    if (options.client === undefined && !byAccount && !options.connectionString && !process.env.AZURE_STORAGE_CONNECTION_STRING) {
      throw new StoreConfigurationError(
        'azure:// stores need a connection string or an account: set AZURE_STORAGE_CONNECTION_STRING (as Python modelstore reads it), or name the account (azure://container/prefix?account=<name>) to sign in with AZURE_STORAGE_SAS_TOKEN or Microsoft Entra ID (@azure/identity)',
        ['AZURE_STORAGE_CONNECTION_STRING'],
      );
    }
    return new AzureBlobStorage(options);
  },
});
