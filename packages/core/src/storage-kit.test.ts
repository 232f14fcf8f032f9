import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { createServer, connect } from 'node:net';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { IntegrityError, InvalidNameError, InvalidOptionError, PreconditionFailedError, StorageError } from './errors.js';
import {
  countingBytes,
  isNotFoundError,
  isRetryableError,
  isRetryableStatus,
  isTransientError,
  joinRoot,
  listPageSize,
  peekBody,
  requiredName,
  rootPrefixOf,
  sha256PassThrough,
  storageScope,
  stripRoot,
  toStorageError,
  type SdkErrors,
} from './storage-kit.js';

/** An error shaped like an HTTP SDK's: a status and a code. */
function httpError(status: number, code?: string, message = `answered ${status}`): Error {
  return Object.assign(new Error(message), { statusCode: status, ...(code ? { code } : {}) });
}

function errnoError(code: string): Error {
  return Object.assign(new Error(`${code}: something failed`), { code });
}

const http: SdkErrors = {
  name: 'Test',
  retryableCodes: ['SlowDown'],
  preconditionCodes: ['ConditionNotMet'],
  notFoundCodes: ['NoSuchKey'],
  refusedCodes: ['AccessDenied'],
  refusedHint: 'check the credentials',
  missingRoot: (facts) => (facts.code === 'NoSuchBucket' ? 'the bucket "b" does not exist' : undefined),
};

const files: SdkErrors = { name: 'File system', retryableCodes: ['EBUSY'], notFoundCodes: ['ENOENT'], noAnswerRetryable: false };

const map = (error: unknown, backend = http, notFound?: 'precondition') => toStorageError(error, { operation: 'read', key: 'a/b', where: 'test://b/a/b', backend, ...(notFound ? { notFound } : {}) });

/** A real ECONNREFUSED from Node: a port that was listening a moment ago. */
async function refusedConnection(): Promise<Error> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return new Promise((resolve) => connect(port, '127.0.0.1').on('error', resolve));
}

