import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  PreconditionFailedError,
  StorageError,
  abortReason,
  bodyToReadable,
  bodyBytes,
  resumingBody,
  validateKey,
  validatePrefix,
  validateRange,
  type Body,
  type GetOptions,
  type ListOptions,
  type ListResult,
  type ObjectInfo,
  type PutOptions,
  type Storage,
  type StorageLocation,
  type StoredObject,
  InvalidOptionError,
} from '@modelstore/core';
import { Readable } from 'node:stream';

export interface S3StorageOptions {
  /** The bucket. It must exist: the storage never creates buckets. */
  bucket: string;
  /** A folder inside the bucket that holds the registry (Python modelstore's `root_prefix`). */
  rootPrefix?: string;
  /** Default: the SDK's (`AWS_REGION`, profile), else `us-east-1`. */
  region?: string;
  /** For S3-compatible stores: `https://minio.example.com:9000`, an R2 endpoint, ... */
  endpoint?: string;
  /** Path-style addressing (`endpoint/bucket/key`), which most S3-compatible stores want. */
  forcePathStyle?: boolean;
  /** Default: the SDK's credential chain (environment, profile, instance role). */
  credentials?: S3ClientConfig['credentials'];
  /** A client you configured yourself; `region`, `endpoint`, `forcePathStyle` and `credentials` are then ignored. */
  client?: S3Client;
  /** Size of multipart upload parts in bytes (default 8 MiB, at least 5 MiB). Bodies up to one part use a single PUT. */
  partSize?: number;
  /** Parts uploaded at once (default 4). Memory held by an upload is about `partSize * (queueSize + 1)`. */
  queueSize?: number;
  /**
   * Whether the store honours `If-None-Match: *` and `If-Match` on PUT and on
   * CompleteMultipartUpload (AWS S3 and recent MinIO and R2 do). Set `false` for a
   * store that ignores them: writes then become unconditional, and concurrent
   * writers of the same model id or of a domain's latest pointer can overwrite
   * each other without an error (last writer wins). Default `true`.
   */
  conditionalWrites?: boolean;
  /** Describe objects as Python modelstore's MinIO storage does (`type: "minio:<endpoint>"`). */
  minio?: boolean;
  /**
   * Describe objects as Python modelstore's Backblaze B2 storage does (`type: "backblaze:b2"`,
   * modelstore 0.0.82+). Use with B2's S3-compatible endpoint, `https://s3.<region>.backblazeb2.com`.
   */
  backblaze?: boolean;
  /**
   * Attempts per request, the first included (default 5). The SDK retries 5xx
   * answers, throttling, timeouts and broken connections, with exponential backoff
   * and jitter. Ignored with `client`.
   */
  maxAttempts?: number;
  /** A request that moves no bytes for this long fails, and is retried (default 60 000 ms). Ignored with `client`. */
  idleTimeoutMs?: number;
  /** Connecting to the endpoint fails, and is retried, after this long (default 10 000 ms). Ignored with `client`. */
  connectTimeoutMs?: number;
}

/** Default attempts per request, and timeouts: a stalled connection is retried instead of hanging forever. */
const s3Defaults = { maxAttempts: 5, idleTimeoutMs: 60_000, connectTimeoutMs: 10_000 } as const;

const retryableCodes = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'RequestTimeout', 'RequestTimeTooSkewed', 'InternalError', 'ServiceUnavailable']);
const networkCodes = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'TimeoutError']);

