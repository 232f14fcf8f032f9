import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ModelAdapter } from './adapter.js';
import { ModelStoreError } from './errors.js';
import { ModelStore } from './model-store.js';
import type { Storage } from './storage.js';

export interface OpenModelStoreOptions {
  adapters?: ModelAdapter[];
  /** Passed to `ModelStore`. */
  cacheDir?: string;
  /** Passed to `ModelStore` (default `true`): check once, before the first write, that a store claiming conditional writes honours them. */
  checkConditionalWrites?: boolean;
  /** Variables to read when `target` is omitted (default `process.env`). */
  env?: Record<string, string | undefined>;
  /**
   * Imports a backend package by name. By default it is resolved from this package
   * and then from the current directory; a tool that bundles its own backends (the
   * CLI) passes `(name) => import(name)` so they resolve from it.
   */
  importer?: (name: string) => Promise<unknown>;
}

/** What a target names: a backend package and the options for its class. */
export interface StorageTarget {
  package: string;
  className: string;
  options: Record<string, unknown>;
}

const booleans = new Set(['forcePathStyle', 'minio', 'backblaze', 'anonymous', 'conditionalWrites']);
const numbers = new Set(['partSize', 'queueSize', 'chunkSize', 'resumableThreshold', 'blockSize', 'concurrency', 'staleLockMs']);

function queryOptions(url: URL): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const [name, value] of url.searchParams) {
    if (name === 'connectionString' || name === 'credentials' || /secret|key/i.test(name)) {
      throw new ModelStoreError(`Store URIs do not carry secrets ("${name}"): use the backend's environment variables or credential chain`);
    }
    options[name] = booleans.has(name) ? value === 'true' || value === '1' : numbers.has(name) ? Number(value) : value;
  }
  return options;
}

function prefixOf(url: URL): string | undefined {
  const prefix = decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, '');
  return prefix === '' ? undefined : prefix;
}

/**
 * Reads a store URI: `file:///abs/path` or a plain path, `s3://bucket/prefix`,
 * `gs://bucket/prefix`, `azure://container/prefix`, with backend options as query
 * parameters (`?region=eu-west-1&endpoint=http://minio:9000&forcePathStyle=true`).
 */
export function parseStoreUri(target: string): StorageTarget {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    return { package: '@modelstore/storage-fs', className: 'FileSystemStorage', options: { root: path.resolve(target) } };
  }
  const url = new URL(target);
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  const name = decodeURIComponent(url.hostname || url.host);
  const prefix = prefixOf(url);
  const options = queryOptions(url);
  switch (scheme) {
    case 'file':
      if (url.host !== '' && url.host !== 'localhost') throw new ModelStoreError(`file:// URIs name a local path: file:///absolute/path (got host "${url.host}")`);
      return { package: '@modelstore/storage-fs', className: 'FileSystemStorage', options: { ...options, root: decodeURIComponent(url.pathname) } };
    case 's3':
      return { package: '@modelstore/storage-s3', className: 'S3Storage', options: { ...options, bucket: name, ...(prefix ? { rootPrefix: prefix } : {}) } };
    case 'gs':
    case 'gcs':
      return { package: '@modelstore/storage-gcs', className: 'GcsStorage', options: { ...options, bucket: name, ...(prefix ? { rootPrefix: prefix } : {}) } };
    case 'azure':
      return { package: '@modelstore/storage-azure', className: 'AzureBlobStorage', options: { ...options, container: name, ...(prefix ? { rootPrefix: prefix } : {}) } };
    default:
      throw new ModelStoreError(`Unknown store URI scheme "${scheme}://": use file://, s3://, gs:// or azure://`);
  }
}

/** Backblaze B2's default region in Python modelstore 0.0.82 (`BackblazeStorage`). */
export const defaultB2Region = 'us-west-004';

/**
 * The S3-compatible endpoint of Backblaze B2 for a region, as B2 documents it and Python
 * modelstore 0.0.82 builds it: `https://s3.<region>.backblazeb2.com` (HTTPS only).
 */
