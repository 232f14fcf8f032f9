import { IdempotencyStrategy, RETRYABLE_ERR_FN_DEFAULT, Storage as GoogleStorage, type ApiError, type File, type FileMetadata, type StorageOptions } from '@google-cloud/storage';
import { PreconditionFailedError } from '@modelstore/core';
import type { Body, GetOptions, ListOptions, ListResult, ObjectInfo, PutOptions, StorageLocation, StoredObject } from '@modelstore/core';
import { ScopedStorage, abortReason, bodyBytes, bodyToReadable, isTransientError, listPageSize, requiredName, storageScope, validateRange, type SdkErrors } from '@modelstore/core/storage-kit';
import { gcsErrors } from './errors.js';
import { openMedia, type MediaResponse } from './media.js';
import { resumableUpload } from './resumable.js';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export interface GcsStorageOptions {
  /** The bucket. It must exist: the storage never creates buckets. */
  bucket: string;
  /** A folder inside the bucket that holds the registry (Python modelstore's `root_prefix`). */
  rootPrefix?: string;
  /** The Google Cloud project. Default: from the environment (ADC). */
  projectId?: string;
  /** A client you configured yourself; `projectId`, `apiEndpoint` and `anonymous` are then ignored. */
  storage?: GoogleStorage;
  /** Another JSON API endpoint (an emulator, a private endpoint). */
  apiEndpoint?: string;
  /**
   * Read a public bucket without credentials, as Python modelstore's anonymous
   * client does: reads work, writes are refused by the server with a clear error.
   */
  anonymous?: boolean;
  /** Bodies larger than this (or of unknown size) use a resumable upload. Default 8 MiB. */
  resumableThreshold?: number;
  /** Resumable uploads send chunks of this size, each acknowledged before the next is read and resumed after a failure (default 8 MiB; multiple of 256 KiB). */
  chunkSize?: number;
  /**
   * Attempts per request, the first included (default 5). 408, 429, 5xx, timeouts
   * and broken connections are retried: by the SDK with exponential backoff (1 s,
   * 2 s, 4 s, ... plus jitter), and for resumable upload chunks by this library
   * (0.25 s doubling, full jitter, after asking the server where to resume). Every
   * request is retried, not only those the SDK deems idempotent: this library's
   * unconditional writes rewrite the same bytes, and its create-only and
   * compare-and-swap writes carry generation preconditions. The SDK's part is
   * ignored with `storage`.
   */
  maxAttempts?: number;
  /** A request that has not completed within this long fails, and is retried (default 60 000 ms). */
  requestTimeoutMs?: number;
}

const gcsDefaults = { maxAttempts: 5, requestTimeoutMs: 60_000 } as const;

const defaultEndpoint = 'https://storage.googleapis.com';
/**
 * The SDK's retry rule (408, 429, 5xx, resets), plus what it leaves out, by the kit's
 * table: a request that timed out (its answer stalled) or whose connection broke in
 * another way. Errors with an HTTP status are left to the SDK's rule.
 */
function isRetryable(error: ApiError): boolean {
  if (RETRYABLE_ERR_FN_DEFAULT(error)) return true;
  return typeof (error as { code?: unknown }).code !== 'number' && isTransientError(error, gcsErrors);
}

/** The kit's view of this bucket's errors: {@link gcsErrors} plus what to say when the bucket is missing or access is refused. */
function bucketErrors(bucket: string, anonymous: boolean): SdkErrors {
  return {
    ...gcsErrors,
    refusedHint: anonymous
      ? 'anonymous access is read-only and reaches only public buckets: to write, create GcsStorage without `anonymous` and with credentials'
      : 'check the credentials (GOOGLE_APPLICATION_CREDENTIALS or `gcloud auth application-default login`) and the bucket permissions',
    missingRoot: (facts) => (facts.status === 404 && /bucket does not exist/i.test(facts.message) ? `the bucket "${bucket}" does not exist. Create it, or check the bucket name and project` : undefined),
  };
}

function infoOf(key: string, metadata: FileMetadata): ObjectInfo {
  return {
    key,
    size: Number(metadata.size ?? 0),
    etag: String(metadata.generation ?? ''),
    lastModified: new Date(String(metadata.updated ?? metadata.timeCreated ?? 0)),
  };
}

/**
 * A `Storage` in a Google Cloud Storage bucket, on `@google-cloud/storage`.
 * The contract's etag is the object's generation, so compare-and-swap is
 * `ifGenerationMatch: <generation>` and create-only is `ifGenerationMatch: 0`.
 */