describe('the retry table', () => {
  it('retries 408, 429 and every 5xx, nothing else with an answer', () => {
    for (const status of [408, 429, 500, 502, 503, 504, 507, 599]) expect(isRetryableStatus(status)).toBe(true);
    for (const status of [200, 304, 400, 401, 403, 404, 409, 412, 416, 600]) expect(isRetryableStatus(status)).toBe(false);
    for (const status of [408, 429, 500, 503]) expect((map(httpError(status)) as StorageError).retryable).toBe(true);
    for (const status of [400, 409, 416]) expect((map(httpError(status)) as StorageError).retryable).toBe(false);
  });

  it('retries broken connections and timeouts, read from the error or its cause', async () => {
    const refused = await refusedConnection();
    expect((refused as { code?: string }).code).toBe('ECONNREFUSED');
    expect(isTransientError(refused, http)).toBe(true);
    for (const code of ['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ECONNABORTED', 'UND_ERR_SOCKET']) {
      expect(isTransientError(errnoError(code), http)).toBe(true);
    }
    // fetch reports a broken connection as TypeError('fetch failed') with the socket's error as its cause.
    const fetchFailed = new TypeError('fetch failed', { cause: errnoError('ECONNRESET') });
    expect(isTransientError(fetchFailed, http)).toBe(true);
    const mapped = map(fetchFailed) as StorageError;
    expect(mapped.retryable).toBe(true);
    expect(mapped.message).toBe('Test read of test://b/a/b failed (ECONNRESET): fetch failed (ECONNRESET: something failed); the connection was cut: try again');
    expect(isTransientError(new DOMException('no answer', 'TimeoutError'), http)).toBe(true);
  });

  it('says what to do about a failure with no answer: refused, unresolved, timed out; and names a timeout by its name, not its legacy code', async () => {
    const refused = map(await refusedConnection()) as StorageError;
    expect(refused.message).toMatch(
      /^Test read of test:\/\/b\/a\/b failed \(ECONNREFUSED\): connect ECONNREFUSED 127\.0\.0\.1:\d+; nothing is listening at the endpoint: check that the server is running and that the endpoint \(host and port\) is right, then try again$/,
    );
    expect(refused.retryable).toBe(true);
    expect((map(errnoError('ENOTFOUND')) as StorageError).message).toContain("the endpoint's host name does not resolve: check it");
    // A backend whose code() reads a DOMException's numeric code (23 for TimeoutError).
    const numeric: SdkErrors = { ...http, code: (error) => (typeof (error as { code?: unknown }).code === 'number' ? String((error as { code: number }).code) : undefined) };
    const timedOut = map(new DOMException('The operation was aborted due to timeout', 'TimeoutError'), numeric) as StorageError;
    expect(timedOut.message).toBe(
      'Test read of test://b/a/b failed (TimeoutError): The operation was aborted due to timeout; the server did not answer in time: check the network and the server (or raise the request timeout), then try again',
    );
    // An answer from the server gets no such hint: its status says what happened.
    expect((map(httpError(503)) as StorageError).message).not.toContain('try again');
  });

  it('does not retry a host that does not resolve (ENOTFOUND), on any backend default', () => {
    const notFound = new TypeError('fetch failed', { cause: errnoError('ENOTFOUND') });
    expect(isTransientError(notFound, http)).toBe(false);
    expect(isRetryableError(notFound, http)).toBe(false);
    expect((map(errnoError('ENOTFOUND')) as StorageError).retryable).toBe(false);
    // An SDK that kept only the message (the AWS SDK's wrapper for a value from another realm).
    expect(isRetryableError(new Error('AWS SDK error wrapper for Error: getaddrinfo ENOTFOUND no-such-host.invalid'), http)).toBe(false);
  });

  it("adds the backend's own throttling codes and transport messages", () => {
    expect((map(httpError(503, 'SlowDown')) as StorageError).retryable).toBe(true);
    expect((map(httpError(400, 'SlowDown')) as StorageError).retryable).toBe(true);
    expect(isTransientError(httpError(400, 'Other'), http)).toBe(false);
    const hangUp = new Error('socket hang up');
    expect(isTransientError(hangUp, http)).toBe(false);
    expect(isTransientError(hangUp, { ...http, retryableMessage: /socket hang up/ })).toBe(true);
  });

  it('leaves an unknown failure without an answer to the backend: retryable on a network, not on a file system', () => {
    const odd = new Error('the stream broke in an unexpected way');
    expect((map(odd) as StorageError).retryable).toBe(true);
    expect((map(odd, files) as StorageError).retryable).toBe(false);
    expect((map(errnoError('EACCES'), files) as StorageError).retryable).toBe(false);
    expect((map(errnoError('EBUSY'), files) as StorageError).retryable).toBe(true);
    expect((map(errnoError('ETIMEDOUT'), files) as StorageError).retryable).toBe(true);
  });
});

