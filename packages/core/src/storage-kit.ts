/**
 * The kit for `Storage` backend authors (`@modelstore/core/storage-kit`): what every
 * backend does the same way, so that a backend keeps only what is specific to its SDK.
 *
 * - {@link toStorageError}: one mapper from an SDK's error to core's typed errors, with
 *   one table of what is worth retrying; a backend describes its SDK's errors once, in a
 *   small {@link SdkErrors} object.
 * - {@link countingBytes}: a pass-through stage that counts bytes as they flow (for
 *   `stream/promises.pipeline`, or any async iterable); core's one sha256 pass-through,
 *   `sha256PassThrough` and `sha256Of`, is re-exported.
 * - {@link rootPrefixOf}, {@link joinRoot}, {@link stripRoot}: a backend's root prefix
 *   (Python modelstore's `root_prefix`) and the keys under it.
 * - {@link storageScope}: all of the above for one backend instance: full names of keys,
 *   locations for messages, and `run`, which maps every failure of a call.
 * - {@link requiredName}: the constructor check of a backend's bucket, container or root.
 * - {@link ScopedStorage}: a base class holding `specificationVersion`, `rootPrefix` and the scope.
 * - {@link peekBody}: reads the first bytes of a body, to choose a single request or a
 *   streamed upload, without losing them.
 * - Re-exported from core: `resumingBody`, `bodyToReadable`, `bodyBytes`, `abortReason`,
 *   `validateKey`, `validatePrefix`, `validateRange`, `compareKeys`, `sha256PassThrough`, `sha256Of`.
 *
 * @packageDocumentation
 */
import { Readable } from 'node:stream';
import { abortReason, bodyToReadable, resumingBody, type ResumingBodyOptions } from './body.js';
import { InvalidOptionError, ModelStoreError, PreconditionFailedError, StorageError, InvalidArgumentError } from './errors.js';
import { validateKey, validatePrefix } from './keys.js';
import type { Body, GetOptions, ListOptions, ListResult, ObjectInfo, PutOptions, Storage, StorageCapabilities, StorageLocation, StoredObject } from './storage.js';

export { abortReason, bodyBytes, bodyToReadable, knownBodySize, resumingBody } from './body.js';
export type { ResumingBodyOptions } from './body.js';
export { compareKeys, validateKey, validatePrefix, validateRange } from './keys.js';
export { sha256Of, sha256PassThrough } from './sha256.js';

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/** What {@link toStorageError} reads from an SDK's error, through the backend's {@link SdkErrors}. */
export interface SdkErrorFacts {
  /** The HTTP status of the answer, when the error carries one; `undefined` when no answer arrived (a network error). */
  status: number | undefined;
  /** The SDK's own error code (`SlowDown`, `ContainerNotFound`, `EACCES`), when it has one. */
  code: string | undefined;
  /**
   * Every code found on the error: the SDK's `code`, `error.code`, `error.name`, and the
   * same on `error.cause` (fetch reports a broken connection as a `TypeError` whose cause
   * holds `ECONNRESET`). The retry table looks through all of them.
   */
  codes: readonly string[];
  /** The error's message: its first line, with its cause's message, at most 500 characters. */
  message: string;
}

/**
 * How one backend's SDK reports errors: the per-backend part of {@link toStorageError}.
 * Every field is optional; a backend sets only what its SDK needs.
 */
export interface SdkErrors {
  /** The backend's name, which starts every message: `S3`, `GCS`, `Azure`, `File system`. */
  readonly name: string;
  /** The HTTP status on the SDK's error class. Default: `status`, `statusCode` or `$metadata.httpStatusCode`, if a number. */
  status?(error: unknown): number | undefined;
  /** The SDK's error code on its error class. Default: `error.code`, if a string. */
  code?(error: unknown): string | undefined;
  /** Codes of answers worth retrying besides the shared table: throttling and server-busy names (S3's `SlowDown`, Azure's `ServerBusy`), a file system's `EBUSY`. */
  readonly retryableCodes?: readonly string[];
  /** Messages of transport failures the SDK reports without a code (e.g. `socket hang up`). */
  readonly retryableMessage?: RegExp;
  /** Codes that mean a lost condition, besides HTTP 412 (S3's `PreconditionFailed`, Azure's `ConditionNotMet`). */
  readonly preconditionCodes?: readonly string[];
  /** Codes that mean the object is not there, besides HTTP 404 (S3's `NoSuchKey`, the file system's `ENOENT`). */
  readonly notFoundCodes?: readonly string[];
  /** Codes that mean the credentials or permissions were refused, besides HTTP 401 and 403. */
  readonly refusedCodes?: readonly string[];
  /** What to check when a request is refused (appended to the message). */
  readonly refusedHint?: string;
  /**
   * Whether a failure without an answer and without a known code (an unknown transport
   * error) is retryable. Default `true`: for a network backend the request may not have
   * reached the server. The file system sets `false`.
   */
  readonly noAnswerRetryable?: boolean;
  /**
   * A missing bucket or container: the sentence that says so and what to do, else
   * `undefined`. Such a failure is never a missing object and never retryable.
   */
  missingRoot?(facts: SdkErrorFacts, error: unknown): string | undefined;
  /** Anything else specific to the SDK: the message's tail and, if not the table's, whether it is retryable. */
  explain?(facts: SdkErrorFacts, error: unknown): { hint: string; retryable?: boolean } | undefined;
}

