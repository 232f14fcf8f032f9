// Sources that are not plain readable files: missing, special, dangling links, and files
// that change while they are read. Each fails the upload with a SourceFileError naming
// the file, raised from inside the archive stream, and nothing is committed.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { packArchive, sourceFileError } from '../src/archive.js';
import { MemoryStorage, ModelStore, SourceFileError, type ArchiveEntry, type ModelAdapter } from '../src/index.js';

const size = 8 << 20;

/** Reads `stream` to its end, calling `after` once the first chunk has arrived; resolves to the error it ended with. */
async function drain(stream: Readable, after: () => void = () => undefined): Promise<unknown> {
  let first = true;
  try {
    for await (const _chunk of stream) {
      if (first) {
        first = false;
        after();
      }
    }
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('a source that cannot be read as listed', () => {
  let work: string;
  let big: string;
  beforeEach(() => {
    work = mkdtempSync(path.join(tmpdir(), 'modelstore-sources-'));
    big = path.join(work, 'checkpoint.ckpt');
    writeFileSync(big, Buffer.alloc(size, 7));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  const entries = (source: string): ArchiveEntry[] => [
    { path: 'model-info.json', source: Buffer.from('{}') },
    { path: 'weights.ckpt', source },
  ];

  async function failure(source: string, after?: () => void) {
    const { stream, digest } = packArchive(entries(source), { mtime: new Date(0), compressionLevel: 0 });
    const streamError = await drain(stream, after);
    const digestError = await digest.then(
      () => undefined,
      (error: unknown) => error,
    );
    // The stream and the digest fail with the same typed error.
    expect(digestError).toBe(streamError);
    expect(SourceFileError.isInstance(streamError)).toBe(true);
    expect(streamError).toMatchObject({ code: 'SOURCE_FILE', path: source, retryable: false });
    return streamError as SourceFileError;
  }

  it('missing', async () => {
    const error = await failure(path.join(work, 'missing.ckpt'));
    expect(error.reason).toBe('missing');
    expect(error.message).toMatch(/missing\.ckpt.*does not exist/);
  });

  it('a dangling link', async () => {
    symlinkSync('checkpoint-500.ckpt', path.join(work, 'last.ckpt'));
    const error = await failure(path.join(work, 'last.ckpt'));
    expect(error.reason).toBe('dangling-link');
    expect(error.message).toContain('checkpoint-500.ckpt');
  });

  it('a loop of links', async () => {
    symlinkSync('b', path.join(work, 'a'));
    symlinkSync('a', path.join(work, 'b'));
    expect((await failure(path.join(work, 'a'))).reason).toBe('link-cycle');
  });

  it('a FIFO, without ever blocking on it', async () => {
    execFileSync('mkfifo', [path.join(work, 'pipe')]);
    const error = await failure(path.join(work, 'pipe'));
    expect(error.reason).toBe('special');
    expect(error.message).toContain('FIFO');
  });

  it('a directory given as a file', async () => {
    expect((await failure(work)).reason).toBe('special');
  });

  it('truncated while it is read', async () => {
    const error = await failure(big, () => truncateSync(big, 1000));
    expect(error.reason).toBe('changed');
    expect(error.message).toMatch(/ended after \d+ of its 8388608 bytes/);
  });

  it('grown while it is read', async () => {
    const error = await failure(big, () => appendFileSync(big, 'more'));
    expect(error.reason).toBe('changed');
    expect(error.message).toMatch(/grew beyond its 8388608 bytes/);
  });

  it('modified in place (same size) while it is read', async () => {
    const error = await failure(big, () => utimesSync(big, new Date(), new Date(Date.now() + 60_000)));
    expect(error.reason).toBe('changed');
    expect(error.message).toMatch(/was modified/);
  });

  it('replaced by another file after the upload started', async () => {
    const second = path.join(work, 'config.json');
    writeFileSync(second, '{"a":1}');
    const { stream, digest } = packArchive([...entries(big), { path: 'config.json', source: second }], { mtime: new Date(0), compressionLevel: 0 });
    const error = await drain(stream, () => {
      writeFileSync(`${second}.new`, '{"a":2}');
      renameSync(`${second}.new`, second);
    });
    expect(error).toMatchObject({ code: 'SOURCE_FILE', reason: 'changed', path: second });
    expect((error as Error).message).toMatch(/replaced by another file/);
    await expect(digest).rejects.toBe(error);
  });

  // As root every file is readable: the pack then runs with nobody's effective uid
  // (glibc applies seteuid to every thread, libuv's too). Otherwise the file is closed to its owner.
  it('a file the uploading user may not read (EACCES), checked for real', async () => {
    const root = process.getuid?.() === 0;
    const closed = path.join(work, 'closed');
    mkdirSync(closed);
    chmodSync(closed, 0o755);
    chmodSync(work, 0o755);
    const secret = path.join(closed, 'secret.key');
    writeFileSync(secret, 'key');
    chmodSync(secret, root ? 0o600 : 0o000);
    if (root) process.seteuid!(65534);
    let error: unknown;
    try {
      const { stream, digest } = packArchive(entries(secret), { mtime: new Date(0), compressionLevel: 0 });
      error = await drain(stream);
      await digest.catch(() => undefined);
    } finally {
      if (root) process.seteuid!(0);
    }
    expect(error).toMatchObject({ code: 'SOURCE_FILE', reason: 'unreadable', path: secret, retryable: false });
    expect((error as Error).message).toMatch(/permission denied.*read access/);
  });

  it('maps permission and I/O errors to "unreadable" (the mapping itself)', () => {
    const denied = sourceFileError('/m/secret', Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES', syscall: 'open' }));
    expect(denied).toMatchObject({ code: 'SOURCE_FILE', reason: 'unreadable', path: '/m/secret', retryable: false });
    expect(denied.message).toMatch(/permission denied.*read access/);
    expect(sourceFileError('/m/x', Object.assign(new Error('EIO'), { code: 'EIO' }))).toMatchObject({ reason: 'unreadable' });
    expect(sourceFileError('/m/x', new Error('odd'))).toMatchObject({ reason: 'unreadable' });
  });

  it('reaches the caller of ModelStore.upload as that error, with nothing committed', async () => {
    const adapter: ModelAdapter<string, string> = {
      specificationVersion: 'v1',
      library: 'file',
      matches: (model) => typeof model === 'string',
      save: async (model) => ({ files: [{ path: 'weights.ckpt', source: model }] }),
      load: async (directory) => directory,
    };
    const storage = new MemoryStorage();
    const store = new ModelStore({ storage, adapters: [adapter], cacheDir: path.join(work, 'cache') });
    symlinkSync('checkpoint-500.ckpt', path.join(work, 'last.ckpt'));
    await expect(store.upload('sources', { model: path.join(work, 'last.ckpt') })).rejects.toMatchObject({ code: 'SOURCE_FILE', reason: 'dangling-link' });
    await expect(store.upload('sources', { model: path.join(work, 'missing') })).rejects.toMatchObject({ code: 'SOURCE_FILE', reason: 'missing' });
    expect((await storage.list('')).objects).toEqual([]);
    expect(await store.listDomains()).toEqual([]);
  });
});

describe('a source that fails before the storage reads the archive', () => {
  it('fails the upload with SourceFileError, never hangs, when the store starts reading late', async () => {
    // A store that does I/O of its own before it reads the body (as the file system's put
    // does: stat, mkdir, open): packing has already failed when the body is first read.
    class LateReader extends MemoryStorage {
      override async put(...args: Parameters<MemoryStorage['put']>) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        return super.put(...args);
      }
    }
    const pathAdapter: ModelAdapter<string, string> = {
      specificationVersion: 'v1',
      library: 'file',
      matches: (model) => typeof model === 'string',
      save: async (model) => ({ files: [{ path: 'weights.ckpt', source: model }] }),
      load: async (directory) => directory,
    };
    const cache = mkdtempSync(path.join(tmpdir(), 'modelstore-late-reader-'));
    const storage = new LateReader();
    const store = new ModelStore({ storage, adapters: [pathAdapter], cacheDir: cache });
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        // /proc/self/status is stat'd at 0 bytes and reads as more: it "grows" at once.
        const outcome = await Promise.race([
          store.upload('d', { model: '/proc/self/status' }).then(
            () => 'committed',
            (error: unknown) => error,
          ),
          new Promise((resolve) => setTimeout(() => resolve('hung'), 5000)),
        ]);
        expect(SourceFileError.isInstance(outcome)).toBe(true);
      }
      expect((await storage.list('')).objects.filter((object) => object.key.includes('/versions/'))).toEqual([]);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  }, 60_000);
});