describe('toStorageError', () => {
  it('passes aborts and errors that are already typed through untouched', () => {
    const abort = new DOMException('The operation was aborted', 'AbortError');
    expect(map(abort)).toBe(abort);
    const integrity = new IntegrityError('damaged');
    expect(map(integrity)).toBe(integrity);
    const storage = new StorageError('x', { retryable: true });
    expect(map(storage)).toBe(storage);
    expect(isRetryableError(abort, http)).toBe(false);
    // Final for a backend's own retry loop: typed errors were decided already.
    expect(isRetryableError(storage, http)).toBe(false);
    expect(isTransientError(storage, http)).toBe(false);
  });

  it('maps 412 and precondition codes to PreconditionFailedError naming the key', () => {
    for (const error of [httpError(412), httpError(409, 'ConditionNotMet')]) {
      const mapped = map(error);
      expect(PreconditionFailedError.isInstance(mapped)).toBe(true);
      expect((mapped as PreconditionFailedError).key).toBe('a/b');
      expect(mapped.cause).toBe(error);
    }
  });

  it('maps a not-found answer to PreconditionFailedError only when the call named a version', () => {
    expect(PreconditionFailedError.isInstance(map(httpError(404, 'NoSuchKey'), http, 'precondition'))).toBe(true);
    expect(PreconditionFailedError.isInstance(map(httpError(404), http, 'precondition'))).toBe(true);
    const plain = map(httpError(404, 'NoSuchKey'));
    expect(StorageError.isInstance(plain) && !(plain as StorageError).retryable).toBe(true);
    // A missing bucket is not a lost condition.
    const bucket = map(httpError(404, 'NoSuchBucket'), http, 'precondition');
    expect(StorageError.isInstance(bucket)).toBe(true);
    expect(bucket.message).toBe('Test read of test://b/a/b failed: the bucket "b" does not exist');
  });

  it('says what to check when refused, and never retries it', () => {
    for (const error of [httpError(403), httpError(401), httpError(400, 'AccessDenied')]) {
      const mapped = map(error) as StorageError;
      expect(mapped.message).toMatch(/^Test read of test:\/\/b\/a\/b was refused \((AccessDenied 400|401|403)\): check the credentials$/);
      expect(mapped.retryable).toBe(false);
    }
  });

  it('lets the backend explain an error, and decide its retryable flag', () => {
    const backend: SdkErrors = { ...http, explain: (facts) => (facts.code === 'InvalidBlockList' ? { hint: 'another writer won; try again', retryable: true } : undefined) };
    const mapped = map(httpError(400, 'InvalidBlockList'), backend) as StorageError;
    expect(mapped.message).toBe('Test read of test://b/a/b failed (InvalidBlockList 400): another writer won; try again');
    expect(mapped.retryable).toBe(true);
  });

  it('names the key in quotes when no location is given, and survives values that are not errors', () => {
    const mapped = toStorageError('a string was thrown', { operation: 'write', key: 'k', backend: files });
    expect(mapped.message).toBe('File system write of "k" failed (error): a string was thrown');
    expect(StorageError.isInstance(toStorageError(undefined, { operation: 'list', key: '', backend: http }))).toBe(true);
    expect(StorageError.isInstance(toStorageError(null, { operation: 'list', key: '', backend: http }))).toBe(true);
  });

  it('reads status and code through the backend when its SDK keeps them elsewhere', () => {
    const sdk: SdkErrors = { name: 'S', status: (e) => (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, code: (e) => (e as { name?: string }).name };
    const error = Object.assign(new Error('slow'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
    const mapped = toStorageError(error, { operation: 'write', key: 'k', backend: sdk }) as StorageError;
    expect(mapped.message).toBe('S write of "k" failed (SlowDown 503): slow');
    expect(mapped.retryable).toBe(true);
  });

  it('tells a missing object from a missing bucket', () => {
    expect(isNotFoundError(httpError(404), http)).toBe(true);
    expect(isNotFoundError(httpError(404, 'NoSuchBucket'), http)).toBe(false);
    expect(isNotFoundError(errnoError('ENOENT'), files)).toBe(true);
    expect(isNotFoundError(errnoError('EACCES'), files)).toBe(false);
  });
});

describe('byte stages', () => {
  const chunks = [Buffer.from('abc'), new Uint8Array([100, 101]), 'fgh'];

  it('counts bytes as they pass, from a start, without changing them', async () => {
    const seen: number[] = [];
    const out = await buffer(Readable.from(countingBytes((bytes) => seen.push(bytes), 10)(Readable.from(chunks, { objectMode: true }))));
    expect(out.toString()).toBe('abcdefgh');
    expect(seen).toEqual([13, 15, 18]);
  });

  it("re-exports core's one sha256 pass-through", async () => {
    const hashing = sha256PassThrough(Readable.from([Buffer.from('abc'), Buffer.from('defgh')]));
    expect((await buffer(Readable.from(hashing.stream))).toString()).toBe('abcdefgh');
    expect(hashing.result()).toEqual({ size: 8, sha256: createHash('sha256').update('abcdefgh').digest('hex') });
  });

  it('counts bytes in a pipeline', async () => {
    const seen: number[] = [];
    const parts: Buffer[] = [];
    await pipeline(
      Readable.from(chunks, { objectMode: true }),
      countingBytes((bytes) => seen.push(bytes)),
      async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) parts.push(chunk);
      },
    );
    expect(Buffer.concat(parts).toString()).toBe('abcdefgh');
    expect(seen).toEqual([3, 5, 8]);
  });

  it('fails with a TypeError on chunks that are not bytes', async () => {
    await expect(buffer(Readable.from(countingBytes(undefined)(Readable.from([1, 2], { objectMode: true }))))).rejects.toThrow(TypeError);
  });
});

describe('root prefixes', () => {
  it('trims slashes and refuses prefixes no key could live under', () => {
    expect(rootPrefixOf(undefined)).toBe('');
    expect(rootPrefixOf('/team/models/')).toBe('team/models');
    expect(rootPrefixOf('///')).toBe('');
    for (const bad of ['a//b', 'a/../b', 'a\\b', 'a\u0000b']) expect(() => rootPrefixOf(bad)).toThrow(InvalidNameError);
  });

  it('joins and strips keys and list prefixes', () => {
    expect(joinRoot('', 'a/b')).toBe('a/b');
    expect(joinRoot('team', 'a/b')).toBe('team/a/b');
    expect(joinRoot('team', '')).toBe('team/');
    expect(stripRoot('team', 'team/a/b')).toBe('a/b');
    expect(stripRoot('', 'a/b')).toBe('a/b');
    expect(stripRoot('team', 'teammate/a')).toBe('teammate/a');
    expect(stripRoot('team', joinRoot('team', 'x/y'))).toBe('x/y');
  });

  it('caps list page sizes, and refuses a limit that is not a whole number from 1', () => {
    expect(listPageSize(undefined)).toBe(1000);
    expect(listPageSize(1)).toBe(1);
    expect(listPageSize(5000)).toBe(1000);
    expect(listPageSize(7, 5)).toBe(5);
    for (const limit of [0, -1, 2.5, Number.NaN, Number.POSITIVE_INFINITY, '10' as unknown as number]) {
      expect(() => listPageSize(limit)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'limit' }));
    }
  });
});