export class GcsStorage extends ScopedStorage {
  readonly capabilities = { conditionalWrites: true, rangeReads: true } as const;
  readonly bucket: string;
  readonly client: GoogleStorage;
  /** Upload and request settings, defaults applied. */
  private readonly transfer: { resumableThreshold: number; chunkSize: number; maxAttempts: number; requestTimeoutMs: number };

  constructor(options: GcsStorageOptions) {
    const bucket = requiredName(options, 'bucket', 'GcsStorage needs a bucket: new GcsStorage({ bucket: "my-models" })');
    const anonymous = options.anonymous ?? false;
    super(storageScope({ rootPrefix: options.rootPrefix, errors: bucketErrors(bucket, anonymous), location: (name) => `gs://${bucket}/${name}` }));
    this.bucket = bucket;
    const clientOptions: StorageOptions = {
      retryOptions: {
        autoRetry: true,
        maxRetries: Math.max(0, (options.maxAttempts ?? gcsDefaults.maxAttempts) - 1),
        idempotencyStrategy: IdempotencyStrategy.RetryAlways,
        retryableErrorFn: isRetryable,
      },
      timeout: options.requestTimeoutMs ?? gcsDefaults.requestTimeoutMs,
      ...(options.projectId === undefined ? {} : { projectId: options.projectId }),
      ...(options.apiEndpoint === undefined ? {} : { apiEndpoint: options.apiEndpoint }),
    };
    if (anonymous) {
      // The SDK sends no credentials to an endpoint it treats as custom (useAuthWithCustomEndpoint
      // defaults to false); naming GCS's own host with its port makes it one.
      clientOptions.apiEndpoint = options.apiEndpoint ?? `${defaultEndpoint}:443`;
      clientOptions.projectId ??= 'anonymous';
      clientOptions.useAuthWithCustomEndpoint = false;
    }
    this.client = options.storage ?? newClient(clientOptions);
    this.transfer = {
      resumableThreshold: options.resumableThreshold ?? 8 * 1024 * 1024,
      chunkSize: options.chunkSize ?? 8 * 1024 * 1024,
      maxAttempts: Math.max(1, options.maxAttempts ?? gcsDefaults.maxAttempts),
      requestTimeoutMs: options.requestTimeoutMs ?? gcsDefaults.requestTimeoutMs,
    };
  }

  describe(key: string): StorageLocation {
    return { type: 'google:cloud-storage', bucket: this.bucket, prefix: this.scope.name(key) };
  }

  async put(key: string, body: Body, options: PutOptions = {}): Promise<ObjectInfo> {
    const file = this.file(key);
    const { signal } = options;
    signal?.throwIfAborted();
    let ifGenerationMatch: number | undefined;
    if (options.ifNoneMatch === '*') ifGenerationMatch = 0;
    if (options.ifMatch !== undefined) {
      // Not a generation of ours: it cannot match any version.
      if (!/^[1-9]\d*$/.test(options.ifMatch)) throw new PreconditionFailedError(key);
      ifGenerationMatch = Number(options.ifMatch);
    }
    const preconditionOpts = ifGenerationMatch === undefined ? {} : { preconditionOpts: { ifGenerationMatch } };
    const contentType = options.contentType === undefined ? {} : { contentType: options.contentType };
    try {
      const bytes = bodyBytes(body);
      if (bytes !== undefined && bytes.length <= this.transfer.resumableThreshold) {
        await file.save(bytes, { resumable: false, validation: 'crc32c', ...contentType, ...preconditionOpts });
        options.onProgress?.(bytes.length);
      } else {
        const stored = await resumableUpload(bodyToReadable(body), {
          client: this.client,
          file,
          chunkSize: this.transfer.chunkSize,
          maxAttempts: this.transfer.maxAttempts,
          requestTimeoutMs: this.transfer.requestTimeoutMs,
          ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
          ...(ifGenerationMatch === undefined ? {} : { ifGenerationMatch }),
          ...(signal ? { signal } : {}),
          ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        });
        return infoOf(key, stored);
      }
      if (signal?.aborted) throw abortReason(signal);
      return infoOf(key, file.metadata);
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      throw this.scope.error('write', key, error);
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<StoredObject | undefined> {
    validateRange(key, options.range);
    options.signal?.throwIfAborted();
    const range = options.range;
    const { signal } = options;
    const name = this.scope.name(key);
    // One request: the object's generation and size come from the media response's
    // headers, so what is described is exactly what is read, even under concurrent writes.
    const opened = await this.scope.run(
      'read',
      key,
      () => this.open(name, range, undefined, signal),
      () => undefined,
    );
    if (!opened) return undefined;
    const { header } = opened;
    const size = Number(header('x-goog-stored-content-length') ?? header('content-range')?.split('/')[1] ?? header('content-length') ?? 0);
    const generation = String(header('x-goog-generation') ?? '');
    // A read cut off part-way resumes from where it stopped, on the same generation.
    const reopen = async (from: number, to: number) => (await this.open(name, { start: from, end: to }, generation, signal)).body;
    const body = this.scope.resumingRead(key, opened.body, { size, range, reopen, idleTimeoutMs: this.transfer.requestTimeoutMs, signal });
    return { key, size, etag: generation, lastModified: new Date(header('last-modified') ?? 0), body };
  }

  /** Starts a media download and waits for its response headers (retried as every request is). */
  private open(name: string, range: { start: number; end?: number } | undefined, generation: string | undefined, signal: AbortSignal | undefined): Promise<MediaResponse> {
    return openMedia({
      client: this.client,
      bucket: this.bucket,
      name,
      maxAttempts: this.transfer.maxAttempts,
      requestTimeoutMs: this.transfer.requestTimeoutMs,
      ...(range ? { range } : {}),
      ...(generation === undefined || generation === '' ? {} : { generation }),
      ...(signal ? { signal } : {}),
    });
  }

  /**
   * Checks once that the API endpoint's host resolves. The SDK retries a request that got
   * no answer whatever `retryableErrorFn` says (about 30 s at five attempts), and a host that
   * does not resolve will not resolve on the next attempt either: this fails it at once
   * (ENOTFOUND, not retryable). A success is remembered; a literal address needs no lookup.
   */
  private async hostResolves(): Promise<void> {
    if (this.resolved) return;
    const host = new URL(this.client.apiEndpoint).hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) === 0) await lookup(host);
    this.resolved = true;
  }

