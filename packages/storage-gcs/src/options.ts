import { bucketBackend, requireHttpUrl } from '@modelstore/core';
import { GcsStorage, type GcsStorageOptions } from './gcs-storage.js';

/**
 * The `StoreBackend` of `@modelstore/storage-gcs`, exported member by member as `openModelStore` imports it:
 *
 * - `uriSchemes`: `gs://bucket/prefix` (and `gcs://bucket/prefix`).
 * - `pythonStorageNames`: `google-cloud-storage` (Python modelstore 0.0.82, `GoogleCloudStorage.NAME`).
 * - `describeOptions`: the query options below (credentials never: they come from Application Default Credentials).
 * - `fromStoreUri`: `gs://bucket/prefix?projectId=p&apiEndpoint=http://127.0.0.1:4443` → `{ bucket, rootPrefix, projectId, apiEndpoint }`;
 *   throws `InvalidArgumentError` for a missing bucket, an unknown option (listing `describeOptions`), a secret, or a bad
 *   value: an `apiEndpoint` without `http://` or `https://` is refused here, where the SDK would retry it for ~30 s.
 * - `fromEnvironment`: Python modelstore 0.0.82's variables for `MODEL_STORE_STORAGE=google-cloud-storage`:
 *   `MODEL_STORE_GCP_BUCKET` (required), `MODEL_STORE_GCP_PROJECT` and `MODEL_STORE_GCP_ROOT_PREFIX` (optional; credentials
 *   and `STORAGE_EMULATOR_HOST` are read by the Google SDK); `undefined` when `MODEL_STORE_STORAGE` names another backend;
 *   throws `StoreConfigurationError` when `MODEL_STORE_GCP_BUCKET` is unset or empty.
 * - `createStorage`: the `GcsStorage` for those options; throws `InvalidArgumentError` for an `apiEndpoint` without `http://` or `https://`.
 */
export const { uriSchemes, pythonStorageNames, describeOptions, fromStoreUri, fromEnvironment, createStorage } = bucketBackend<GcsStorageOptions, GcsStorage>({
  schemes: ['gs', 'gcs'],
  location: 'bucket',
  options: {
    projectId: 'string: the Google Cloud project (default: from the environment)',
    apiEndpoint: 'url: another JSON API endpoint (an emulator), http:// or https://',
    anonymous: 'boolean: read a public bucket without credentials',
    resumableThreshold: 'number: bytes above which uploads are resumable',
    chunkSize: 'number: bytes per resumable chunk, a multiple of 256 KiB',
    maxAttempts: 'number: attempts per request, the first included',
    requestTimeoutMs: 'number: milliseconds a request may take',
  },
  environment: {
    'google-cloud-storage': { required: { bucket: 'MODEL_STORE_GCP_BUCKET' }, optional: { projectId: 'MODEL_STORE_GCP_PROJECT', rootPrefix: 'MODEL_STORE_GCP_ROOT_PREFIX' } },
  },
  create(options) {
    if (options.apiEndpoint !== undefined) requireHttpUrl('apiEndpoint', options.apiEndpoint);
    return new GcsStorage(options);
  },
});
