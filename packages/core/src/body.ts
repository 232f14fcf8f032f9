import { Readable } from 'node:stream';
import { IntegrityError, InvalidArgumentError, ModelStoreError, StorageError } from './errors.js';
import type { Body } from './storage.js';

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/**
 * Turns any `Body` into a Node `Readable` of Buffers without copying or gathering
 * it: bytes and strings become one chunk, streams and async iterables are
 * consumed lazily, chunk by chunk.
 */
export function bodyToReadable(body: Body): Readable {
  if (typeof body === 'string') return Readable.from([Buffer.from(body, 'utf8')], { objectMode: false });
  if (body instanceof Uint8Array) {
    // Readable.from() would iterate a plain Uint8Array byte by byte.
    return Readable.from([Buffer.from(body.buffer, body.byteOffset, body.byteLength)], { objectMode: false });
  }
  if (body instanceof Readable) return body;
  if (isAsyncIterable(body)) return Readable.from(toBuffers(body), { objectMode: false });
  if (typeof (body as NodeJS.ReadableStream).on === 'function') return new Readable().wrap(body as NodeJS.ReadableStream);
  throw new InvalidArgumentError('Body must be a Uint8Array, a string, a readable stream or an async iterable of Uint8Array', { argument: 'body' });
}

async function* toBuffers(source: AsyncIterable<unknown>): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    if (typeof chunk === 'string') yield Buffer.from(chunk, 'utf8');
    else if (chunk instanceof Uint8Array) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    else throw new InvalidArgumentError('Body chunks must be Uint8Array or string', { argument: 'body' });
  }
}

/** The size of `body` in bytes when it is known without reading it (bytes or string), else `undefined`. */
export function knownBodySize(body: Body): number | undefined {
  if (typeof body === 'string') return Buffer.byteLength(body, 'utf8');
  if (body instanceof Uint8Array) return body.byteLength;
  return undefined;
}

/** An `AbortError` like the ones Node's own APIs throw, for a signal without a reason. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

/** The bytes of a body given as bytes or a string (no copy for bytes), else `undefined`: for small single-request writes. */
export function bodyBytes(body: Body): Buffer | undefined {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return undefined;
}

export interface ResumingBodyOptions {
  /** The object's whole size. */
  size: number;
  /** The range the body holds (end inclusive, clipped to the object); the whole object if absent. */
  range?: { start: number; end?: number };
  /** Opens bytes `from` to `to` (inclusive) of the same version of the object (pinned to its etag or generation, so a changed object fails). */
  reopen(from: number, to: number): Promise<NodeJS.ReadableStream>;
  /** Whether a failed reopen means the object changed or vanished since the read began: the read then fails with a retryable `StorageError`. */
  changed?(error: unknown): boolean;
  /** The read, for that error's message, e.g. `S3 read of s3://bucket/key`. */
  what?: string;
  /** Resumptions allowed after a broken read (default 3). */
  attempts?: number;
  /** Turns the final failure into the storage's typed error. */
  mapError(error: unknown): Error;
  signal?: AbortSignal;
  /**
   * A read that waits this long for its next bytes is abandoned and resumed (counted
   * as a failure). Only time spent waiting on the connection counts, not time the
   * consumer takes. Default: no limit.
   */
  idleTimeoutMs?: number;
}

/** The next chunk of `iterator`, or a rejection with code ETIMEDOUT after `ms` without one. */
function nextWithin<T>(iterator: AsyncIterator<T>, ms: number | undefined): Promise<IteratorResult<T>> {
  if (ms === undefined) return iterator.next();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no bytes arrived for ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
  });
  return Promise.race([iterator.next(), timeout]).finally(() => clearTimeout(timer));
}

/**
 * A read body that survives broken connections: when `source` fails part-way, or
 * ends before the range's last byte, the rest is read again from where it stopped, up to
 * `attempts` times. A failure that cannot be resumed surfaces as `mapError(error)`,
 * so a reader always sees a typed error, never a raw socket error. Memory stays one
 * chunk: nothing is buffered for the retry.
 */
export function resumingBody(source: NodeJS.ReadableStream, options: ResumingBodyOptions): Readable {
  const attempts = options.attempts ?? 3;
  const start = options.range?.start ?? 0;
  const end = options.range?.end === undefined ? options.size - 1 : Math.min(options.range.end, options.size - 1);
  const length = Math.max(0, end - start + 1);
  // A connection can break before the reader starts (or after it moved on to a
  // resumed stream): the error is kept in the stream's state and thrown by its
  // iterator, never left to escape as an 'error' event nobody listens to.
  const hold = (stream: NodeJS.ReadableStream) => {
    stream.on?.('error', () => undefined);
    return stream;
  };
  let current = hold(source);
  let stopped = false;
  async function* read(): AsyncGenerator<Buffer> {
    let offset = 0;
    let failures = 0;
    try {
      for (;;) {
        try {
          const iterator = (current as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
          for (;;) {
            const next = await nextWithin(iterator, options.idleTimeoutMs);
            if (next.done) break;
            offset += next.value.length;
            yield next.value;
          }
          if (offset >= length) return;
          throw new Error(`the connection ended after ${offset} of ${length} bytes`);
        } catch (error) {
          if (options.signal?.aborted) throw abortReason(options.signal);
          // An abort is the caller's only if its signal says so: SDKs also report a
          // connection the server dropped as an AbortError.
          // A damaged read (the backend's checksum failed) is not a broken connection.
          if (stopped || IntegrityError.isInstance(error)) throw error;
          (current as Readable).destroy?.();
          if (++failures > attempts) throw options.mapError(error);
          try {
            current = hold(await options.reopen(start + offset, end));
          } catch (reopenError) {
            if (options.changed?.(reopenError)) {
              throw new StorageError(`${options.what ?? 'The read'} broke off and the object changed before it could resume: read it again`, { cause: reopenError, retryable: true });
            }
            throw ModelStoreError.isInstance(reopenError) ? reopenError : options.mapError(reopenError);
          }
        }
      }
    } finally {
      // Also when the reader stops early: the connection is released, not left open.
      (current as Readable).destroy?.();
    }
  }
  const out = Readable.from(read(), { objectMode: false });
  // A reader that stops early may do so while a read waits on the connection (the
  // generator cannot return until that read settles): close the connection first.
  const destroy = out._destroy.bind(out);
  out._destroy = (error, callback) => {
    stopped = true;
    (current as Readable).destroy?.();
    destroy(error, callback);
  };
  return out;
}