/** Where and what failed, for {@link toStorageError}. */
export interface StorageErrorContext {
  /** The operation, as messages say it: `read`, `write`, `head`, `list`, `delete`. */
  operation: string;
  /** The key (or list prefix) as the caller gave it: named by `PreconditionFailedError`. */
  key: string;
  /** The location in messages (`s3://bucket/root/key`); default: the key in quotes. Never put credentials here. */
  where?: string;
  /** The backend's SDK, described once. */
  backend: SdkErrors;
  /**
   * What a not-found answer means for this call. `'precondition'`: the call named a
   * version (`ifMatch`) of an object that is gone, so it lost its condition and throws
   * `PreconditionFailedError`. Default: an ordinary failure.
   */
  notFound?: 'precondition';
}

/** HTTP statuses worth retrying: 408 Request Timeout, 429 Too Many Requests and every 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

/**
 * Codes of failures where the request may not have been applied and the same request
 * can succeed later: a connection reset, refused or broken, a timeout, a DNS lookup that
 * failed for now (`EAI_AGAIN`), undici's socket and timeout errors.
 */
const transientCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'TimeoutError',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/**
 * Codes that retrying cannot fix. `ENOTFOUND`: the host name does not resolve (a typo in
 * an endpoint or bucket host); `EAI_AGAIN`, a lookup that failed for now, is retryable.
 */
const permanentCodes = new Set(['ENOTFOUND']);

/**
 * Node's message for a host that does not resolve, for SDKs that keep only the message:
 * the AWS SDK's retry layer rewraps a thrown value that is not an `Error` of its realm
 * (as under jest's VM) as `AWS SDK error wrapper for Error: getaddrinfo ENOTFOUND host`.
 */
const permanentMessage = /\bgetaddrinfo ENOTFOUND\b/;