describe('peekBody', () => {
  const pieces = (count: number, size: number) => Array.from({ length: count }, (_, i) => Buffer.alloc(size, i));

  it('reads a small body whole, reporting progress', async () => {
    const seen: number[] = [];
    const peeked = await peekBody(Readable.from(pieces(3, 4)), 100, { onProgress: (bytes) => seen.push(bytes) });
    expect(peeked.ended).toBe(true);
    expect(peeked.size).toBe(12);
    expect(peeked.head).toEqual(Buffer.concat(pieces(3, 4)));
    expect(seen).toEqual([4, 8, 12]);
  });

  it('stops past the limit and gives back the whole body, counting on', async () => {
    const seen: number[] = [];
    const peeked = await peekBody(Readable.from(pieces(10, 4)), 8, { onProgress: (bytes) => seen.push(bytes) });
    expect(peeked.ended).toBe(false);
    expect(peeked.size).toBe(12);
    expect(await buffer(peeked.rest())).toEqual(Buffer.concat(pieces(10, 4)));
    expect(seen).toEqual([4, 8, 12, 16, 20, 24, 28, 32, 36, 40]);
  });

  it('takes bytes and strings, and a body of exactly the limit ends within it', async () => {
    expect((await peekBody('hello', 5)).ended).toBe(true);
    expect((await peekBody(new Uint8Array(6), 5)).ended).toBe(false);
  });

  it("throws the signal's reason when aborted", async () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(peekBody(Readable.from(pieces(2, 1)), 10, { signal: controller.signal })).rejects.toBe(reason);
  });
});