export function b2Endpoint(region: string = defaultB2Region): string {
  if (!/^[a-z0-9-]+$/.test(region)) throw new ModelStoreError(`"${region}" is not a Backblaze B2 region (like ${defaultB2Region})`);
  return `https://s3.${region}.backblazeb2.com`;
}

/**
 * Reads Python modelstore's environment variables (`MODEL_STORE_STORAGE` and the
 * variables of that backend, as `modelstore.utils.cli.model_store_from_env` and each
 * storage's constructor read them in 0.0.82), so a deployment configured for Python
 * opens the same registry here.
 *
 * | `MODEL_STORE_STORAGE` | variables (required; optional) |
 * |---|---|
 * | `filesystem` | `MODEL_STORE_ROOT_PREFIX` |
 * | `aws-s3` | `MODEL_STORE_AWS_BUCKET`; `MODEL_STORE_REGION`, `MODEL_STORE_AWS_ROOT_PREFIX` (credentials: the AWS SDK's chain) |
 * | `google-cloud-storage` | `MODEL_STORE_GCP_BUCKET`; `MODEL_STORE_GCP_PROJECT`, `MODEL_STORE_GCP_ROOT_PREFIX` |
 * | `azure-container` | `MODEL_STORE_AZURE_CONTAINER`; `MODEL_STORE_AZURE_ROOT_PREFIX` (credentials: `AZURE_STORAGE_CONNECTION_STRING`, ...) |
 * | `minio` | `MODEL_STORE_MINIO_BUCKET`, `MINIO_ACCESS_KEY`, `MINIO_SECRET_KEY`; `MINIO_ENDPOINT` (default `s3.amazonaws.com`, HTTPS), `MODEL_STORE_MINIO_ROOT_PREFIX` |
 * | `backblaze-b2` (0.0.82+) | `MODEL_STORE_B2_BUCKET`, `B2_APPLICATION_KEY_ID`, `B2_APPLICATION_KEY`; `MODEL_STORE_B2_REGION` (default `us-west-004`), `MODEL_STORE_B2_ENDPOINT` (default `https://s3.<region>.backblazeb2.com`), `MODEL_STORE_B2_ROOT_PREFIX` |
 *
 * @throws ModelStoreError when `MODEL_STORE_STORAGE` is missing or unknown, or a required variable is unset.
 */
