import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException, type S3ClientConfig } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { InvalidOptionError, PreconditionFailedError, StorageError } from '@modelstore/core';
import type { Body, GetOptions, ListOptions, ListResult, ObjectInfo, PutOptions, StorageLocation, StoredObject } from '@modelstore/core';
import { ScopedStorage, abortReason, bodyBytes, bodyToReadable, countingBytes, listPageSize, requiredName, storageScope, validateRange, type SdkErrors } from '@modelstore/core/storage-kit';
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

/**
 * How the AWS SDK reports errors, for the kit's error mapper: the HTTP status in
 * `$metadata`, S3's error code as the exception's `name`, and S3's throttling and
 * server-side codes (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
 */
function s3Errors(bucket: string): SdkErrors {
  return {
    name: 'S3',
    status: (error) => (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode,
    code: (error) => (error instanceof S3ServiceException ? error.name : typeof (error as { code?: unknown } | undefined)?.code === 'string' ? (error as { code: string }).code : undefined),
    retryableCodes: ['SlowDown', 'Throttling', 'ThrottlingException', 'RequestTimeout', 'RequestTimeTooSkewed', 'InternalError', 'ServiceUnavailable'],
    preconditionCodes: ['PreconditionFailed', 'ConditionalRequestConflict'],
    notFoundCodes: ['NoSuchKey'],
    refusedCodes: ['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied'],
    refusedHint: 'check the credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the profile) and the bucket policy',
    missingRoot: (facts) => (facts.code === 'NoSuchBucket' ? `the bucket "${bucket}" does not exist. Create it, or check the bucket name and region` : undefined),
  };
}

/**
 * A `Storage` in an S3 bucket or an S3-compatible store, on the AWS SDK v3.
 * Large bodies stream as multipart uploads (`@aws-sdk/lib-storage`), reads stream,
 * and create-only / compare-and-swap writes use S3's conditional requests.
 */
export class S3Storage extends ScopedStorage {
  readonly capabilities: { readonly conditionalWrites: boolean; readonly rangeReads: true };
  readonly bucket: string;
  readonly client: S3Client;
  /** `storage.type` in metadata: `aws:s3`, `minio:<endpoint>` or `backblaze:b2`, as Python modelstore writes it. */
  private readonly locationType: string;
  /** Upload and read settings, defaults applied. */
  private readonly transfer: { partSize: number; queueSize: number; idleTimeoutMs: number };

  constructor(options: S3StorageOptions) {
    if (options?.backblaze && options.minio) throw new InvalidOptionError('backblaze', 'S3Storage: `minio` and `backblaze` describe different stores; set one of them');
    const bucket = requiredName(options, 'bucket', 'S3Storage needs a bucket: new S3Storage({ bucket: "my-models" })');
    super(storageScope({ rootPrefix: options.rootPrefix, errors: s3Errors(bucket), location: (name) => `s3://${bucket}/${name}` }));
    this.bucket = bucket;
    this.locationType = options.backblaze ? 'backblaze:b2' : options.minio ? `minio:${(options.endpoint ?? 'unknown').replace(/^https?:\/\//, '')}` : 'aws:s3';
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
    this.transfer = {
      partSize: Math.max(5 * 1024 * 1024, options.partSize ?? 8 * 1024 * 1024),
      queueSize: Math.max(1, options.queueSize ?? 4),
      idleTimeoutMs: options.idleTimeoutMs ?? s3Defaults.idleTimeoutMs,
    };
    this.capabilities = { conditionalWrites: options.conditionalWrites ?? true, rangeReads: true };
  }

  describe(key: string): StorageLocation {
    return { type: this.locationType, bucket: this.bucket, prefix: this.scope.name(key) };
  }

  async put(key: string, body: Body, options: PutOptions = {}): Promise<ObjectInfo> {
    const Key = this.scope.name(key);
    const { signal } = options;
    signal?.throwIfAborted();
    const conditions = this.capabilities.conditionalWrites ? { ...(options.ifNoneMatch === '*' ? { IfNoneMatch: '*' } : {}), ...(options.ifMatch !== undefined ? { IfMatch: options.ifMatch } : {}) } : {};
    const contentType = options.contentType === undefined ? {} : { ContentType: options.contentType };
    let size = 0;
    try {
      const bytes = bodyBytes(body);
      let etag: string | undefined;
      if (bytes !== undefined && bytes.length <= this.transfer.partSize) {
        // Small bodies in one request, so the request itself carries the condition.
        const result = await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: bytes, ContentLength: bytes.length, ...contentType, ...conditions }), signal ? { abortSignal: signal } : {});
        size = bytes.length;
        options.onProgress?.(size);
        etag = result.ETag;
      } else {
        const counted = Readable.from(
          countingBytes((bytes) => {
            size = bytes;
            options.onProgress?.(bytes);
          })(bodyToReadable(body)),
          { objectMode: false },
        );
        const upload = new Upload({
          client: this.client,
          params: { Bucket: this.bucket, Key, Body: counted, ...contentType, ...conditions },
          partSize: this.transfer.partSize,
          queueSize: this.transfer.queueSize,
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
      // A retried CompleteMultipartUpload whose first attempt was applied (its answer
      // lost) finds the upload gone. For a create-only write the key now exists, so
      // the write cannot be applied again: say so, and let the caller check whether
      // the object is its own (ModelStore reads an archive back and hashes it).
      if (options.ifNoneMatch === '*' && (error as { name?: string }).name === 'NoSuchUpload' && (await this.head(key).catch(() => undefined))) {
        throw new PreconditionFailedError(key, undefined, { cause: error });
      }
      // If-Match on a key that does not exist is a 404 NoSuchKey in S3.
      throw this.scope.error('write', key, error, options.ifMatch === undefined ? undefined : 'precondition');
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<StoredObject | undefined> {
    const Key = this.scope.name(key);
    const { range, signal } = options;
    validateRange(key, range);
    const send = (command: GetObjectCommand) => this.client.send(command, signal ? { abortSignal: signal } : {});
    return this.scope.run(
      'read',
      key,
      async () => {
        const result = await send(new GetObjectCommand({ Bucket: this.bucket, Key, ...(range ? { Range: `bytes=${range.start}-${range.end ?? ''}` } : {}) }));
        const size = result.ContentRange ? Number(result.ContentRange.split('/')[1]) : (result.ContentLength ?? 0);
        const etag = result.ETag ?? '';
        // A read cut off part-way resumes from where it stopped, on the same version of the object.
        const reopen = async (from: number, to: number) => (await send(new GetObjectCommand({ Bucket: this.bucket, Key, Range: `bytes=${from}-${to}`, IfMatch: etag }))).Body as Readable;
        const body = this.scope.resumingRead(key, result.Body as Readable, { size, range, reopen, idleTimeoutMs: this.transfer.idleTimeoutMs, signal });
        return { key, size, etag, lastModified: result.LastModified ?? new Date(0), body };
      },
      () => undefined,
    );
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const Key = this.scope.name(key);
    // HEAD responses have no body, so a missing bucket looks like a missing key.
    return this.scope.run(
      'head',
      key,
      async () => {
        const result = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
        return { key, size: result.ContentLength ?? 0, etag: result.ETag ?? '', lastModified: result.LastModified ?? new Date(0) };
      },
      () => undefined,
    );
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const Prefix = this.scope.prefix(prefix);
    return this.scope.run('list', prefix, async () => {
      const page = { MaxKeys: listPageSize(options.limit), ...(options.cursor === undefined ? {} : { ContinuationToken: options.cursor }) };
      const result = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix, ...page }));
      const objects = (result.Contents ?? []).map((object) => ({
        key: this.scope.key(object.Key!),
        size: object.Size ?? 0,
        etag: object.ETag ?? '',
        lastModified: object.LastModified ?? new Date(0),
      }));
      return result.IsTruncated && result.NextContinuationToken ? { objects, cursor: result.NextContinuationToken } : { objects };
    });
  }

  async delete(key: string): Promise<boolean> {
    const Key = this.scope.name(key);
    // S3 answers a delete the same way whether or not the key existed.
    if ((await this.head(key)) === undefined) return false;
    await this.scope.run('delete', key, () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key })));
    return true;
  }
}
