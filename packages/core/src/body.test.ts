import { describe, expect, it } from '@jest/globals';
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { IntegrityError, InvalidArgumentError, StorageError } from './errors.js';
import { bodyToReadable, knownBodySize, resumingBody } from './body.js';

async function collect(readable: Readable): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of readable) chunks.push(chunk as Buffer);
  return chunks;
}

describe('bodyToReadable', () => {
  it('turns a Uint8Array view into one chunk of exactly its bytes', async () => {
    const view = new Uint8Array([9, 1, 2, 3, 9]).subarray(1, 4);
    const chunks = await collect(bodyToReadable(view));
    expect(chunks).toHaveLength(1);
    expect([...chunks[0]!]).toEqual([1, 2, 3]);
  });

  it('encodes strings as UTF-8', async () => {
    expect(Buffer.concat(await collect(bodyToReadable('é'))).toString('hex')).toBe('c3a9');
  });

  it('consumes async iterables lazily', async () => {
    let pulled = 0;
    async function* source() {
      for (let i = 0; i < 3; i++) {
        pulled++;
        yield new Uint8Array([i]);
      }
    }
    const readable = bodyToReadable(source());
    expect(pulled).toBe(0);
    expect(Buffer.concat(await collect(readable))).toEqual(Buffer.from([0, 1, 2]));
  });

  it('rejects other values', () => {
    expect(() => bodyToReadable(42 as never)).toThrow(InvalidArgumentError);
  });

  it('knows the size of bytes and strings only', () => {
    expect(knownBodySize('é')).toBe(2);
    expect(knownBodySize(new Uint8Array(5))).toBe(5);
    expect(knownBodySize(Readable.from([]))).toBeUndefined();
  });
});