function isPermanent(facts: SdkErrorFacts): boolean {
  return facts.codes.some((code) => permanentCodes.has(code)) || permanentMessage.test(facts.message);
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function defaultStatus(error: unknown): number | undefined {
  const candidate = error as { status?: unknown; statusCode?: unknown; $metadata?: { httpStatusCode?: unknown } } | undefined;
  for (const value of [candidate?.status, candidate?.statusCode, candidate?.$metadata?.httpStatusCode]) {
    if (typeof value === 'number') return value;
  }
  return undefined;
}

/** Reads status, codes and message from `error` through `backend`. */
export function errorFacts(error: unknown, backend: SdkErrors): SdkErrorFacts {
  const object = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
  const cause = (typeof object.cause === 'object' && object.cause !== null ? object.cause : {}) as { code?: unknown; name?: unknown; message?: unknown };
  const status = backend.status ? backend.status(error) : defaultStatus(error);
  const code = backend.code ? backend.code(error) : stringOf(object.code);
  const codes = [code, stringOf(object.code), stringOf(object.name), stringOf(cause.code), stringOf(cause.name)].filter((value): value is string => value !== undefined);
  const own = (error instanceof Error ? error.message : typeof object.message === 'string' ? object.message : String(error)).split('\n')[0]!;
  const causeMessage = typeof cause.message === 'string' && cause.message !== '' && !own.includes(cause.message) ? ` (${cause.message.split('\n')[0]})` : '';
  return { status, code, codes, message: (own + causeMessage).slice(0, 500) };
}

/** Whether `error` is the caller's abort (or an SDK's `AbortError`): passed through untouched, never retried. */
export function isAbortError(error: unknown): boolean {
  return (error as { name?: unknown } | undefined)?.name === 'AbortError';
}

/**
 * Whether `error` is a failure that the same request can get past, by the one retry
 * table: HTTP 408, 429 and 5xx; connection resets, refusals, broken pipes and timeouts;
 * the backend's throttling codes and messages. Only what the table names: an unknown
 * error is `false` here (see {@link isRetryableError} for the default of each backend).
 * `ENOTFOUND` (a host that does not resolve) is never retryable. Aborts and errors that
 * are already a `ModelStoreError` are `false`: they are final for a backend's own retry
 * loop (`toStorageError` passes them through with their own `retryable`).
 */
export function isTransientError(error: unknown, backend: SdkErrors): boolean {
  if (isAbortError(error) || ModelStoreError.isInstance(error)) return false;
  const facts = errorFacts(error, backend);
  if (isPermanent(facts)) return false;
  if (facts.status !== undefined && isRetryableStatus(facts.status)) return true;
  if (facts.codes.some((code) => transientCodes.has(code) || backend.retryableCodes?.includes(code))) return true;
  return facts.status === undefined && backend.retryableMessage !== undefined && backend.retryableMessage.test(facts.message);
}

/**
 * The `retryable` flag {@link toStorageError} gives: {@link isTransientError}, and for
 * a failure with no answer and no known code, the backend's `noAnswerRetryable`
 * (default `true`: the request may never have reached the server).
 */
export function isRetryableError(error: unknown, backend: SdkErrors): boolean {
  if (isTransientError(error, backend)) return true;
  if (isAbortError(error) || ModelStoreError.isInstance(error)) return false;
  const facts = errorFacts(error, backend);
  if (facts.status !== undefined || isPermanent(facts)) return false;
  // A code the table does not name, on a backend whose errors all carry codes (the file system): not retryable.
  return backend.noAnswerRetryable ?? true;
}

/**
 * Whether `error` says the object is not there (HTTP 404 or one of the backend's
 * not-found codes), as opposed to its bucket or container being missing.
 */
export function isNotFoundError(error: unknown, backend: SdkErrors): boolean {
  const facts = errorFacts(error, backend);
  const missing = facts.status === 404 || (facts.code !== undefined && backend.notFoundCodes?.includes(facts.code) === true);
  return missing && backend.missingRoot?.(facts, error) === undefined;
}

/**
 * Whether `error` says that the version a request named is gone: HTTP 412 or 404, or
 * one of the backend's precondition or not-found codes. A read that resumes on the
 * same version (`resumingBody`'s `changed`) uses it: the object changed or vanished.
 */
export function isVersionGoneError(error: unknown, backend: SdkErrors): boolean {
  const facts = errorFacts(error, backend);
  if (facts.status === 412 || facts.status === 404) return true;
  return facts.code !== undefined && (backend.preconditionCodes?.includes(facts.code) === true || backend.notFoundCodes?.includes(facts.code) === true);
}

/**
 * Maps an SDK's error to core's typed errors, the same way for every backend:
 *
 * - an abort (`AbortError`) and an error that is already a `ModelStoreError` come back untouched;
 * - HTTP 412, or one of the backend's `preconditionCodes`, is `PreconditionFailedError`
 *   (also a not-found answer when `context.notFound` is `'precondition'`);
 * - a missing bucket or container (the backend's `missingRoot`) is a `StorageError` that
 *   names it, not retryable;
 * - HTTP 401/403 or a `refusedCodes` code is a `StorageError` "was refused", not retryable,
 *   with the backend's `refusedHint`;
 * - anything else is a `StorageError` whose `retryable` is {@link isRetryableError}
 *   (the backend's `explain` may add a hint or decide otherwise).
 *
 * The returned error's `cause` is the SDK's error. Messages name the backend, the
 * operation and `context.where`, never credentials.
 *
 * @returns the error to throw (never throws itself).
 */
export function toStorageError(error: unknown, context: StorageErrorContext): Error {
  if (isAbortError(error) || ModelStoreError.isInstance(error)) return error as Error;
  const { backend, operation, key } = context;
  const facts = errorFacts(error, backend);
  const where = context.where ?? `"${key}"`;
  // A numeric code with no HTTP status is not one (a DOMException's legacy code, 23 for a
  // timeout): its name says more.
  // A failure with no answer and no code of the backend's is labelled by the connection
  // failure it carries (ECONNRESET, TimeoutError, ...) when there is one.
  const connection = facts.status === undefined ? facts.codes.find((c) => transientCodes.has(c) || c === 'ENOTFOUND') : undefined;
  const code = facts.code !== undefined && facts.status === undefined && /^\d+$/.test(facts.code) ? (facts.codes.find((c) => !/^\d+$/.test(c)) ?? facts.code) : (facts.code ?? connection);
  const label = [code, facts.status].filter((part) => part !== undefined).join(' ') || 'error';
  const root = backend.missingRoot?.(facts, error);
  const precondition = facts.status === 412 || (facts.code !== undefined && backend.preconditionCodes?.includes(facts.code) === true);
  const notFound = root === undefined && (facts.status === 404 || (facts.code !== undefined && backend.notFoundCodes?.includes(facts.code) === true));
  if (precondition || (notFound && context.notFound === 'precondition')) return new PreconditionFailedError(key, undefined, { cause: error });
  if (root !== undefined) return new StorageError(`${backend.name} ${operation} of ${where} failed: ${root}`, { cause: error });
  if (facts.status === 401 || facts.status === 403 || (facts.code !== undefined && backend.refusedCodes?.includes(facts.code) === true)) {
    return new StorageError(`${backend.name} ${operation} of ${where} was refused (${label})${backend.refusedHint ? `: ${backend.refusedHint}` : ''}`, { cause: error });
  }
  const explained = backend.explain?.(facts, error);
  const retryable = explained?.retryable ?? isRetryableError(error, backend);
  const next = explained === undefined && facts.status === undefined ? connectionHint(facts.codes) : undefined;
  return new StorageError(`${backend.name} ${operation} of ${where} failed (${label}): ${explained?.hint ?? facts.message}${next ? `; ${next}` : ''}`, { cause: error, retryable });
}

/** What to do about a failure that got no answer from the server, by its code; `undefined` for other failures. */
function connectionHint(codes: readonly string[]): string | undefined {
  const has = (...names: string[]) => names.some((name) => codes.includes(name));
  if (has('ECONNREFUSED')) return 'nothing is listening at the endpoint: check that the server is running and that the endpoint (host and port) is right, then try again';
  if (has('ENOTFOUND')) return "the endpoint's host name does not resolve: check it";
  // node-fetch (under the GCS SDK) names its timeouts by `type`, which a backend's code() reads.
  if (has('TimeoutError', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'request-timeout', 'body-timeout'))
    return 'the server did not answer in time: check the network and the server (or raise the request timeout), then try again';
  if (has('ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET')) return 'the connection was cut: try again';
  return undefined;
}

// ---------------------------------------------------------------------------
// Bytes
// ---------------------------------------------------------------------------

/** A pipeline stage: takes an async iterable of bytes, yields the same bytes as Buffers. */
export type ByteStage = (source: AsyncIterable<unknown>) => AsyncGenerator<Buffer>;

function asBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new TypeError('Body chunks must be Uint8Array or string');
}

