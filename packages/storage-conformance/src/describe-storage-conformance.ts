import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { InvalidNameError, PreconditionFailedError, type ObjectInfo, type Storage, type StorageCapabilities } from '@modelstore/core';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

/** Test groups of the suite; each can be switched off with `skip`. */
export type ConformanceGroup =
  | 'round trips'
  | 'large objects'
  | 'head'
  | 'list'
  | 'delete'
  | 'keys'
  | 'range reads'
  | 'conditional writes'
  | 'concurrency'
  | 'abort';

export interface StorageConformanceOptions<S extends Storage = Storage> {
  /** Shown in the test names. */
  name: string;
  /** A fresh store for each test. Tests also use a random key prefix, so stores may share a bucket. */
  createStorage(): S | Promise<S>;
  /** Called after each test with the store `createStorage` returned. */
  destroyStorage?(storage: S): void | Promise<void>;
  /**
   * The capabilities the store declares. Groups that need one it lacks (`range
   * reads`, `conditional writes`) are not registered. When omitted, the suite calls
   * `createStorage()` once while registering, which must then return synchronously.
   * Every test checks that the store it gets declares exactly these.
   */
  capabilities?: StorageCapabilities;
  /**
   * Groups to leave out, for a documented limitation of a third-party server
   * (a test double that ignores conditional headers, say). Not for real backends.
   */
  skip?: ConformanceGroup[];
  /**
   * The store keeps objects in this process's memory (like `MemoryStorage`), so
   * the check that a 64 MiB put is streamed rather than gathered does not apply.
   */
  holdsObjectsInMemory?: boolean;
  /**
   * Most bytes the store may hold in memory while streaming the 64 MiB object
   * (default 40 MiB). A multipart uploader holds about `partSize * (queueSize + 1)`.
   */
  streamingBudget?: number;
  /** Milliseconds allowed for each large-object and concurrency test (default 120 000). */
  slowTestTimeout?: number;
}

const MiB = 1024 * 1024;

/** Reads a stream to a Buffer: only for the small objects of this suite. */
async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

async function readText(storage: Storage, key: string): Promise<string | undefined> {
  const object = await storage.get(key);
  return object ? (await readAll(object.body)).toString('utf8') : undefined;
}

/** Hashes a stream chunk by chunk, never holding more than one chunk. */
async function hashStream(stream: NodeJS.ReadableStream): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest('hex'), size };
}

/** Deterministic pseudo-random chunk `index` of a large object. */
function patternChunk(index: number, size: number): Buffer {
  const chunk = Buffer.allocUnsafe(size);
  let x = (index + 1) * 0x9e3779b1;
  for (let offset = 0; offset < size; offset += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    chunk.writeInt32LE(x | 0, offset);
  }
  return chunk;
}

function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

