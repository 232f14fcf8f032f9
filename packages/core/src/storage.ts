/**
 * The Storage contract: a flat key/value object store with streaming bodies and
 * conditional writes. Every backend (file system, S3, GCS, Azure, memory, yours)
 * implements it, and `@modelstore/storage-conformance` checks that it does.
 *
 * Keys are `/`-separated and relative to the backend's own root. They are checked
 * with `validateKey` before any I/O: no empty key or segment, no `.` or `..`
 * segment, no leading `/`, no backslash, no NUL or control characters.
 */

/**
 * An object body to write. Strings are written as UTF-8. Streams and async
 * iterables are consumed once, chunk by chunk; they are never gathered in memory
 * by a conforming backend.
 */
export type Body = Uint8Array | string | NodeJS.ReadableStream | AsyncIterable<Uint8Array>;

/** What a backend can do, declared rather than guessed. */
export interface StorageCapabilities {
  /**
   * `put` honours `ifNoneMatch: '*'` and `ifMatch` atomically, even between
   * processes and machines. The registry relies on it to stay consistent with
   * many writers and no lock server; without it, concurrent writers can overwrite
   * each other's metadata.
   */
  readonly conditionalWrites: boolean;
  /** `get` honours `range`, reading only the requested bytes. */
  readonly rangeReads: boolean;
}

/**
 * `storage.type` values Python modelstore writes (`modelstore/storage/*.py`, `_storage_location`):
 * `file_system`, `aws:s3`, `google:cloud-storage`, `azure:blob-storage`, `minio:<endpoint>`
 * (endpoint without scheme), `hdfs`, and since 0.0.82 `backblaze:b2`. Readers must accept any
 * other string too: the archive is found from `path` or `prefix`, never from the type.
 */
export type StorageType = 'file_system' | 'aws:s3' | 'google:cloud-storage' | 'azure:blob-storage' | 'backblaze:b2' | 'hdfs' | `minio:${string}`;

/**
 * The `storage` block of a model's metadata, in Python modelstore's format
 * (`modelstore.metadata.storage.Storage`). Path-like stores fill `root` and `path`;
 * bucket stores (S3, GCS, MinIO, Backblaze B2) `bucket` and `prefix`; Azure `container` and `prefix`.
 */
export interface StorageLocation {
  /** One of {@link StorageType}; any other string is read as well. */
  type: StorageType | (string & {});
  /** File system: the absolute registry root. */
  root?: string;
  /** File system: the absolute path of the object. */
  path?: string;
  /** S3, GCS, MinIO, Backblaze B2: the bucket. */
  bucket?: string;
  /** Cloud backends: the object's full key inside the bucket or container. */
  prefix?: string;
  /** Azure: the container. */
  container?: string;
}

/** Options of `Storage.put`. */
export interface PutOptions {
  /** `'*'`: create only. Throws `PreconditionFailedError` if the key exists. */
  ifNoneMatch?: '*';
  /**
   * Replace only this version (an `etag` from `head`, `get`, `list` or `put`).
   * Throws `PreconditionFailedError` if the object changed or no longer exists.
   */
  ifMatch?: string;
  /** MIME type, for backends that store one. */
  contentType?: string;
  /** The body's length in bytes, when known: lets backends choose single or multipart uploads. */
  size?: number;
  /**
   * Aborts the write. The promise rejects with the signal's reason (an `AbortError`
   * by default) and no object, partial or whole, is left at the key.
   */
  signal?: AbortSignal;
  /** Called as bytes are accepted, with the running total. */
  onProgress?(bytes: number): void;
}

/** Options of `Storage.get`. */
export interface GetOptions {
  /**
   * Read bytes `start` to `end`, both inclusive (as in HTTP `Range`). `end` past the
   * end of the object, or omitted, reads to the end. Backends without
   * `capabilities.rangeReads` throw `StorageError` when a range is asked for.
   */
  range?: { start: number; end?: number };
  /** Aborts the read: the promise, or the body stream, errors with the signal's reason. */
  signal?: AbortSignal;
}

/** Options of `Storage.list`. */
export interface ListOptions {
  /** Opaque cursor from a previous page's result; omit for the first page. */
  cursor?: string;
  /**
   * Most objects to return in one page: a whole number from 1 (else `InvalidOptionError`).
   * Backends may return fewer; default is backend-specific (at most 1000).
   */
  limit?: number;
}

/** One stored object, without its body. */
export interface ObjectInfo {
  /** The key, relative to the backend's root. */
  key: string;
  /** Size in bytes. */
  size: number;
  /**
   * Opaque version tag: changes whenever the bytes change (S3's MD5 ETag stays the
   * same when identical bytes are written again; other backends change it on every
   * write). Pass it to `ifMatch`: a compare-and-swap against it is safe either way.
   */
  etag: string;
  /** When this version was written (storage clock; not preserved by copies). */
  lastModified: Date;
}

/** An object and its body. Consume or destroy `body`: it holds a file handle or connection open. */
export interface StoredObject extends ObjectInfo {
  /** The bytes (of the requested range, if any), streamed. `size` is the whole object's size. */
  body: NodeJS.ReadableStream;
}

/** One page of a listing. */
export interface ListResult {
  /** Objects in lexicographic (UTF-8 byte) order of key. */
  objects: ObjectInfo[];
  /** Present when there may be more objects: pass it back as `options.cursor`. */
  cursor?: string;
}

/**
 * A flat key/value object store. All methods validate keys before any I/O and
 * throw `InvalidNameError` for a bad key. A missing object is never an error
 * (`undefined` or `false`); every other failure is a `StorageError` (with `cause`
 * and `retryable`) or a `PreconditionFailedError`, never a raw SDK error.
 */
export interface Storage {
  /** The contract version this backend implements. */
  readonly specificationVersion: 'v1';
  /** What this backend supports; the conformance suite and the registry adapt to it. */
  readonly capabilities: StorageCapabilities;

  /** The `storage` block of a model's metadata for an object at `key` (Python-compatible). No I/O. */
  describe(key: string): StorageLocation;

  /**
   * Writes `body` at `key`, all or nothing: readers see the previous object or the
   * whole new one, never a partial one. Overwrites unless a condition is given.
   * A lost condition throws `PreconditionFailedError` and changes nothing.
   * Missing parent "directories" are created as needed.
   */
  put(key: string, body: Body, options?: PutOptions): Promise<ObjectInfo>;

  /** Opens `key` for reading. `undefined` if there is no such object. */
  get(key: string, options?: GetOptions): Promise<StoredObject | undefined>;

  /** Describes `key` without reading it. `undefined` if there is no such object. */
  head(key: string): Promise<ObjectInfo | undefined>;

  /**
   * Lists every object whose key starts with `prefix` (recursively: not only one
   * "directory" level), in lexicographic order, a page at a time. `prefix` may be
   * empty (everything) and may end with `/`; `'a/'` never returns `'ab/x'`.
   */
  list(prefix: string, options?: ListOptions): Promise<ListResult>;

  /** Deletes `key`. `true` if it existed, `false` if it was not there; never throws for a missing key. */
  delete(key: string): Promise<boolean>;

  /**
   * Optional. Removes what writes that never finished left behind and `list` does not
   * show — e.g. a file-system backend's temporary file of a process killed mid-write —
   * when it was last written before `before`. `collectGarbage` calls it with its cutoff
   * and reports what it returns among the removed objects (keys of the leftovers, as
   * paths relative to the backend's root). With `dryRun`, removes nothing.
   */
  removeAbandonedWrites?(options: { before: Date; dryRun?: boolean }): Promise<ObjectInfo[]>;
}