/**
 * A pass-through stage that counts bytes and reports the running total (bytes so far,
 * from `start`) to `onProgress` after each chunk. For `pipeline(source, countingBytes(cb), sink)`
 * or `Readable.from(countingBytes(cb)(source))`.
 */
export function countingBytes(onProgress: ((bytes: number) => void) | undefined, start = 0): ByteStage {
  let total = start;
  return async function* (source) {
    for await (const chunk of source) {
      const bytes = asBuffer(chunk);
      total += bytes.length;
      onProgress?.(total);
      yield bytes;
    }
  };
}

// ---------------------------------------------------------------------------
// Root prefix
// ---------------------------------------------------------------------------

/**
 * A backend's root prefix from its option: leading and trailing `/` removed (`'/team/'`
 * → `'team'`), `''` for none. Throws `InvalidNameError` for a prefix no key could live
 * under (an empty or `..` segment, a backslash, control characters).
 */
export function rootPrefixOf(option: string | undefined): string {
  if (option !== undefined && typeof option !== 'string') throw new InvalidArgumentError(`rootPrefix must be a string (a key prefix such as "team/models"), got ${typeof option}`, { argument: 'rootPrefix' });
  const root = (option ?? '').replace(/^\/+|\/+$/g, '');
  if (root !== '') validatePrefix(`${root}/`);
  return root;
}

/** The full name of `key` (or list prefix) under `rootPrefix`: `joinRoot('team', 'a/b')` is `'team/a/b'`; no root, the key itself. Does not validate `key`. */
export function joinRoot(rootPrefix: string, key: string): string {
  return rootPrefix === '' ? key : `${rootPrefix}/${key}`;
}