function isAbort(error: unknown): boolean {
  return (error as { name?: string } | undefined)?.name === 'AbortError';
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/**
 * A `Storage` in an S3 bucket or an S3-compatible store, on the AWS SDK v3.
 * Large bodies stream as multipart uploads (`@aws-sdk/lib-storage`), reads stream,
 * and create-only / compare-and-swap writes use S3's conditional requests.
 */
export class S3Storage implements Storage {
  readonly specificationVersion = 'v1' as const;
  readonly capabilities: { readonly conditionalWrites: boolean; readonly rangeReads: true };
  readonly bucket: string;
  readonly rootPrefix: string;
  readonly client: S3Client;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly minioEndpoint: string | undefined;
  private readonly backblaze: boolean;
  private readonly idleTimeoutMs: number;

  constructor(options: S3StorageOptions) {
    if (!options || typeof options.bucket !== 'string' || options.bucket === '') {
      throw new InvalidOptionError('bucket', 'S3Storage needs a bucket: new S3Storage({ bucket: "my-models" })');
    }
    this.bucket = options.bucket;
    this.rootPrefix = (options.rootPrefix ?? '').replace(/^\/+|\/+$/g, '');
    if (this.rootPrefix !== '') validatePrefix(`${this.rootPrefix}/`);
    this.client =
      options.client ??
      new S3Client({
        region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
        ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
        ...(options.forcePathStyle === undefined ? {} : { forcePathStyle: options.forcePathStyle }),
        ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
        maxAttempts: options.maxAttempts ?? s3Defaults.maxAttempts,
        requestHandler: {
          connectionTimeout: options.connectTimeoutMs ?? s3Defaults.connectTimeoutMs,
          socketTimeout: options.idleTimeoutMs ?? s3Defaults.idleTimeoutMs,
        },
      });
    this.partSize = Math.max(5 * 1024 * 1024, options.partSize ?? 8 * 1024 * 1024);
    this.queueSize = Math.max(1, options.queueSize ?? 4);
    this.capabilities = { conditionalWrites: options.conditionalWrites ?? true, rangeReads: true };
    this.minioEndpoint = options.minio ? (options.endpoint ?? 'unknown') : undefined;
    this.backblaze = options.backblaze === true;
    if (this.backblaze && this.minioEndpoint !== undefined) throw new InvalidOptionError('backblaze', 'S3Storage: `minio` and `backblaze` describe different stores; set one of them');
    this.idleTimeoutMs = options.idleTimeoutMs ?? s3Defaults.idleTimeoutMs;
  }

  describe(key: string): StorageLocation {
    const type = this.backblaze ? 'backblaze:b2' : this.minioEndpoint === undefined ? 'aws:s3' : `minio:${this.minioEndpoint.replace(/^https?:\/\//, '')}`;
    return { type, bucket: this.bucket, prefix: this.fullKey(key) };
  }

  async put(key: string, body: Body, options: PutOptions = {}): Promise<ObjectInfo> {
    const Key = this.fullKey(key);
    const { signal } = options;
    signal?.throwIfAborted();
    const conditions = this.capabilities.conditionalWrites
      ? { ...(options.ifNoneMatch === '*' ? { IfNoneMatch: '*' } : {}), ...(options.ifMatch !== undefined ? { IfMatch: options.ifMatch } : {}) }
      : {};
    const contentType = options.contentType === undefined ? {} : { ContentType: options.contentType };
    let size = 0;
    try {
      const bytes = bodyBytes(body);
      let etag: string | undefined;
      if (bytes !== undefined && bytes.length <= this.partSize) {
        // Small bodies in one request, so the request itself carries the condition.
        const result = await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: bytes, ContentLength: bytes.length, ...contentType, ...conditions }), signal ? { abortSignal: signal } : {});
        size = bytes.length;
        options.onProgress?.(size);
        etag = result.ETag;
      } else {
        const counted = countBytes(bodyToReadable(body), (bytes) => {
          size = bytes;
          options.onProgress?.(bytes);
        });
        const upload = new Upload({
          client: this.client,
          params: { Bucket: this.bucket, Key, Body: counted, ...contentType, ...conditions },
          partSize: this.partSize,
          queueSize: this.queueSize,
          leavePartsOnError: false,
        });
        const onAbort = () => void upload.abort().catch(() => undefined);
        signal?.addEventListener('abort', onAbort, { once: true });
        try {
          const result = await upload.done();
          etag = result.ETag;
        } finally {
          signal?.removeEventListener('abort', onAbort);
        }
        if (signal?.aborted) throw abortReason(signal);
      }
      if (etag === undefined) throw new StorageError(`S3 did not return an ETag for "${key}"`);
      return { key, size, etag, lastModified: new Date() };
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      // If-Match on a key that does not exist is a 404 NoSuchKey in S3.
      if (options.ifMatch !== undefined && (statusOf(error) === 404 || (error as { name?: string }).name === 'NoSuchKey')) throw new PreconditionFailedError(key, undefined, { cause: error });
      // A retried CompleteMultipartUpload whose first attempt was applied (its answer
      // lost) finds the upload gone. For a create-only write the key now exists, so
      // the write cannot be applied again: say so, and let the caller check whether
      // the object is its own (ModelStore reads an archive back and hashes it).
      if (options.ifNoneMatch === '*' && (error as { name?: string }).name === 'NoSuchUpload' && (await this.head(key).catch(() => undefined))) {
        throw new PreconditionFailedError(key, undefined, { cause: error });
      }
      throw this.mapError('write', key, error);
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<StoredObject | undefined> {
    const Key = this.fullKey(key);
    const range = options.range;
    validateRange(key, range);
    try {
      const result = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key, ...(range ? { Range: `bytes=${range.start}-${range.end ?? ''}` } : {}) }),
        options.signal ? { abortSignal: options.signal } : {},
      );
      const total = result.ContentRange ? Number(result.ContentRange.split('/')[1]) : (result.ContentLength ?? 0);
      const etag = result.ETag ?? '';
      // A read cut off part-way resumes from where it stopped, on the same version of the object.
      const body = resumingBody(result.Body as Readable, {
        size: total,
        ...(range ? { range } : {}),
        reopen: async (from, to) => (await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key, Range: `bytes=${from}-${to}`, IfMatch: etag }), options.signal ? { abortSignal: options.signal } : {})).Body as Readable,
        changed: (error) => statusOf(error) === 412 || statusOf(error) === 404,
        what: `S3 read of s3://${this.bucket}/${this.fullKeyUnchecked(key)}`,
        mapError: (error) => this.mapError('read', key, error) as Error,
        idleTimeoutMs: this.idleTimeoutMs,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      return { key, size: total, etag, lastModified: result.LastModified ?? new Date(0), body };
    } catch (error) {
      if (statusOf(error) === 404 && (error as { name?: string }).name !== 'NoSuchBucket') return undefined;
      throw this.mapError('read', key, error);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const Key = this.fullKey(key);
    try {
      const result = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return { key, size: result.ContentLength ?? 0, etag: result.ETag ?? '', lastModified: result.LastModified ?? new Date(0) };
    } catch (error) {
      if (statusOf(error) === 404) {
        // HEAD responses have no body, so a missing bucket looks like a missing key.
        return undefined;
      }
      throw this.mapError('head', key, error);
    }
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    validatePrefix(prefix);
    const Prefix = this.rootPrefix === '' ? prefix : `${this.rootPrefix}/${prefix}`;
    try {
      const result = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix,
          ...(options.cursor === undefined ? {} : { ContinuationToken: options.cursor }),
          MaxKeys: Math.max(1, Math.min(options.limit ?? 1000, 1000)),
        }),
      );
      const strip = this.rootPrefix === '' ? 0 : this.rootPrefix.length + 1;
      const objects = (result.Contents ?? []).map((object) => ({
        key: object.Key!.slice(strip),
        size: object.Size ?? 0,
        etag: object.ETag ?? '',
        lastModified: object.LastModified ?? new Date(0),
      }));
      return result.IsTruncated && result.NextContinuationToken ? { objects, cursor: result.NextContinuationToken } : { objects };
    } catch (error) {
      throw this.mapError('list', prefix, error);
    }
  }

  async delete(key: string): Promise<boolean> {
    const Key = this.fullKey(key);
    // S3 answers a delete the same way whether or not the key existed.
    const existed = (await this.head(key)) !== undefined;
    if (!existed) return false;
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
      return true;
    } catch (error) {
      throw this.mapError('delete', key, error);
    }
  }

  private fullKey(key: string): string {
    validateKey(key);
    return this.rootPrefix === '' ? key : `${this.rootPrefix}/${key}`;
  }

  /** Maps an SDK error to a core error that says what to do; never includes credentials. */
  private mapError(operation: string, key: string, error: unknown): unknown {
    if (isAbort(error) || StorageError.isInstance(error) || PreconditionFailedError.isInstance(error)) return error;
    const status = statusOf(error);
    const name = (error as { name?: string; Code?: string } | undefined)?.name ?? 'Error';
    if (status === 412 || name === 'PreconditionFailed' || (status === 409 && name === 'ConditionalRequestConflict')) {
      return new PreconditionFailedError(key, undefined, { cause: error });
    }
    const where = `s3://${this.bucket}/${this.fullKeyUnchecked(key)}`;
    if (name === 'NoSuchBucket') return new StorageError(`S3 ${operation} of ${where} failed: the bucket "${this.bucket}" does not exist. Create it, or check the bucket name and region`, { cause: error });
    if (status === 403 || name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || name === 'AccessDenied') {
      return new StorageError(`S3 ${operation} of ${where} was refused (${name}): check the credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the profile) and the bucket policy`, { cause: error });
    }
    const code = (error as { code?: string } | undefined)?.code;
    const retryable = (status !== undefined && status >= 500) || status === 429 || retryableCodes.has(name) || networkCodes.has(name) || (code !== undefined && networkCodes.has(code)) || !(error instanceof S3ServiceException);
    const message = error instanceof Error ? error.message : String(error);
    return new StorageError(`S3 ${operation} of ${where} failed (${name}${status ? ` ${status}` : ''}): ${message}`, { cause: error, retryable });
  }

  private fullKeyUnchecked(key: string): string {
    return this.rootPrefix === '' ? key : `${this.rootPrefix}/${key}`;
  }
}

/** Counts bytes as the uploader pulls them, without changing how the source flows. */
function countBytes(source: Readable, onBytes: (total: number) => void): Readable {
  async function* counted() {
    let total = 0;
    for await (const chunk of source as AsyncIterable<Buffer>) {
      total += chunk.length;
      onBytes(total);
      yield chunk;
    }
  }
  return Readable.from(counted(), { objectMode: false });
}