describe('resumingBody', () => {
  const bytes = randomBytes(100_000);
  /** The bytes from `offset`, cut off with an error after `cut` bytes (or whole). */
  function broken(offset: number, cut?: number, error: Error = Object.assign(new Error('aborted'), { code: 'ECONNRESET' })): Readable {
    const rest = bytes.subarray(offset);
    return Readable.from(
      (async function* () {
        if (cut === undefined) {
          yield rest;
          return;
        }
        yield rest.subarray(0, cut);
        throw error;
      })(),
      { objectMode: false },
    );
  }
  const mapError = (error: unknown) => new StorageError(`read failed: ${(error as Error).message}`, { cause: error, retryable: true });

  it('resumes a read cut off part-way from where it stopped, byte for byte', async () => {
    const offsets: number[] = [];
    const body = resumingBody(broken(0, 30_000), {
      size: bytes.length,
      reopen: async (offset) => {
        offsets.push(offset);
        return offsets.length === 1 ? broken(offset, 10_000) : broken(offset);
      },
      mapError,
    });
    expect(Buffer.concat(await collect(body)).equals(bytes)).toBe(true);
    expect(offsets).toEqual([30_000, 40_000]);
  });

  it('resumes a body that ends early without an error', async () => {
    const early = Readable.from([bytes.subarray(0, 500)], { objectMode: false });
    const body = resumingBody(early, { size: bytes.length, reopen: async (offset) => broken(offset), mapError });
    expect(Buffer.concat(await collect(body)).equals(bytes)).toBe(true);
  });

  it('keeps a break that happens before the reader starts, and resumes it when the reader comes', async () => {
    // A connection that breaks while nobody reads yet: with no listener, its 'error' event escaped the process.
    const early = new Readable({ read() {} });
    early.push(bytes.subarray(0, 1000));
    const body = resumingBody(early, { size: bytes.length, reopen: async (offset) => broken(offset), mapError });
    early.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(Buffer.concat(await collect(body)).length).toBeGreaterThan(0);
  });

  it("does not resume a read whose bytes failed the backend's checksum", async () => {
    const damaged = new IntegrityError('crc32c mismatch');
    let reopened = 0;
    const body = resumingBody(broken(0, 10, damaged), { size: bytes.length, reopen: async (offset) => (reopened++, broken(offset)), mapError });
    await expect(collect(body)).rejects.toBe(damaged);
    expect(reopened).toBe(0);
  });

  it("gives up after `attempts` resumptions with the storage's typed error", async () => {
    let reopened = 0;
    const body = resumingBody(broken(0, 10), { size: bytes.length, attempts: 2, reopen: async (offset) => (reopened++, broken(offset, 10)), mapError });
    const error = await collect(body).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(StorageError.isInstance(error)).toBe(true);
    expect((error as StorageError).message).toBe('read failed: aborted');
    expect(reopened).toBe(2);
  });

  it('reports a failed reopen as a typed error, and passes a typed one through', async () => {
    const raw = await collect(resumingBody(broken(0, 10), { size: bytes.length, reopen: () => Promise.reject(new Error('ECONNREFUSED')), mapError })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((raw as StorageError).message).toBe('read failed: ECONNREFUSED');
    const typed = new StorageError('the object changed');
    const passed = await collect(resumingBody(broken(0, 10), { size: bytes.length, reopen: () => Promise.reject(typed), mapError })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(passed).toBe(typed);
  });

  it("reopens a ranged read at absolute positions, up to the range's last byte", async () => {
    const asked: Array<[number, number]> = [];
    const first = Readable.from([bytes.subarray(1000, 1500)], { objectMode: false });
    const body = resumingBody(first, { size: bytes.length, range: { start: 1000, end: 1999 }, reopen: async (from, to) => (asked.push([from, to]), Readable.from([bytes.subarray(from, to + 1)], { objectMode: false })), mapError });
    expect(Buffer.concat(await collect(body)).equals(bytes.subarray(1000, 2000))).toBe(true);
    expect(asked).toEqual([[1500, 1999]]);
  });

  it('fails as retryable, naming the read, when the object changed before the read could resume', async () => {
    const changed = Object.assign(new Error('412 Precondition Failed'), { status: 412 });
    const error = await collect(resumingBody(broken(0, 10), { size: bytes.length, reopen: () => Promise.reject(changed), changed: (e) => (e as { status?: number }).status === 412, what: 'S3 read of s3://b/k', mapError })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(StorageError.isInstance(error) && (error as StorageError).retryable).toBe(true);
    expect((error as StorageError).message).toBe('S3 read of s3://b/k broke off and the object changed before it could resume: read it again');
  });

  it('resumes a connection an SDK reports as aborted when the caller did not abort', async () => {
    const dropped = Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' });
    const body = resumingBody(broken(0, 20_000, dropped), { size: bytes.length, reopen: async (offset) => broken(offset), mapError });
    expect(Buffer.concat(await collect(body)).equals(bytes)).toBe(true);
  });

  it('does not resume an aborted read', async () => {
    const controller = new AbortController();
    controller.abort();
    let reopened = 0;
    const error = await collect(resumingBody(broken(0, 10), { size: bytes.length, reopen: async (offset) => (reopened++, broken(offset)), mapError, signal: controller.signal })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as Error).name).toBe('AbortError');
    expect(reopened).toBe(0);
  });
});

describe('resumingBody idle timeout', () => {
  it('abandons a read that stops sending and resumes it', async () => {
    const bytes = randomBytes(10_000);
    // A source that sends half and then neither ends nor fails.
    const stuck = new Readable({ read() {} });
    stuck.push(bytes.subarray(0, 5000));
    const body = resumingBody(stuck, {
      size: bytes.length,
      idleTimeoutMs: 100,
      reopen: async (offset) => Readable.from([bytes.subarray(offset)], { objectMode: false }),
      mapError: (error) => new StorageError(String(error)),
    });
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
    expect(stuck.destroyed).toBe(true);
  });

  it('does not count the time the reader takes', async () => {
    const bytes = randomBytes(3000);
    const body = resumingBody(Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000, 2000), bytes.subarray(2000)], { objectMode: false }), {
      size: bytes.length,
      idleTimeoutMs: 50,
      reopen: () => Promise.reject(new Error('must not resume')),
      mapError: (error) => new StorageError(String(error)),
    });
    const chunks: Buffer[] = [];
    for await (const chunk of body) {
      chunks.push(chunk as Buffer);
      await new Promise((resolve) => setTimeout(resolve, 120));
    }
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
  });

  it('releases the connection when the reader stops early', async () => {
    const source = new Readable({ read() {} });
    source.push(Buffer.alloc(100));
    const body = resumingBody(source, { size: 1000, reopen: () => Promise.reject(new Error('no')), mapError: (error) => new StorageError(String(error)) });
    for await (const _ of body) break;
    await new Promise((resolve) => setImmediate(resolve));
    expect(source.destroyed).toBe(true);
  });
});