/** The key of a full name under `rootPrefix` (the inverse of {@link joinRoot}); a name outside the root comes back unchanged. */
export function stripRoot(rootPrefix: string, fullName: string): string {
  return rootPrefix !== '' && fullName.startsWith(`${rootPrefix}/`) ? fullName.slice(rootPrefix.length + 1) : fullName;
}

/**
 * The page size of a listing: `limit` capped at `max` (1000 by default, as S3, GCS and
 * Azure allow); `max` when `limit` is omitted.
 * @throws InvalidOptionError when `limit` is not a whole number of at least 1 (0, negative,
 * fractional, `NaN`, `Infinity`): a page size that no page could ever reach.
 */
export function listPageSize(limit: number | undefined, max = 1000): number {
  if (limit === undefined) return max;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
    throw new InvalidOptionError('limit', `The list limit must be a whole number of objects from 1 (pages hold at most ${max}), got ${typeof limit === 'number' ? String(limit) : typeof limit}`);
  }
  return Math.min(limit, max);
}

// ---------------------------------------------------------------------------
// Peeking
// ---------------------------------------------------------------------------

/** The first bytes of a body, read by {@link peekBody}. */
export interface PeekedBody {
  /** The bytes read so far (at most `limit` plus one chunk): the whole body when `ended`. Joined on first use. */
  readonly head: Buffer;
  /** How many bytes were read. */
  readonly size: number;
  /** Whether the body ended within the limit (then `head` is all of it). */
  ended: boolean;
  /** The whole body again, `head` first then the rest, counting on with `onProgress`; read it once, only when not `ended`. */
  rest(): Readable;
}

/**
 * Reads `body` until more than `limit` bytes arrived or it ended, so a backend can send
 * a small body in one request and stream a large one, without reading anything twice.
 * `onProgress` gets the running total, for the head and then for `rest()`.
 * Throws the signal's reason when aborted.
 */
export async function peekBody(body: Body, limit: number, options: { signal?: AbortSignal; onProgress?: (bytes: number) => void } = {}): Promise<PeekedBody> {
  const source = bodyToReadable(body)[Symbol.asyncIterator]() as AsyncIterator<unknown>;
  const chunks: Buffer[] = [];
  let size = 0;
  let ended = false;
  while (size <= limit) {
    if (options.signal?.aborted) throw abortReason(options.signal);
    const next = await source.next();
    if (next.done) {
      ended = true;
      break;
    }
    const chunk = asBuffer(next.value);
    chunks.push(chunk);
    size += chunk.length;
    options.onProgress?.(size);
  }
  const remainder: AsyncIterable<unknown> = { [Symbol.asyncIterator]: () => source };
  async function* all(): AsyncGenerator<Buffer> {
    yield* chunks;
    yield* countingBytes(options.onProgress, size)(remainder);
  }
  return {
    get head() {
      return Buffer.concat(chunks, size);
    },
    size,
    ended,
    rest: () => Readable.from(all(), { objectMode: false }),
  };
}

// ---------------------------------------------------------------------------
// One backend instance
// ---------------------------------------------------------------------------

/**
 * The name a backend cannot work without (a bucket, a container, a root directory), read
 * from its constructor's options. Throws `InvalidOptionError` naming `option`, with
 * `message` (`S3Storage needs a bucket: new S3Storage({ bucket: "my-models" })`), when it
 * is missing, empty or not a string, or when `options` is not an object.
 */
export function requiredName(options: unknown, option: string, message: string): string {
  const value = typeof options === 'object' && options !== null ? (options as Record<string, unknown>)[option] : undefined;
  if (typeof value !== 'string' || value === '') throw new InvalidOptionError(option, message);
  return value;
}