export function storeTargetFromEnv(env: Record<string, string | undefined> = process.env): StorageTarget {
  const kind = env.MODEL_STORE_STORAGE;
  const required = (name: string) => {
    const value = env[name];
    if (!value) throw new ModelStoreError(`MODEL_STORE_STORAGE=${kind} needs ${name} to be set`);
    return value;
  };
  const prefix = (name: string) => (env[name] ? { rootPrefix: env[name] } : {});
  switch (kind) {
    case 'filesystem':
      return { package: '@modelstore/storage-fs', className: 'FileSystemStorage', options: { root: path.resolve(required('MODEL_STORE_ROOT_PREFIX')) } };
    case 'aws-s3':
      return {
        package: '@modelstore/storage-s3',
        className: 'S3Storage',
        options: { bucket: required('MODEL_STORE_AWS_BUCKET'), ...(env.MODEL_STORE_REGION ? { region: env.MODEL_STORE_REGION } : {}), ...prefix('MODEL_STORE_AWS_ROOT_PREFIX') },
      };
    case 'google-cloud-storage':
      return {
        package: '@modelstore/storage-gcs',
        className: 'GcsStorage',
        options: { bucket: required('MODEL_STORE_GCP_BUCKET'), ...(env.MODEL_STORE_GCP_PROJECT ? { projectId: env.MODEL_STORE_GCP_PROJECT } : {}), ...prefix('MODEL_STORE_GCP_ROOT_PREFIX') },
      };
    case 'azure-container':
      return { package: '@modelstore/storage-azure', className: 'AzureBlobStorage', options: { container: required('MODEL_STORE_AZURE_CONTAINER'), ...prefix('MODEL_STORE_AZURE_ROOT_PREFIX') } };
    case 'minio': {
      // Python's MinIOStorage defaults to s3.amazonaws.com (secure) when MINIO_ENDPOINT is unset.
      const endpoint = env.MINIO_ENDPOINT || 's3.amazonaws.com';
      return {
        package: '@modelstore/storage-s3',
        className: 'S3Storage',
        options: {
          bucket: required('MODEL_STORE_MINIO_BUCKET'),
          endpoint: /^https?:\/\//.test(endpoint) ? endpoint : `https://${endpoint}`,
          forcePathStyle: true,
          minio: true,
          credentials: { accessKeyId: required('MINIO_ACCESS_KEY'), secretAccessKey: required('MINIO_SECRET_KEY') },
          ...prefix('MODEL_STORE_MINIO_ROOT_PREFIX'),
        },
      };
    }
    case 'backblaze-b2': {
      const bucket = required('MODEL_STORE_B2_BUCKET');
      const credentials = { accessKeyId: required('B2_APPLICATION_KEY_ID'), secretAccessKey: required('B2_APPLICATION_KEY') };
      const region = env.MODEL_STORE_B2_REGION || defaultB2Region;
      const endpoint = env.MODEL_STORE_B2_ENDPOINT || b2Endpoint(region);
      return {
        package: '@modelstore/storage-s3',
        className: 'S3Storage',
        options: {
          bucket,
          region,
          // Python passes the value to boto3 as endpoint_url, which must carry its scheme.
          endpoint: /^https?:\/\//.test(endpoint) ? endpoint : `https://${endpoint}`,
          forcePathStyle: true,
          backblaze: true,
          credentials,
          ...prefix('MODEL_STORE_B2_ROOT_PREFIX'),
        },
      };
    }
    case undefined:
    case '':
      throw new ModelStoreError('No store given: pass a URI (file:///path, s3://bucket/prefix, gs://bucket/prefix, azure://container/prefix) or set MODEL_STORE_STORAGE as for Python modelstore');
    default:
      throw new ModelStoreError(`MODEL_STORE_STORAGE="${kind}" is not one of filesystem, aws-s3, google-cloud-storage, azure-container, minio, backblaze-b2`);
  }
}

async function defaultImporter(name: string): Promise<unknown> {
  try {
    return await import(name);
  } catch (first) {
    // Installed in the application rather than beside this package (workspaces, global installs).
    try {
      const resolved = createRequire(path.join(process.cwd(), 'package.json')).resolve(name);
      return await import(pathToFileURL(resolved).href);
    } catch {
      throw first;
    }
  }
}

/** Creates the `Storage` a target names, importing its backend package on demand. */
export async function openStorage(target: StorageTarget, importer: (name: string) => Promise<unknown> = defaultImporter): Promise<Storage> {
  let module: Record<string, unknown>;
  try {
    module = (await importer(target.package)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new ModelStoreError(`This store needs ${target.package}: npm install ${target.package}`, 'MODELSTORE_ERROR', { cause: error });
    }
    throw error;
  }
  const StorageClass = module[target.className] as (new (options: Record<string, unknown>) => Storage) | undefined;
  if (typeof StorageClass !== 'function') throw new ModelStoreError(`${target.package} does not export ${target.className}: install a version that matches @modelstore/core`);
  return new StorageClass(target.options);
}

/**
 * Opens a registry from a URI, or from Python modelstore's `MODEL_STORE_*`
 * environment variables when `target` is omitted, so the same code reads a folder
 * on a laptop and a bucket in production.
 */
export async function openModelStore(target?: string, options: OpenModelStoreOptions = {}): Promise<ModelStore> {
  const storageTarget = target === undefined || target === '' ? storeTargetFromEnv(options.env ?? process.env) : parseStoreUri(target);
  const storage = await openStorage(storageTarget, options.importer);
  return new ModelStore({
    storage,
    adapters: options.adapters ?? [],
    ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
    ...(options.checkConditionalWrites === undefined ? {} : { checkConditionalWrites: options.checkConditionalWrites }),
  });
}