describe('requiredName', () => {
  it('returns the name, or throws InvalidOptionError naming the option', () => {
    expect(requiredName({ bucket: 'models' }, 'bucket', 'needs a bucket')).toBe('models');
    for (const options of [undefined, null, 'models', {}, { bucket: '' }, { bucket: 5 }]) {
      const error = (() => {
        try {
          requiredName(options, 'bucket', 'S needs a bucket: new S({ bucket: "m" })');
        } catch (caught) {
          return caught;
        }
        return undefined;
      })();
      expect(InvalidOptionError.isInstance(error)).toBe(true);
      expect((error as InvalidOptionError).option).toBe('bucket');
      expect((error as Error).message).toMatch(/S needs a bucket: new S\(\{ bucket: "m" \}\)/);
    }
  });
});

describe('storageScope', () => {
  const scope = storageScope({ rootPrefix: '/team/', errors: http, location: (name) => `test://b/${name}` });

  it('names keys and prefixes under the root, validated, and strips listed names', () => {
    expect(scope.rootPrefix).toBe('team');
    expect(scope.name('a/b')).toBe('team/a/b');
    expect(scope.prefix('')).toBe('team/');
    expect(scope.prefix('a/')).toBe('team/a/');
    expect(scope.key('team/a/b')).toBe('a/b');
    expect(scope.where('a/b')).toBe('test://b/team/a/b');
    expect(() => scope.name('../x')).toThrow(InvalidNameError);
    expect(() => scope.prefix('a//')).toThrow(InvalidNameError);
  });

  it('runs a call: its result, ifMissing for a missing object, else the mapped error', async () => {
    expect(await scope.run('read', 'k', async () => 7)).toBe(7);
    expect(
      await scope.run(
        'read',
        'k',
        () => Promise.reject(httpError(404)),
        () => 'missing',
      ),
    ).toBe('missing');
    const bucket = await scope
      .run(
        'read',
        'k',
        () => Promise.reject(httpError(404, 'NoSuchBucket')),
        () => 'missing',
      )
      .catch((error: unknown) => error);
    expect((bucket as Error).message).toBe('Test read of test://b/team/k failed: the bucket "b" does not exist');
    const unmapped404 = await scope.run('delete', 'k', () => Promise.reject(httpError(404))).catch((error: unknown) => error);
    expect(StorageError.isInstance(unmapped404)).toBe(true);
    const busy = await scope.run('write', 'k', () => Promise.reject(httpError(503, 'SlowDown'))).catch((error: unknown) => error);
    expect((busy as StorageError).retryable).toBe(true);
    expect(PreconditionFailedError.isInstance(scope.error('write', 'k', httpError(404), 'precondition'))).toBe(true);
    expect(scope.isNotFound(httpError(404))).toBe(true);
    expect(scope.isVersionGone(httpError(412))).toBe(true);
    expect(scope.isVersionGone(httpError(500))).toBe(false);
  });

  it('resumes a broken read on the same version, and names the read when the version is gone', async () => {
    const bytes = Buffer.from('0123456789');
    const broken = (from: number, upTo: number) =>
      Readable.from(
        (async function* () {
          yield bytes.subarray(from, upTo);
          throw errnoError('ECONNRESET');
        })(),
      );
    const whole = scope.resumingRead('k', broken(0, 4), { size: bytes.length, reopen: async (from) => Readable.from([bytes.subarray(from)]) });
    expect(await buffer(whole)).toEqual(bytes);
    const gone = scope.resumingRead('k', broken(0, 4), { size: bytes.length, reopen: () => Promise.reject(httpError(412)) });
    const error = await buffer(gone).catch((caught: unknown) => caught);
    expect((error as StorageError).retryable).toBe(true);
    expect((error as Error).message).toBe('Test read of test://b/team/k broke off and the object changed before it could resume: read it again');
    const failing = scope.resumingRead('k', broken(0, 4), { size: bytes.length, attempts: 1, reopen: async (from) => broken(from, from + 1) });
    const final = await buffer(failing).catch((caught: unknown) => caught);
    expect((final as Error).message).toBe('Test read of test://b/team/k failed (ECONNRESET): ECONNRESET: something failed; the connection was cut: try again');
    expect((final as StorageError).retryable).toBe(true);
  });
});