/** Keys and errors of one backend instance: its root prefix, its SDK's errors, and how it names a location. */
export interface StorageScope {
  /** The root prefix, normalized by {@link rootPrefixOf} (`''` for none). */
  readonly rootPrefix: string;
  /** The backend's SDK errors. */
  readonly errors: SdkErrors;
  /** The full name of `key` under the root, after `validateKey` (throws `InvalidNameError`). */
  name(key: string): string;
  /** The full list prefix under the root, after `validatePrefix` (throws `InvalidNameError`). */
  prefix(prefix: string): string;
  /** The key of a full name returned by the SDK (a listing). */
  key(fullName: string): string;
  /** Where `key` is, for messages (`s3://bucket/root/key`); never validates. */
  where(key: string): string;
  /** {@link toStorageError} for a call on `key`; `notFound: 'precondition'` for a call that named a version. */
  error(operation: string, key: string, error: unknown, notFound?: 'precondition'): Error;
  /**
   * Runs one call: its result, or when it fails, `ifMissing()` for a not-found error
   * ({@link isNotFoundError}) if given, else the mapped error ({@link toStorageError}) is thrown.
   */
  run<T>(operation: string, key: string, action: () => Promise<T>, ifMissing?: () => T): Promise<T>;
  /** {@link isNotFoundError} with this backend's errors. */
  isNotFound(error: unknown): boolean;
  /** {@link isVersionGoneError} with this backend's errors: `resumingBody`'s `changed`. */
  isVersionGone(error: unknown): boolean;
  /**
   * `resumingBody` for a read of `key`: a failure that cannot be resumed becomes this
   * backend's mapped error, and a version gone while resuming a retryable `StorageError`.
   */
  resumingRead(key: string, source: NodeJS.ReadableStream, options: Omit<ResumingBodyOptions, 'changed' | 'what' | 'mapError'>): Readable;
}

/**
 * The {@link StorageScope} of one backend instance.
 *
 * @param options.rootPrefix the backend's root prefix option (normalized; throws `InvalidNameError` when no key could live under it)
 * @param options.errors how the backend's SDK reports errors
 * @param options.location the location of a full name, for messages (`(name) => \`s3://${bucket}/${name}\``)
 */
export function storageScope(options: { rootPrefix?: string | undefined; errors: SdkErrors; location(fullName: string): string }): StorageScope {
  const rootPrefix = rootPrefixOf(options.rootPrefix);
  const { errors, location } = options;
  const where = (key: string) => location(joinRoot(rootPrefix, key));
  const error = (operation: string, key: string, cause: unknown, notFound?: 'precondition') => toStorageError(cause, { operation, key, where: where(key), backend: errors, ...(notFound ? { notFound } : {}) });
  return {
    rootPrefix,
    errors,
    name: (key) => joinRoot(rootPrefix, validateKey(key)),
    prefix: (prefix) => joinRoot(rootPrefix, validatePrefix(prefix)),
    key: (fullName) => stripRoot(rootPrefix, fullName),
    where,
    error,
    async run(operation, key, action, ifMissing) {
      try {
        return await action();
      } catch (cause) {
        if (ifMissing && isNotFoundError(cause, errors)) return ifMissing();
        throw error(operation, key, cause);
      }
    },
    isNotFound: (cause) => isNotFoundError(cause, errors),
    isVersionGone: (cause) => isVersionGoneError(cause, errors),
    resumingRead: (key, source, read) =>
      resumingBody(source, {
        ...read,
        changed: (cause) => isVersionGoneError(cause, errors),
        what: `${errors.name} read of ${where(key)}`,
        mapError: (cause) => error('read', key, cause),
      }),
  };
}

/**
 * A base class for a backend with a root prefix: `specificationVersion`, `rootPrefix`
 * and the {@link StorageScope} (`this.scope`) every method uses; the subclass implements
 * the `Storage` methods and `capabilities`.
 *
 * @example
 * class MyStorage extends ScopedStorage {
 *   readonly capabilities = { conditionalWrites: true, rangeReads: true } as const;
 *   constructor(options: { bucket: string; rootPrefix?: string }) {
 *     const bucket = requiredName(options, 'bucket', 'MyStorage needs a bucket: new MyStorage({ bucket: "models" })');
 *     super(storageScope({ rootPrefix: options.rootPrefix, errors: myErrors, location: (name) => `my://${bucket}/${name}` }));
 *   }
 *   // describe, put, get, head, list, delete
 * }
 */
export abstract class ScopedStorage implements Storage {
  readonly specificationVersion = 'v1' as const;
  abstract readonly capabilities: StorageCapabilities;
  /** The folder inside the bucket or container that holds the registry (Python modelstore's `root_prefix`), without slashes at either end; `''` for none. */
  readonly rootPrefix: string;
  /** Keys, locations and errors of this instance. */
  protected readonly scope: StorageScope;

  protected constructor(scope: StorageScope) {
    this.scope = scope;
    this.rootPrefix = scope.rootPrefix;
  }

  abstract describe(key: string): StorageLocation;
  abstract put(key: string, body: Body, options?: PutOptions): Promise<ObjectInfo>;
  abstract get(key: string, options?: GetOptions): Promise<StoredObject | undefined>;
  abstract head(key: string): Promise<ObjectInfo | undefined>;
  abstract list(prefix: string, options?: ListOptions): Promise<ListResult>;
  abstract delete(key: string): Promise<boolean>;
}
