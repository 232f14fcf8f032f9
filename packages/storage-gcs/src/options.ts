import { requireHttpUrl, requireVariable, optionalVariables, readBucketStoreUri, storeUriOptions, type Environment, type StoreUriOption } from '@modelstore/core';
import { GcsStorage, type GcsStorageOptions } from './gcs-storage.js';

/** The URI schemes this package opens: `gs://bucket/prefix` (and `gcs://bucket/prefix`). */
export const uriSchemes: readonly string[] = ['gs', 'gcs'];

/** Python modelstore's `MODEL_STORE_STORAGE` value this package reads (0.0.82, `GoogleCloudStorage.NAME`). */
export const pythonStorageNames: readonly string[] = ['google-cloud-storage'];

/** The query options of `gs://` URIs (credentials never: they come from Application Default Credentials). */
export const describeOptions: readonly StoreUriOption[] = storeUriOptions({
  projectId: 'string: the Google Cloud project (default: from the environment)',
  apiEndpoint: 'url: another JSON API endpoint (an emulator), http:// or https://',
  anonymous: 'boolean: read a public bucket without credentials',
  resumableThreshold: 'number: bytes above which uploads are resumable',
  chunkSize: 'number: bytes per resumable chunk, a multiple of 256 KiB',
  maxAttempts: 'number: attempts per request, the first included',
  requestTimeoutMs: 'number: milliseconds a request may take',
});

/**
 * `gs://bucket/prefix?projectId=p&apiEndpoint=http://127.0.0.1:4443` → `{ bucket, rootPrefix, projectId, apiEndpoint }`.
 * @throws InvalidArgumentError for a missing bucket, an unknown option (listing `describeOptions`), a secret, or a bad
 *   value: an `apiEndpoint` without `http://` or `https://` is refused here, where the SDK would retry it for ~30 s.
 */
export function fromStoreUri(url: URL): GcsStorageOptions {
  return readBucketStoreUri(url, 'bucket', describeOptions) as GcsStorageOptions;
}

/**
 * Python modelstore 0.0.82's variables for `MODEL_STORE_STORAGE=google-cloud-storage`:
 * `MODEL_STORE_GCP_BUCKET` (required), `MODEL_STORE_GCP_PROJECT` and `MODEL_STORE_GCP_ROOT_PREFIX`
 * (optional; credentials and `STORAGE_EMULATOR_HOST` are read by the Google SDK).
 * @returns `undefined` when `MODEL_STORE_STORAGE` names another backend.
 * @throws StoreConfigurationError when `MODEL_STORE_GCP_BUCKET` is unset or empty.
 */
export function fromEnvironment(env: Environment): GcsStorageOptions | undefined {
  if (env.MODEL_STORE_STORAGE !== 'google-cloud-storage') return undefined;
  return {
    bucket: requireVariable(env, 'MODEL_STORE_GCP_BUCKET'),
    ...optionalVariables(env, { projectId: 'MODEL_STORE_GCP_PROJECT', rootPrefix: 'MODEL_STORE_GCP_ROOT_PREFIX' }),
  };
}

/**
 * The storage for options from `fromStoreUri` or `fromEnvironment`.
 * @throws InvalidArgumentError for an `apiEndpoint` without `http://` or `https://`.
 */
export function createStorage(options: GcsStorageOptions): GcsStorage {
  if (options.apiEndpoint !== undefined) requireHttpUrl('apiEndpoint', options.apiEndpoint);
  return new GcsStorage(options);
}