async function listAll(storage: Storage, prefix: string, limit?: number): Promise<{ pages: ObjectInfo[][]; keys: string[] }> {
  const pages: ObjectInfo[][] = [];
  let cursor: string | undefined;
  do {
    const page = await storage.list(prefix, { ...(cursor === undefined ? {} : { cursor }), ...(limit === undefined ? {} : { limit }) });
    pages.push(page.objects);
    cursor = page.cursor;
    if (pages.length > 10_000) throw new Error('list() keeps returning a cursor');
  } while (cursor !== undefined);
  return { pages, keys: pages.flat().map((object) => object.key) };
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** The 'invalid key' classes every backend must reject before any I/O. */
export const invalidKeys: ReadonlyArray<[string, string]> = [
  ['empty key', ''],
  ['leading slash', '/a/b'],
  ['empty segment', 'a//b'],
  ['trailing slash', 'a/b/'],
  ['dot segment', 'a/./b'],
  ['leading dot segment', './a'],
  ['dot-dot segment', 'a/../b'],
  ['leading dot-dot', '../a'],
  ['trailing dot-dot', 'a/..'],
  ['backslash', 'a\\b'],
  ['backslash traversal', '..\\a'],
  ['NUL', 'a\u0000b'],
  ['newline', 'a\nb'],
  ['control character', 'a\u001bb'],
  ['DEL', 'a\u007f'],
];

function probeCapabilities<S extends Storage>(options: StorageConformanceOptions<S>): StorageCapabilities {
  const storage = options.createStorage();
  if (typeof (storage as Partial<PromiseLike<S>>).then === 'function') {
    throw new Error(`createStorage() of ${options.name} is asynchronous: pass its capabilities to describeStorageConformance({ capabilities })`);
  }
  const { conditionalWrites, rangeReads } = (storage as S).capabilities;
  void options.destroyStorage?.(storage as S);
  return { conditionalWrites, rangeReads };
}

/**
 * Registers the Storage conformance suite with jest. Call it at the top level of
 * a test file; add your backend's own cases after it.
 *
 * ```ts
 * describeStorageConformance({ name: 'MyStorage', createStorage: () => new MyStorage(...) });
 * ```
 */
export function describeStorageConformance<S extends Storage>(options: StorageConformanceOptions<S>): void {
  const skipped = new Set(options.skip ?? []);
  const slow = options.slowTestTimeout ?? 120_000;
  const capabilities = options.capabilities ?? probeCapabilities(options);

  describe(`Storage conformance: ${options.name}`, () => {
    let storage: S;
    let prefix: string;
    /** A key inside this test's private prefix. */
    const k = (name: string) => `${prefix}${name}`;

    beforeEach(async () => {
      storage = await options.createStorage();
      prefix = `conformance-${randomBytes(6).toString('hex')}/`;
    });
    afterEach(async () => {
      await options.destroyStorage?.(storage);
    });

    const group = (name: ConformanceGroup, enabled: boolean, body: () => void) => {
      if (enabled && !skipped.has(name)) describe(name, body);
    };
    const always = true;

    it('declares the v1 contract and the expected capabilities', () => {
      expect(storage.specificationVersion).toBe('v1');
      expect({ ...storage.capabilities }).toEqual({ ...capabilities });
      expect(typeof storage.describe('a/b').type).toBe('string');
    });

    group('round trips', always, () => {
      it('round-trips bytes, including a Uint8Array view into a larger buffer', async () => {
        const backing = new Uint8Array(300).map((_, i) => i % 251);
        const view = backing.subarray(10, 266);
        const info = await storage.put(k('bytes'), view);
        expect(info.key).toBe(k('bytes'));
        expect(info.size).toBe(256);
        const object = await storage.get(k('bytes'));
        expect(object).toBeDefined();
        expect(Buffer.compare(await readAll(object!.body), Buffer.from(view))).toBe(0);
        expect(object!.size).toBe(256);
        expect(object!.etag).toBe(info.etag);
      });

      it('round-trips a UTF-8 string', async () => {
        const text = 'modèle ✓ 模型 🚀\n';
        const info = await storage.put(k('text.txt'), text);
        expect(info.size).toBe(Buffer.byteLength(text));
        expect(await readText(storage, k('text.txt'))).toBe(text);
      });

      it('round-trips a Node stream', async () => {
        const chunks = [Buffer.from('alpha '), Buffer.from('beta '), Buffer.from('gamma')];
        await storage.put(k('stream'), Readable.from(chunks));
        expect(await readText(storage, k('stream'))).toBe('alpha beta gamma');
      });

      it('round-trips an async iterable', async () => {
        async function* generate() {
          for (let i = 0; i < 5; i++) yield new TextEncoder().encode(`part-${i};`);
        }
        await storage.put(k('iterable'), generate());
        expect(await readText(storage, k('iterable'))).toBe('part-0;part-1;part-2;part-3;part-4;');
      });

      it('round-trips an empty object', async () => {
        const info = await storage.put(k('empty'), new Uint8Array(0));
        expect(info.size).toBe(0);
        const object = await storage.get(k('empty'));
        expect((await readAll(object!.body)).length).toBe(0);
      });

      it('round-trips keys with spaces, unicode and deep nesting', async () => {
        const keys = [k('with space/file name.json'), k('ünï/çødé/模型.bin'), k('a/b/c/d/e/f/g/h.txt')];
        for (const key of keys) await storage.put(key, key);
        for (const key of keys) expect(await readText(storage, key)).toBe(key);
      });

      it('overwrites, and the etag changes with the bytes', async () => {
        const first = await storage.put(k('over'), 'same');
        const second = await storage.put(k('over'), 'different and longer');
        expect(second.etag).not.toBe(first.etag);
        expect(await readText(storage, k('over'))).toBe('different and longer');
        const third = await storage.put(k('over'), 'same');
        expect(third.etag).not.toBe(second.etag);
        expect((await storage.head(k('over')))!.etag).toBe(third.etag);
      });

      it('fails a put whose body errors, and leaves no object', async () => {
        async function* failing() {
          yield Buffer.alloc(1024, 1);
          throw new Error('source failed');
        }
        await expect(storage.put(k('broken'), failing())).rejects.toThrow();
        expect(await storage.head(k('broken'))).toBeUndefined();
        expect((await listAll(storage, prefix)).keys).toEqual([]);
      });

      it('keeps the previous object when an overwrite fails', async () => {
        await storage.put(k('kept'), 'original');
        async function* failing() {
          yield Buffer.from('partial');
          throw new Error('source failed');
        }
        await expect(storage.put(k('kept'), failing())).rejects.toThrow();
        expect(await readText(storage, k('kept'))).toBe('original');
      });
    });

    group('large objects', always, () => {
      it(
        'puts a 64 MiB object from a generator and reads it back by hash, streaming both ways',
        async () => {
          const chunkSize = MiB;
          const chunks = 64;
          const expected = createHash('sha256');
          collectGarbage();
          const baseline = process.memoryUsage().arrayBuffers;
          let peak = 0;
          const sample = () => {
            peak = Math.max(peak, process.memoryUsage().arrayBuffers - baseline);
          };
          async function* generate() {
            for (let i = 0; i < chunks; i++) {
              const chunk = patternChunk(i, chunkSize);
              expected.update(chunk);
              // Collect first, so the sample counts what is live rather than garbage.
              collectGarbage();
              sample();
              yield chunk;
            }
          }
          let progress = 0;
          const info = await storage.put(k('large.bin'), generate(), {
            size: chunks * chunkSize,
            onProgress: (bytes) => {
              progress = bytes;
            },
          });
          expect(info.size).toBe(chunks * chunkSize);
          expect(progress).toBe(chunks * chunkSize);

          const object = await storage.get(k('large.bin'));
          const hash = createHash('sha256');
          let size = 0;
          let index = 0;
          for await (const chunk of object!.body as AsyncIterable<Buffer>) {
            hash.update(chunk);
            size += chunk.length;
            if (index++ % 16 === 0) {
              collectGarbage();
              sample();
            }
          }
          expect(size).toBe(chunks * chunkSize);
          expect(hash.digest('hex')).toBe(expected.digest('hex'));
          const gcExposed = typeof (globalThis as { gc?: unknown }).gc === 'function';
          if (!options.holdsObjectsInMemory) {
            // A store that gathers the object holds 64 MiB at once. Without --expose-gc,
            // garbage not yet collected counts too, hence the looser bound.
            expect(peak).toBeLessThan(gcExposed ? (options.streamingBudget ?? 40 * MiB) : 96 * MiB);
          }
        },
        slow,
      );
    });

    group('head', always, () => {
      it('describes an object without reading it', async () => {
        const before = Date.now();
        const info = await storage.put(k('head/me'), 'twelve bytes');
        const head = await storage.head(k('head/me'));
        expect(head).toEqual(expect.objectContaining({ key: k('head/me'), size: 12, etag: info.etag }));
        expect(head!.lastModified).toBeInstanceOf(Date);
        // Allow for clock skew between a server and this process.
        expect(Math.abs(head!.lastModified.getTime() - before)).toBeLessThan(5 * 60_000);
      });

      it('gives undefined for a missing key, from head and get', async () => {
        expect(await storage.head(k('missing'))).toBeUndefined();
        expect(await storage.get(k('missing'))).toBeUndefined();
        expect(await storage.get(k('missing/deeper/still'))).toBeUndefined();
      });

      it('gives undefined for a "directory" that only exists as a prefix', async () => {
        await storage.put(k('dir/file'), 'x');
        expect(await storage.head(k('dir'))).toBeUndefined();
        expect(await storage.get(k('dir'))).toBeUndefined();
      });
    });

    group('list', always, () => {
      it('isolates prefixes: "a/" does not return "ab/"', async () => {
        await storage.put(k('a/1'), '1');
        await storage.put(k('a/2/deep'), '2');
        await storage.put(k('ab/1'), '3');
        await storage.put(k('a-c'), '4');
        expect((await listAll(storage, k('a/'))).keys).toEqual([k('a/1'), k('a/2/deep')]);
        expect((await listAll(storage, k('ab/'))).keys).toEqual([k('ab/1')]);
        expect((await listAll(storage, k('a'))).keys).toEqual([k('a-c'), k('a/1'), k('a/2/deep'), k('ab/1')]);
        expect((await listAll(storage, k('zzz/'))).keys).toEqual([]);
      });

      it('lists recursively, in lexicographic byte order, with sizes and etags', async () => {
        // No key is also another key's "directory": file systems cannot hold both.
        const names = ['b', 'a/b/c', 'a-b', 'A', 'a.b', 'a/c', 'a0', 'z/y/x', 'é', 'a_b'];
        const infos = new Map<string, ObjectInfo>();
        for (const name of names) infos.set(k(name), await storage.put(k(name), `${name}!`));
        const { pages } = await listAll(storage, prefix);
        const objects = pages.flat();
        expect(objects.map((o) => o.key)).toEqual(names.map(k).sort(byteOrder));
        for (const object of objects) {
          expect(object.size).toBe(Buffer.byteLength(object.key.slice(prefix.length)) + 1);
          expect(object.etag).toBe(infos.get(object.key)!.etag);
          expect(object.lastModified).toBeInstanceOf(Date);
        }
      });

      it('paginates with limit 2 and cursors over 7 keys', async () => {
        const names = ['k1', 'k2', 'k3', 'k4/x', 'k5', 'k6/y/z', 'k7'];
        for (const name of [...names].reverse()) await storage.put(k(name), name);
        const { pages, keys } = await listAll(storage, prefix, 2);
        expect(keys).toEqual(names.map(k));
        expect(pages.length).toBeGreaterThanOrEqual(4);
        for (const page of pages) expect(page.length).toBeLessThanOrEqual(2);
        expect(new Set(keys).size).toBe(7);
      });

      it('returns an empty page with no cursor for an empty prefix', async () => {
        const page = await storage.list(k('nothing/'));
        expect(page.objects).toEqual([]);
        expect(page.cursor).toBeUndefined();
      });
    });

    group('delete', always, () => {
      it('deletes an object and returns true, then false', async () => {
        await storage.put(k('gone'), 'bye');
        expect(await storage.delete(k('gone'))).toBe(true);
        expect(await storage.head(k('gone'))).toBeUndefined();
        expect(await storage.delete(k('gone'))).toBe(false);
      });

      it('returns false for a key that never existed, without throwing', async () => {
        expect(await storage.delete(k('never/was'))).toBe(false);
      });

      it('deletes only the key, not its siblings or longer keys', async () => {
        await storage.put(k('x'), '1');
        await storage.put(k('x2'), '2');
        await storage.put(k('y/x'), '3');
        await storage.delete(k('x'));
        expect((await listAll(storage, prefix)).keys).toEqual([k('x2'), k('y/x')]);
      });
    });

    group('keys', always, () => {
      it.each(invalidKeys)('rejects a key with %s before any I/O', async (_label, suffix) => {
        const key = suffix.startsWith('/') || suffix === '' ? suffix : `${prefix}${suffix}`;
        let bodyRead = false;
        async function* body() {
          bodyRead = true;
          yield Buffer.from('never');
        }
        await expect(storage.put(key, body())).rejects.toMatchObject({ code: 'INVALID_NAME' });
        await expect(storage.get(key)).rejects.toMatchObject({ code: 'INVALID_NAME' });
        await expect(storage.head(key)).rejects.toMatchObject({ code: 'INVALID_NAME' });
        await expect(storage.delete(key)).rejects.toMatchObject({ code: 'INVALID_NAME' });
        let thrown: unknown;
        try {
          storage.describe(key);
        } catch (error) {
          thrown = error;
        }
        expect(InvalidNameError.isInstance(thrown)).toBe(true);
        expect(bodyRead).toBe(false);
        expect((await listAll(storage, prefix)).keys).toEqual([]);
      });

      it.each([['/a'], ['a//'], ['../'], ['a/../b/'], ['a\\'], ['a\u0000']])('rejects the list prefix %j', async (bad) => {
        await expect(storage.list(bad)).rejects.toMatchObject({ code: 'INVALID_NAME' });
      });
    });

    group('range reads', capabilities.rangeReads, () => {
      it('reads inclusive byte ranges', async () => {
        await storage.put(k('range'), '0123456789');
        const read = async (range: { start: number; end?: number }) => {
          const object = await storage.get(k('range'), { range });
          expect(object!.size).toBe(10);
          return (await readAll(object!.body)).toString();
        };
        expect(await read({ start: 2, end: 5 })).toBe('2345');
        expect(await read({ start: 7 })).toBe('789');
        expect(await read({ start: 0, end: 0 })).toBe('0');
        expect(await read({ start: 8, end: 100 })).toBe('89');
      });

      it('rejects a malformed range with StorageError', async () => {
        await storage.put(k('range-bad'), '0123456789');
        for (const range of [{ start: -1 }, { start: 5, end: 2 }, { start: 1.5 }]) {
          await expect(storage.get(k('range-bad'), { range })).rejects.toMatchObject({ code: 'STORAGE' });
        }
      });

      it('reads a range from the middle of a large object', async () => {
        const data = randomBytes(3 * MiB + 17);
        await storage.put(k('range-large'), data);
        const object = await storage.get(k('range-large'), { range: { start: MiB - 5, end: 2 * MiB + 4 } });
        expect(Buffer.compare(await readAll(object!.body), data.subarray(MiB - 5, 2 * MiB + 5))).toBe(0);
      });
    });

    group('conditional writes', capabilities.conditionalWrites, () => {
      it('creates with ifNoneMatch "*" only when the key is free', async () => {
        const created = await storage.put(k('once'), 'first', { ifNoneMatch: '*' });
        const error = await storage.put(k('once'), 'second', { ifNoneMatch: '*' }).catch((e: unknown) => e);
        expect(PreconditionFailedError.isInstance(error)).toBe(true);
        expect(await readText(storage, k('once'))).toBe('first');
        expect((await storage.head(k('once')))!.etag).toBe(created.etag);
      });

      it('replaces with ifMatch only the version it read', async () => {
        const v1 = await storage.put(k('cas'), 'v1');
        const v2 = await storage.put(k('cas'), 'v2', { ifMatch: v1.etag });
        expect(v2.etag).not.toBe(v1.etag);
        const stale = await storage.put(k('cas'), 'v3', { ifMatch: v1.etag }).catch((e: unknown) => e);
        expect(PreconditionFailedError.isInstance(stale)).toBe(true);
        expect(await readText(storage, k('cas'))).toBe('v2');
      });

      it('fails ifMatch on a missing key', async () => {
        const v1 = await storage.put(k('vanished'), 'v1');
        await storage.delete(k('vanished'));
        const error = await storage.put(k('vanished'), 'v2', { ifMatch: v1.etag }).catch((e: unknown) => e);
        expect(PreconditionFailedError.isInstance(error)).toBe(true);
        expect(await storage.head(k('vanished'))).toBeUndefined();
      });

      it(
        'lets exactly one of 10 concurrent create-only writers win',
        async () => {
          const results = await Promise.allSettled(
            Array.from({ length: 10 }, (_, i) => storage.put(k('race'), `writer-${i}`, { ifNoneMatch: '*' })),
          );
          const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
          expect(winners).toHaveLength(1);
          for (const r of results) {
            if (r.status === 'rejected') expect(PreconditionFailedError.isInstance(r.reason)).toBe(true);
          }
          expect(await readText(storage, k('race'))).toBe(`writer-${winners[0]}`);
        },
        slow,
      );

      it(
        'ends at exactly 10 after 10 concurrent compare-and-swap increments',
        async () => {
          await storage.put(k('counter'), '0');
          let conflicts = 0;
          const increment = async () => {
            for (let attempt = 0; attempt < 200; attempt++) {
              const object = await storage.get(k('counter'));
              const value = Number((await readAll(object!.body)).toString());
              try {
                await storage.put(k('counter'), String(value + 1), { ifMatch: object!.etag });
                return;
              } catch (error) {
                if (!PreconditionFailedError.isInstance(error)) throw error;
                conflicts++;
              }
            }
            throw new Error('increment never won in 200 attempts');
          };
          await Promise.all(Array.from({ length: 10 }, increment));
          expect(await readText(storage, k('counter'))).toBe('10');
          expect(conflicts).toBeGreaterThanOrEqual(0);
        },
        slow,
      );
    });

    group('concurrency', always, () => {
      it(
        'never interleaves concurrent unconditional writes of one key',
        async () => {
          const bodies = Array.from({ length: 6 }, (_, i) => Buffer.alloc(256 * 1024, 65 + i));
          await Promise.all(bodies.map((body) => storage.put(k('shared'), Readable.from([body.subarray(0, 1000), body.subarray(1000)]))));
          const final = await readAll((await storage.get(k('shared')))!.body);
          expect(bodies.some((body) => Buffer.compare(body, final) === 0)).toBe(true);
        },
        slow,
      );

      it(
        'writes many keys concurrently',
        async () => {
          await Promise.all(Array.from({ length: 25 }, (_, i) => storage.put(k(`many/${String(i).padStart(2, '0')}`), `value ${i}`)));
          const { keys } = await listAll(storage, k('many/'));
          expect(keys).toHaveLength(25);
          expect(await readText(storage, k('many/07'))).toBe('value 7');
        },
        slow,
      );
    });

    group('abort', always, () => {
      it('leaves no object when a put is aborted mid-stream', async () => {
        const controller = new AbortController();
        async function* slowBody() {
          yield Buffer.alloc(64 * 1024, 7);
          controller.abort();
          await new Promise((resolve) => setTimeout(resolve, 50));
          yield Buffer.alloc(64 * 1024, 8);
        }
        await expect(storage.put(k('aborted'), slowBody(), { signal: controller.signal })).rejects.toThrow();
        expect(await storage.head(k('aborted'))).toBeUndefined();
        expect((await listAll(storage, prefix)).keys).toEqual([]);
      });

      it('keeps the previous object when an overwrite is aborted', async () => {
        await storage.put(k('keep'), 'original');
        const controller = new AbortController();
        async function* slowBody() {
          yield Buffer.from('replacement, part one');
          controller.abort();
          await new Promise((resolve) => setTimeout(resolve, 50));
          yield Buffer.from(', part two');
        }
        await expect(storage.put(k('keep'), slowBody(), { signal: controller.signal })).rejects.toThrow();
        expect(await readText(storage, k('keep'))).toBe('original');
      });

      it('rejects a put whose signal is already aborted, writing nothing', async () => {
        const controller = new AbortController();
        controller.abort();
        await expect(storage.put(k('never'), 'x', { signal: controller.signal })).rejects.toThrow();
        expect(await storage.head(k('never'))).toBeUndefined();
      });
    });
  });
}
