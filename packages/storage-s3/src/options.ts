import { InvalidArgumentError, StoreConfigurationError, bucketBackend, optionalVariables, requireVariable, type Environment } from '@modelstore/core';
import { S3Storage, type S3StorageOptions } from './s3-storage.js';

/** Backblaze B2's default region in Python modelstore 0.0.82 (`BackblazeStorage`). */
export const defaultB2Region = 'us-west-004';

/**
 * The S3-compatible endpoint of Backblaze B2 for a region, as B2 documents it and Python
 * modelstore 0.0.82 builds it: `https://s3.<region>.backblazeb2.com` (HTTPS only).
 * @throws StoreConfigurationError when `region` is not a B2 region name (letters, digits, `-`).
 */
export function b2Endpoint(region: string = defaultB2Region): string {
  if (!/^[a-z0-9-]+$/.test(region)) throw new StoreConfigurationError(`"${region}" is not a Backblaze B2 region (like ${defaultB2Region})`, ['MODEL_STORE_B2_REGION']);
  return `https://s3.${region}.backblazeb2.com`;
}

/** Python passes these to boto3 as `endpoint_url`, or to MinIO as a host: a value without a scheme is HTTPS. */
function withScheme(endpoint: string): string {
  return /^https?:\/\//.test(endpoint) ? endpoint : `https://${endpoint}`;
}

/**
 * The `StoreBackend` of `@modelstore/storage-s3`, exported member by member as `openModelStore` imports it:
 *
 * - `uriSchemes`: `s3://bucket/prefix`.
 * - `pythonStorageNames`: `aws-s3`, `minio`, `backblaze-b2` (Python modelstore 0.0.82: `AWSStorage`, `MinIOStorage`, `BackblazeStorage`).
 * - `describeOptions`: the query options below (secrets never: credentials come from the AWS SDK's chain).
 * - `fromStoreUri`: `s3://bucket/prefix?region=eu-west-1&endpoint=http://127.0.0.1:9000&forcePathStyle=true`
 *   → `{ bucket, rootPrefix, region, endpoint, forcePathStyle }`; throws `InvalidArgumentError` for a missing bucket, an unknown
 *   option (listing `describeOptions`), a secret, or a bad value (an endpoint without `http://`/`https://`).
 * - `fromEnvironment`: Python modelstore 0.0.82's variables (each storage's `BUILD_FROM_ENVIRONMENT` and constructor);
 *   `undefined` when `MODEL_STORE_STORAGE` names another backend; throws `StoreConfigurationError` naming the variable that
 *   is missing, empty or malformed. An endpoint given with `http://` is used as is (Python's MinIO client would refuse it).
 *
 *   | `MODEL_STORE_STORAGE` | variables (required; optional) |
 *   |---|---|
 *   | `aws-s3` | `MODEL_STORE_AWS_BUCKET`; `MODEL_STORE_REGION`, `MODEL_STORE_AWS_ROOT_PREFIX` (credentials: the AWS SDK's chain) |
 *   | `minio` | `MODEL_STORE_MINIO_BUCKET`, `MINIO_ACCESS_KEY`, `MINIO_SECRET_KEY`; `MINIO_ENDPOINT` (host[:port], HTTPS; default `s3.amazonaws.com` as Python's `MinIOStorage`), `MODEL_STORE_MINIO_ROOT_PREFIX` |
 *   | `backblaze-b2` | `MODEL_STORE_B2_BUCKET`, `B2_APPLICATION_KEY_ID`, `B2_APPLICATION_KEY`; `MODEL_STORE_B2_REGION` (default `us-west-004`), `MODEL_STORE_B2_ENDPOINT` (default `https://s3.<region>.backblazeb2.com`), `MODEL_STORE_B2_ROOT_PREFIX` |
 *
 * - `createStorage`: the `S3Storage` for those options; throws `InvalidArgumentError` for an `endpoint` that is not an http:// or https:// URL.
 */
export const { uriSchemes, pythonStorageNames, describeOptions, fromStoreUri, fromEnvironment, createStorage } = bucketBackend<S3StorageOptions, S3Storage>({
  schemes: ['s3'],
  location: 'bucket',
  options: {
    region: "string: the bucket's region (default: the SDK's, else us-east-1)",
    endpoint: 'url: an S3-compatible endpoint, http:// or https://',
    forcePathStyle: 'boolean: path-style addressing, as most S3-compatible stores want',
    minio: "boolean: describe objects as Python modelstore's MinIO storage does",
    backblaze: "boolean: describe objects as Python modelstore's Backblaze B2 storage does",
    conditionalWrites: 'boolean: false for a store that ignores If-None-Match and If-Match',
    partSize: 'number: bytes per multipart part, at least 5 MiB',
    queueSize: 'number: parts uploaded at once',
    maxAttempts: 'number: attempts per request, the first included',
    idleTimeoutMs: 'number: milliseconds a request may move no bytes',
    connectTimeoutMs: 'number: milliseconds to connect',
  },
  environment: {
    'aws-s3': { required: { bucket: 'MODEL_STORE_AWS_BUCKET' }, optional: { region: 'MODEL_STORE_REGION', rootPrefix: 'MODEL_STORE_AWS_ROOT_PREFIX' } },
    minio: minioFromEnvironment,
    'backblaze-b2': b2FromEnvironment,
  },
  create(options) {
    if (options.endpoint !== undefined && !/^https?:\/\/[^/]/i.test(options.endpoint)) {
      throw new InvalidArgumentError(`endpoint "${options.endpoint}" has no http:// or https:// scheme: add one`, { argument: 'endpoint' });
    }
    return new S3Storage(options);
  },
});

function minioFromEnvironment(env: Environment): S3StorageOptions {
  const bucket = requireVariable(env, 'MODEL_STORE_MINIO_BUCKET');
  const credentials = { accessKeyId: requireVariable(env, 'MINIO_ACCESS_KEY'), secretAccessKey: requireVariable(env, 'MINIO_SECRET_KEY') };
  // Python's MinIOStorage: MINIO_ENDPOINT may be missing (then s3.amazonaws.com, secure=True); set but empty, its client fails.
  if (env.MINIO_ENDPOINT === '') {
    throw new StoreConfigurationError('MINIO_ENDPOINT is set but empty: unset it for s3.amazonaws.com, or give the server as host:port', ['MINIO_ENDPOINT']);
  }
  const endpoint = withScheme(env.MINIO_ENDPOINT ?? 's3.amazonaws.com');
  return { bucket, endpoint, forcePathStyle: true, minio: true, credentials, ...optionalVariables(env, { rootPrefix: 'MODEL_STORE_MINIO_ROOT_PREFIX' }) };
}

function b2FromEnvironment(env: Environment): S3StorageOptions {
  const bucket = requireVariable(env, 'MODEL_STORE_B2_BUCKET');
  const credentials = { accessKeyId: requireVariable(env, 'B2_APPLICATION_KEY_ID'), secretAccessKey: requireVariable(env, 'B2_APPLICATION_KEY') };
  const region = env.MODEL_STORE_B2_REGION || defaultB2Region;
  const endpoint = withScheme(env.MODEL_STORE_B2_ENDPOINT || b2Endpoint(region));
  return { bucket, region, endpoint, forcePathStyle: true, backblaze: true, credentials, ...optionalVariables(env, { rootPrefix: 'MODEL_STORE_B2_ROOT_PREFIX' }) };
}
