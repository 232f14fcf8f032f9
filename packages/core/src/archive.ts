import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import type { FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip, deflateRawSync, type Gzip } from 'node:zlib';
import tar from 'tar-stream';
import type { ArchiveEntry } from './adapter.js';
import { IntegrityError, InvalidNameError, ModelStoreError, UnsafeArchiveError } from './errors.js';
import { validateKey } from './keys.js';
import type { FileDigest } from './metadata.js';

/** Digests of a packed archive, complete once the archive stream has ended. */
export interface ArchiveDigest extends FileDigest {
  files: Record<string, FileDigest>;
}

/** Passes chunks through, hashing and counting them. */
function digesting(digest: FileDigest) {
  const hash = createHash('sha256');
  return {
    transform: async function* (source: AsyncIterable<unknown>): AsyncGenerator<Buffer> {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        hash.update(chunk);
        digest.size += chunk.length;
        yield chunk;
      }
      digest.sha256 = hash.digest('hex');
    },
  };
}

/** Checks an archive entry path: relative, `/`-separated, no `.`/`..`, no control characters. */
export function validateArchivePath(entryPath: string): string {
  try {
    return validateKey(entryPath);
  } catch (error) {
    if (InvalidNameError.isInstance(error)) throw new InvalidNameError('path', entryPath, error.message.replace(/^Invalid key "[^"]*": /, ''));
    throw error;
  }
}

/**
 * Streams `entries` into a gzipped tar. Returns the archive as a stream to hand
 * to `Storage.put`, and a promise of the digests that settles once every entry has
 * been packed and the stream fully read. Sources on disk are read once, as the
 * consumer pulls; nothing is staged. Destroy `stream` to stop packing.
 */
/** gzip level: a fixed 0-9, or `'auto'`: per file, 0 (stored) for data that barely compresses (model weights), 6 otherwise. */
export type CompressionLevel = number | 'auto';

const sampleSize = 1 << 20;

/**
 * The level `'auto'` picks for a file: deflate a 1 MiB sample at level 1; unless it
 * shrinks by a quarter or more, store it (float32 weights save about 7% at any level,
 * for ten times the time), else level 6.
 */
async function levelFor(source: string | Buffer): Promise<number> {
  let sample: Buffer;
  if (typeof source === 'string') {
    const handle = await open(source, 'r');
    try {
      const buffer = Buffer.alloc(sampleSize);
      const { bytesRead } = await handle.read(buffer, 0, sampleSize, 0);
      sample = buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } else {
    sample = source.subarray(0, sampleSize);
  }
  if (sample.length < 64 * 1024) return 6;
  return deflateRawSync(sample, { level: 1 }).length > sample.length * 0.75 ? 0 : 6;
}

/** The level `'auto'` gives an archive: that of its largest file. */
async function chooseLevel(entries: ArchiveEntry[]): Promise<number> {
  let largest: { source: string | Buffer; size: number } | undefined;
  for (const entry of entries) {
    const size = typeof entry.source === 'string' ? (await stat(entry.source)).size : entry.source.byteLength;
    if (!largest || size > largest.size) {
      largest = { source: typeof entry.source === 'string' ? entry.source : Buffer.from(entry.source.buffer, entry.source.byteOffset, entry.source.byteLength), size };
    }
  }
  return largest ? levelFor(largest.source) : 6;
}

export function packArchive(entries: ArchiveEntry[], options: { mtime: Date; compressionLevel: CompressionLevel }): { stream: Readable; digest: Promise<ArchiveDigest> } {
  const seen = new Set<string>();
  for (const entry of entries) {
    validateArchivePath(entry.path);
    if (seen.has(entry.path)) throw new ModelStoreError(`Two files would be stored at "${entry.path}" in the archive: rename one of them`);
    seen.add(entry.path);
  }
  const pack = tar.pack();
  // 'auto' decides from the largest file, which dominates the archive's size and time
  // (zlib's params() did not switch levels in a running stream on Node 20, so the
  // level is chosen before the gzip stream is made).
  const levelChosen = options.compressionLevel === 'auto' ? chooseLevel(entries) : Promise.resolve(options.compressionLevel);
  let gzip: Gzip | undefined;
  const archive: ArchiveDigest = { sha256: '', size: 0, files: {} };
  const archiveDigest = digesting(archive);
  const packing = (async () => {
    for (const entry of entries) {
      const file: FileDigest = { sha256: '', size: 0 };
      const fileDigest = digesting(file);
      if (typeof entry.source === 'string') {
        const { size } = await stat(entry.source);
        const header = { name: entry.path, size, mode: 0o644, mtime: options.mtime, type: 'file' as const };
        await pipeline(createReadStream(entry.source, { highWaterMark: 1 << 20 }), fileDigest.transform, pack.entry(header) as unknown as NodeJS.WritableStream);
      } else {
        const bytes = Buffer.from(entry.source.buffer, entry.source.byteOffset, entry.source.byteLength);
        const header = { name: entry.path, size: bytes.length, mode: 0o644, mtime: options.mtime, type: 'file' as const };
        await pipeline(Readable.from([bytes]), fileDigest.transform, pack.entry(header) as unknown as NodeJS.WritableStream);
      }
      archive.files[entry.path] = file;
    }
    pack.finalize();
  })();
  packing.catch((error: unknown) => pack.destroy(error as Error));
  async function* compressed(): AsyncGenerator<Buffer> {
    const compressor = createGzip({ level: await levelChosen, chunkSize: 256 * 1024 });
    gzip = compressor;
    pack.on('error', (error) => compressor.destroy(error));
    yield* archiveDigest.transform(pack.pipe(compressor));
  }
  // Readable.from over the generator keeps backpressure: gzip is read only as the consumer pulls.
  const stream = Readable.from(compressed(), { objectMode: false });
  const digest = new Promise<ArchiveDigest>((resolve, reject) => {
    stream.on('end', () => packing.then(() => resolve(archive), reject));
    stream.on('error', reject);
    stream.on('close', () => {
      if (!stream.readableEnded) reject(new ModelStoreError('The archive stream was closed before it ended'));
    });
  });
  digest.catch(() => undefined);
  stream.on('close', () => {
    if (!stream.readableEnded) {
      pack.destroy();
      gzip?.destroy();
    }
  });
  return { stream, digest };
}

/** What `extractArchive` checks the archive against, when the metadata recorded it. */
export interface ExpectedArchive {
  sha256?: string;
  size?: number;
  files?: Record<string, FileDigest>;
}

/**
 * Whether an error came from the bytes rather than from this machine: anything
 * but a system call's failure (a full disk, a permission) is the archive's fault.
 */
function isStreamDataError(error: unknown): boolean {
  if (error === undefined || error === null) return false;
  return typeof (error as { syscall?: unknown }).syscall !== 'string';
}

/**
 * Extracts a gzipped tar from `source` into `directory` (which must exist and be
 * empty), refusing anything unsafe, and verifies what `expected` recorded. Throws
 * `UnsafeArchiveError` for an absolute path, a `..` segment, a link, a device or
 * a duplicate entry, and `IntegrityError` for a corrupt or truncated archive or a
 * digest or size mismatch. Nothing is ever written outside `directory`; on error
 * the caller removes `directory`.
 */
export async function extractArchive(source: NodeJS.ReadableStream, directory: string, expected: ExpectedArchive = {}): Promise<ArchiveDigest> {
  const root = path.resolve(directory);
  const archive: ArchiveDigest = { sha256: '', size: 0, files: {} };
  const archiveDigest = digesting(archive);
  const extract = tar.extract();
  const feeding = pipeline(source as Readable, archiveDigest.transform, createGunzip({ chunkSize: 256 * 1024 }), extract as unknown as NodeJS.WritableStream);
  feeding.catch(() => undefined);
  try {
    for await (const entry of extract) {
      const { header } = entry;
      const name = header.name;
      const target = safeTarget(root, name, header.type ?? 'file');
      if (header.type === 'directory') {
        await mkdir(target, { recursive: true }).catch((error: unknown) => conflict(name, error));
        entry.resume();
        continue;
      }
      const relative = path.relative(root, target).split(path.sep).join('/');
      const recorded = expected.files?.[relative];
      if (expected.files && !recorded) throw new IntegrityError(`The archive holds "${relative}", which the model's metadata does not list: the archive was replaced or corrupted`);
      if (recorded && recorded.size !== header.size) {
        throw new IntegrityError(`"${relative}" is ${header.size} bytes in the archive but ${recorded.size} in the metadata: the archive was replaced or corrupted`);
      }
      await mkdir(path.dirname(target), { recursive: true }).catch((error: unknown) => conflict(name, error));
      const file: FileDigest = { sha256: '', size: 0 };
      let handle;
      try {
        handle = await open(target, 'wx', 0o644);
      } catch (error) {
        if ((error as { code?: string }).code === 'EEXIST') throw new UnsafeArchiveError(name, 'the archive holds this path twice');
        conflict(name, error);
      }
      try {
        await pipeline(entry, digesting(file).transform, fileHandleWriter(handle));
      } finally {
        await handle.close();
      }
      if (file.size !== header.size) throw new IntegrityError(`"${relative}" ended after ${file.size} of ${header.size} bytes: the archive is truncated`);
      if (recorded && recorded.sha256 !== file.sha256) {
        throw new IntegrityError(`"${relative}" has sha256 ${file.sha256} but the metadata recorded ${recorded.sha256}: the archive is corrupted`);
      }
      archive.files[relative] = file;
    }
    await feeding;
  } catch (error) {
    extract.destroy();
    (source as Readable).destroy?.();
    const feedError = await feeding.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    if (ModelStoreError.isInstance(error)) throw error;
    // A storage failure while reading (already a typed error) stays what it is.
    if (ModelStoreError.isInstance(feedError)) throw feedError;
    // A failure of this machine (a full disk, a permission) is reported as it is; any
    // other failure while decompressing or unpacking is the archive's: corrupt or truncated.
    if (!isStreamDataError(error)) throw error;
    throw new IntegrityError('The model archive is corrupt or truncated: it could not be decompressed and unpacked', { cause: feedError ?? error });
  }
  if (expected.size !== undefined && archive.size !== expected.size) {
    throw new IntegrityError(`The archive is ${archive.size} bytes but the metadata recorded ${expected.size}: it is truncated or was replaced`);
  }
  if (expected.sha256 !== undefined && archive.sha256 !== expected.sha256) {
    throw new IntegrityError(`The archive has sha256 ${archive.sha256} but the metadata recorded ${expected.sha256}: it is corrupted or was replaced`);
  }
  for (const recordedPath of Object.keys(expected.files ?? {})) {
    if (!archive.files[recordedPath]) throw new IntegrityError(`The archive lacks "${recordedPath}", which the metadata lists: it is truncated or was replaced`);
  }
  return archive;
}

/** An entry whose path collides with another entry's (a file where a folder must go): the archive's fault. */
function conflict(name: string, error: unknown): never {
  const code = (error as { code?: string }).code;
  if (code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') throw new UnsafeArchiveError(name, 'it collides with another entry of the archive');
  throw error;
}

const unsafeTypes: Record<string, string> = {
  symlink: 'symbolic links are not extracted',
  link: 'hard links are not extracted',
  'character-device': 'device entries are not extracted',
  'block-device': 'device entries are not extracted',
  fifo: 'FIFOs are not extracted',
};

/** The absolute path an entry would be written to, or an `UnsafeArchiveError`. */
function safeTarget(root: string, name: string, type: string): string {
  const unsafe = unsafeTypes[type];
  if (unsafe) throw new UnsafeArchiveError(name, unsafe);
  if (type !== 'file' && type !== 'contiguous-file' && type !== 'directory') throw new UnsafeArchiveError(name, `entries of type "${type}" are not extracted`);
  if (name.startsWith('/') || /^[a-zA-Z]:/.test(name)) throw new UnsafeArchiveError(name, 'absolute paths are not allowed');
  if (name.includes('\\')) throw new UnsafeArchiveError(name, 'backslashes are not allowed');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(name)) throw new UnsafeArchiveError(name, 'control characters are not allowed');
  const segments = name.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.length === 0) throw new UnsafeArchiveError(name, 'empty path');
  if (segments.includes('..')) throw new UnsafeArchiveError(name, '".." segments are not allowed');
  const target = path.resolve(root, ...segments);
  if (!target.startsWith(root + path.sep)) throw new UnsafeArchiveError(name, 'it would be written outside the target directory');
  return target;
}

/** A Writable onto an open file that batches queued chunks into one `writev` and leaves the handle open. */
export function fileHandleWriter(handle: FileHandle): Writable {
  return new Writable({
    highWaterMark: 1 << 20,
    writev(chunks, callback) {
      handle.writev(chunks.map(({ chunk }) => chunk as Buffer)).then(() => callback(), callback);
    },
  });
}