  private resolved = false;

  /**
   * One call on the object at `key` (its name validated first): `action` on its `File` once
   * the endpoint's host resolves, with `scope.run`'s error mapping (`ifMissing()` for a not-found answer).
   */
  private onFile<T>(operation: string, key: string, action: (file: File) => Promise<T>, ifMissing: () => T): Promise<T> {
    const file = this.file(key);
    const run = async () => {
      await this.hostResolves();
      return action(file);
    };
    return this.scope.run(operation, key, run, ifMissing);
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    return this.onFile(
      'head',
      key,
      async (file) => infoOf(key, (await file.getMetadata())[0]),
      () => undefined,
    );
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const fullPrefix = this.scope.prefix(prefix);
    return this.scope.run('list', prefix, async () => {
      await this.hostResolves();
      const page = { maxResults: listPageSize(options.limit), ...(options.cursor === undefined ? {} : { pageToken: options.cursor }) };
      const [files, next] = await this.client.bucket(this.bucket).getFiles({ prefix: fullPrefix, autoPaginate: false, ...page });
      const objects = files.map((file) => infoOf(this.scope.key(file.name), file.metadata));
      const cursor = (next as { pageToken?: string } | null | undefined)?.pageToken;
      return cursor ? { objects, cursor } : { objects };
    });
  }

  async delete(key: string): Promise<boolean> {
    const deleted = async (file: File) => {
      await file.delete();
      return true;
    };
    return this.onFile('delete', key, deleted, () => false);
  }

  private file(key: string): File {
    return this.client.bucket(this.bucket).file(this.scope.name(key));
  }
}

/**
 * The SDK's client. STORAGE_EMULATOR_HOST (Python modelstore's and the Python client's
 * way to name an emulator: `http://127.0.0.1:4443`) is honoured the way the Python client
 * honours it: as the JSON API's root, for every request. The Node SDK on its own takes the
 * variable as its whole base URL for metadata requests (so it wants `.../storage/v1`) but
 * sends uploads to `<variable>/upload/storage/v1`: no one value worked for both. Both forms
 * are accepted here; an explicit `apiEndpoint` wins over the variable.
 */
function newClient(clientOptions: StorageOptions): GoogleStorage {
  const emulator = process.env.STORAGE_EMULATOR_HOST;
  if (!emulator || clientOptions.apiEndpoint !== undefined) return new GoogleStorage(clientOptions);
  const root = (/^https?:\/\//.test(emulator) ? emulator : `http://${emulator}`).replace(/\/+$/, '').replace(/\/storage\/v1$/, '');
  // The SDK reads the variable in its constructor (synchronously): hide it for that call only.
  delete process.env.STORAGE_EMULATOR_HOST;
  try {
    return new GoogleStorage({ ...clientOptions, apiEndpoint: root });
  } finally {
    process.env.STORAGE_EMULATOR_HOST = emulator;
  }
}
