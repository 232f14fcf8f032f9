import { constants, type Stats } from 'node:fs';
import { access, chmod, lstat, mkdir, open, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import type { FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip, deflateRawSync, type Gzip } from 'node:zlib';
import tar from 'tar-stream';
import type { ArchiveEntry } from './adapter.js';
import { IntegrityError, InvalidArgumentError, InvalidNameError, InvalidOptionError, ModelStoreError, SourceFileError, UnsafeArchiveError, type SourceFileReason } from './errors.js';
import { validateKey } from './keys.js';
import type { FileDigest } from './metadata.js';
import { createSha256 } from './sha256.js';

/** Digests of a packed archive, complete once the archive stream has ended. */
export interface ArchiveDigest extends FileDigest {
  /** Every regular file, by its path in the archive. */
  files: Record<string, FileDigest>;
  /**
   * Every directory of the archive (`/`-separated, no trailing slash, sorted): the
   * directory entries and the parents of every entry. Recorded in the metadata as
   * `archive.directories`, so a download checks that the same folders come back,
   * empty ones included. Always set by `packArchive` and `extractArchive`; absent
   * from metadata written before it was recorded, and from Python's.
   */
  directories?: string[];
}

/**
 * Passes chunks through, counting them into `digest.size` and, when `hashed`, hashing
 * them into `digest.sha256` (on a worker thread when `expectedBytes` is large).
 */
function digesting(digest: FileDigest, expectedBytes: () => number, hashed = true) {
  return {
    transform: async function* (source: AsyncIterable<unknown>): AsyncGenerator<Buffer> {
      const hash = hashed ? createSha256(expectedBytes()) : undefined;
      let finished = false;
      try {
        for await (const chunk of source as AsyncIterable<Buffer>) {
          const wait = hash?.update(chunk);
          if (wait) await wait;
          digest.size += chunk.length;
          yield chunk;
        }
        if (hash) digest.sha256 = await hash.digest();
        finished = true;
      } finally {
        if (!finished) hash?.abort();
      }
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
 * The permission bits a file gets, in the archive and when extracted: `mode & 0o755`.
 * The owner's bits are kept (an executable stays executable, a 0600 key stays 0600);
 * setuid, setgid, sticky and group/other write are always dropped, so nothing is ever
 * wider than 0o755. A missing or malformed mode (hand-made archives) counts as 0o644.
 */
export function fileMode(mode: number | undefined): number {
  return Number.isInteger(mode) && mode! >= 0 ? mode! & 0o755 : 0o644;
}

/**
 * The permission bits a directory gets, in the archive and when extracted:
 * `(mode & 0o755) | 0o700`. Group and other keep at most read and search; the owner
 * can always enter, list and clean the directory (a download can be replaced or
 * removed). A missing or malformed mode counts as 0o755.
 */
export function directoryMode(mode: number | undefined): number {
  return Number.isInteger(mode) && mode! >= 0 ? (mode! & 0o755) | 0o700 : 0o755;
}

/** gzip level: a fixed 0-9, or `'auto'`: per file, 0 (stored) for data that barely compresses (model weights), 6 otherwise. */
export type CompressionLevel = number | 'auto';

const sampleSize = 1 << 20;
const readChunk = 1 << 20;

/**
 * The level `'auto'` picks for a file: deflate a 1 MiB sample at level 1; unless it
 * shrinks by a quarter or more, store it (float32 weights save about 7% at any level,
 * for ten times the time), else level 6.
 */
async function levelFor(source: string | Buffer): Promise<number> {
  let sample: Buffer;
  if (typeof source === 'string') {
    const handle = await open(source, constants.O_RDONLY | constants.O_NONBLOCK).catch((error: unknown) => Promise.reject(sourceFileError(source, error)));
    try {
      const buffer = Buffer.alloc(sampleSize);
      const { bytesRead } = await handle.read(buffer, 0, sampleSize, 0).catch((error: unknown) => Promise.reject(sourceFileError(source, error)));
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

const errnoReasons: Record<string, [SourceFileReason, string]> = {
  ENOENT: ['missing', 'it does not exist (it was removed or renamed before or while the model was uploaded)'],
  ENOTDIR: ['missing', 'it does not exist (a folder on its path is a file)'],
  ELOOP: ['link-cycle', 'it is a link that leads into a loop of links'],
  EACCES: ['unreadable', 'permission denied'],
  EPERM: ['unreadable', 'the operation is not permitted'],
  EISDIR: ['special', 'it is a directory, not a file'],
};

/**
 * A `SourceFileError` for a failed system call on `file` (the errno names the
 * reason), or `error` itself when it is already a modelstore error. `context` goes
 * before the reason in the message (e.g. `"part 2 of the split set: "`).
 */
export function sourceFileError(file: string, error: unknown, context = ''): ModelStoreError {
  if (ModelStoreError.isInstance(error)) return error;
  const code = (error as { code?: unknown } | undefined)?.code;
  const [reason, why] = (typeof code === 'string' && errnoReasons[code]) || ['unreadable', `it could not be read (${typeof code === 'string' ? code : String((error as Error)?.message ?? error)})`];
  const advice =
    reason === 'unreadable'
      ? 'give the uploading user read access to it (and search access to its folders), or leave it out of the model'
      : reason === 'missing'
        ? 'check the path, or wait until whatever writes the model has finished, then upload again'
        : reason === 'special'
          ? 'store a directory as a directory entry (or the RawAdapter), never as a file'
          : 'replace the link by the file it should point to, or remove it';
  return new SourceFileError(file, reason, `Cannot store ${JSON.stringify(file)} in the model: ${context}${why}. Nothing was uploaded: ${advice}.`, { cause: error });
}

/** What `packArchive` packs: each entry with its stat, and the directories its files imply. */
interface PlannedEntry {
  path: string;
  type: 'file' | 'directory';
  source: string | Buffer;
  mode: number;
  /** For a source on disk: the stat taken when the upload started, which the read must match. */
  stat?: Stats;
}

/** What a path is when it is not a regular file: for messages. */
export function kindOf(info: Pick<Stats, 'isFIFO' | 'isSocket' | 'isCharacterDevice' | 'isBlockDevice' | 'isDirectory'>): string {
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isDirectory()) return 'a directory';
  return 'not a regular file';
}

/** Stats a source on disk and checks that it is what the entry says (a regular file, or a directory), before any byte is packed. */
async function statSource(source: string, type: 'file' | 'directory'): Promise<Stats> {
  let info: Stats;
  try {
    info = await stat(source);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') {
      const link = await lstat(source).catch(() => undefined);
      if (link?.isSymbolicLink()) {
        const target = await readlink(source).catch(() => '?');
        throw new SourceFileError(
          source,
          'dangling-link',
          `Cannot store ${JSON.stringify(source)} in the model: it is a link to ${JSON.stringify(target)}, which does not exist. Nothing was uploaded: point the link at an existing file, or remove it.`,
          { cause: error },
        );
      }
    }
    throw sourceFileError(source, error);
  }
  if (type === 'directory' ? !info.isDirectory() : !info.isFile()) {
    throw new SourceFileError(
      source,
      'special',
      `Cannot store ${JSON.stringify(source)} in the model as a ${type}: it is ${kindOf(info)}. Nothing was uploaded: ${type === 'file' && info.isDirectory() ? 'store a directory as a directory entry (or with the RawAdapter)' : 'only regular files and directories can be stored; copy the data into a regular file'}.`,
    );
  }
  if (type === 'file') await access(source, constants.R_OK).catch((error: unknown) => Promise.reject(sourceFileError(source, error)));
  return info;
}

/** Orders entries for packing: each directory before what it holds, parents implied by paths added (mode 0o755). Throws before any I/O. */
function planEntries(entries: ArchiveEntry[]): PlannedEntry[] {
  const seen = new Map<string, 'file' | 'directory'>();
  for (const entry of entries) {
    validateArchivePath(entry.path);
    const type = entry.type ?? 'file';
    if (type !== 'file' && type !== 'directory') throw new InvalidOptionError('type', `Archive entry "${entry.path}" has type ${JSON.stringify(type)}: use 'file' or 'directory'`);
    if (entry.mode !== undefined && !(Number.isInteger(entry.mode) && entry.mode >= 0 && entry.mode <= 0o7777)) {
      throw new InvalidOptionError('mode', `Archive entry "${entry.path}" has mode ${String(entry.mode)}: use an integer from 0 to 0o7777`);
    }
    if (typeof entry.source !== 'string' && !(entry.source instanceof Uint8Array)) {
      throw new InvalidOptionError('source', `Archive entry "${entry.path}" has no source: give a path on disk or the bytes`);
    }
    if (seen.has(entry.path)) throw new InvalidArgumentError(`Two entries would be stored at "${entry.path}" in the archive: rename one of them`, { argument: 'path' });
    seen.set(entry.path, type);
  }
  for (const [entryPath] of seen) {
    const parts = entryPath.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (seen.get(parent) === 'file') throw new InvalidArgumentError(`"${parent}" would be both a file and the folder of "${entryPath}" in the archive: rename one of them`, { argument: 'path' });
    }
  }
  const explicit = new Map(entries.filter((entry) => entry.type === 'directory').map((entry) => [entry.path, entry]));
  const planned: PlannedEntry[] = [];
  const placed = new Set<string>();
  const placeDirectory = (directory: string) => {
    if (placed.has(directory)) return;
    const slash = directory.lastIndexOf('/');
    if (slash > 0) placeDirectory(directory.slice(0, slash));
    placed.add(directory);
    const entry = explicit.get(directory);
    const source = entry === undefined ? Buffer.alloc(0) : typeof entry.source === 'string' ? entry.source : Buffer.alloc(0);
    planned.push({ path: directory, type: 'directory', source, mode: directoryMode(entry?.mode ?? 0o755) });
  };
  for (const entry of entries) {
    const slash = entry.path.lastIndexOf('/');
    if (slash > 0) placeDirectory(entry.path.slice(0, slash));
    if (entry.type === 'directory') {
      placeDirectory(entry.path);
      continue;
    }
    const source = typeof entry.source === 'string' ? entry.source : Buffer.from(entry.source.buffer, entry.source.byteOffset, entry.source.byteLength);
    planned.push({ path: entry.path, type: 'file', source, mode: fileMode(entry.mode ?? 0o644) });
  }
  return planned;
}

/** Stats every source on disk (failing with `SourceFileError` before any byte is packed) and takes modes not given from disk. */
async function statPlan(planned: PlannedEntry[], entries: ArchiveEntry[]): Promise<void> {
  const given = new Map(entries.map((entry) => [entry.path, entry.mode]));
  for (const entry of planned) {
    if (typeof entry.source !== 'string') continue;
    entry.stat = await statSource(entry.source, entry.type);
    if (given.get(entry.path) === undefined) entry.mode = entry.type === 'directory' ? directoryMode(entry.stat.mode & 0o7777) : fileMode(entry.stat.mode & 0o7777);
  }
}

function changed(file: string, what: string): SourceFileError {
  return new SourceFileError(
    file,
    'changed',
    `Cannot store ${JSON.stringify(file)} in the model: ${what} while it was being uploaded. Nothing was committed: wait until whatever writes the file has finished (or copy it first), then upload again.`,
  );
}

/**
 * Reads exactly the `size` bytes `stat` recorded, from the file `stat` described,
 * and fails with `SourceFileError` (reason `changed`) if the file was replaced, ends
 * early, grows, or its size or modification time differ once it has been read.
 */
async function* readSource(file: string, before: Stats): AsyncGenerator<Buffer> {
  // O_NONBLOCK: a file swapped for a FIFO since the stat must not block the open.
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK).catch((error: unknown) => Promise.reject(sourceFileError(file, error)));
  try {
    const opened = await handle.stat().catch((error: unknown) => Promise.reject(sourceFileError(file, error)));
    if (!opened.isFile() || opened.ino !== before.ino || opened.dev !== before.dev) throw changed(file, 'it was replaced by another file');
    const size = before.size;
    let position = 0;
    while (position < size) {
      const buffer = Buffer.allocUnsafe(Math.min(readChunk, size - position));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position).catch((error: unknown) => Promise.reject(sourceFileError(file, error)));
      if (bytesRead === 0) throw changed(file, `it ended after ${position} of its ${size} bytes (it was truncated)`);
      position += bytesRead;
      yield bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
    }
    const probe = Buffer.alloc(1);
    const { bytesRead } = await handle.read(probe, 0, 1, size).catch((error: unknown) => Promise.reject(sourceFileError(file, error)));
    if (bytesRead > 0) throw changed(file, `it grew beyond its ${size} bytes`);
    const after = await handle.stat().catch((error: unknown) => Promise.reject(sourceFileError(file, error)));
    if (after.size !== size) throw changed(file, `its size changed from ${size} to ${after.size} bytes`);
    if (after.mtimeMs !== before.mtimeMs) throw changed(file, 'it was modified');
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * Streams `entries` into a gzipped tar. Returns the archive as a stream to hand
 * to `Storage.put`, and a promise of the digests that settles once every entry has
 * been packed and the stream fully read. Sources on disk are read once, as the
 * consumer pulls; nothing is staged. Destroy `stream` to stop packing.
 *
 * Every directory is stored as a tar directory entry (empty ones too, parents of
 * every path implied), each before what it holds. Modes: see `fileMode` and
 * `directoryMode`; taken from disk for paths unless the entry gives one. Owner and
 * group are recorded as 0 (numeric), times as `options.mtime`.
 *
 * Paths, types and modes are checked before this returns (`InvalidNameError`,
 * `InvalidOptionError`, `InvalidArgumentError` for two entries on one path or a file on a
 * folder's path). Sources on disk are checked once packing starts (all of them before
 * the first byte) and while they are read: a missing, unreadable, special (FIFO,
 * socket, device) or dangling-link source, or one whose size or modification time
 * changes while it is read, errors `stream` and rejects `digest` with a
 * `SourceFileError` naming the file (never retryable). A `Storage.put` consuming the
 * stream may wrap that error: `digest` holds the original, so callers rethrow it
 * (`SourceFileError.isInstance(await digest.catch(e => e))`).
 */
export function packArchive(
  entries: ArchiveEntry[],
  options: {
    mtime: Date;
    compressionLevel: CompressionLevel;
    /**
     * Source bytes packed so far (file contents, before compression) against their total,
     * the sum of the files' sizes as stat'd when packing starts: called once with
     * `bytes: 0` once every source is checked, then after each chunk read.
     */
    onSourceBytes?(bytes: number, totalBytes: number): void;
  },
): { stream: Readable; digest: Promise<ArchiveDigest> } {
  const planned = planEntries(entries);
  const pack = tar.pack();
  // Packing may fail before the compressor listens: the error is handled where it is raised.
  pack.on('error', () => undefined);
  const statted = statPlan(planned, entries);
  // 'auto' decides from the largest file, which dominates the archive's size and time
  // (zlib's params() did not switch levels in a running stream on Node 20, so the
  // level is chosen before the gzip stream is made).
  const levelChosen = statted.then(() => {
    if (options.compressionLevel !== 'auto') return options.compressionLevel;
    let largest: PlannedEntry | undefined;
    let largestSize = -1;
    for (const entry of planned) {
      if (entry.type !== 'file') continue;
      const size = entry.stat ? entry.stat.size : (entry.source as Buffer).length;
      if (size > largestSize) [largest, largestSize] = [entry, size];
    }
    return largest ? levelFor(largest.source) : 6;
  });
  let gzip: Gzip | undefined;
  let packError: unknown;
  const archive: ArchiveDigest = { sha256: '', size: 0, files: {}, directories: [] };
  let sourceBytes = 0;
  let sourceTotal = 0;
  // The archive is about as large as its files (stored, or deflated: a size hint only).
  const archiveDigest = digesting(archive, () => sourceTotal);
  const { onSourceBytes } = options;
  /** The source's chunks, counted for `onSourceBytes` when it is given (no extra stage otherwise). */
  const counted = (chunks: AsyncIterable<Buffer>): AsyncIterable<Buffer> =>
    onSourceBytes
      ? (async function* () {
          for await (const chunk of chunks) {
            sourceBytes += chunk.length;
            onSourceBytes(sourceBytes, sourceTotal);
            yield chunk;
          }
        })()
      : chunks;
  const packing = (async () => {
    await statted;
    for (const entry of planned) if (entry.type === 'file') sourceTotal += entry.stat ? entry.stat.size : (entry.source as Buffer).length;
    options.onSourceBytes?.(0, sourceTotal);
    for (const entry of planned) {
      if (entry.type === 'directory') {
        await new Promise<void>((resolve, reject) => {
          pack.entry({ name: entry.path, type: 'directory', mode: entry.mode, mtime: options.mtime, uid: 0, gid: 0 }, (error) => (error ? reject(error) : resolve()));
        });
        archive.directories!.push(entry.path);
        continue;
      }
      const file: FileDigest = { sha256: '', size: 0 };
      const fileDigest = digesting(file, () => (entry.stat ? entry.stat.size : (entry.source as Buffer).length));
      if (typeof entry.source === 'string') {
        const header = { name: entry.path, size: entry.stat!.size, mode: tarMode(entry.mode), mtime: options.mtime, uid: 0, gid: 0, type: 'file' as const };
        await pipeline(counted(readSource(entry.source, entry.stat!)), fileDigest.transform, pack.entry(header) as unknown as NodeJS.WritableStream);
      } else {
        const header = { name: entry.path, size: entry.source.length, mode: tarMode(entry.mode), mtime: options.mtime, uid: 0, gid: 0, type: 'file' as const };
        await pipeline(counted(Readable.from([entry.source])), fileDigest.transform, pack.entry(header) as unknown as NodeJS.WritableStream);
      }
      archive.files[entry.path] = file;
    }
    archive.directories!.sort(compareStrings);
    pack.finalize();
  })();
  packing.catch((error: unknown) => {
    packError = error;
    pack.destroy(error as Error);
  });
  async function* compressed(): AsyncGenerator<Buffer> {
    try {
      const level = await levelChosen;
      // Packing may have failed while the level was chosen (a source that changed at
      // once): piping a destroyed tar stream would never end, so fail here instead.
      if (packError !== undefined || pack.destroyed) throw packError ?? new ModelStoreError('The archive could not be packed');
      const compressor = createGzip({ level, chunkSize: 256 * 1024 });
      gzip = compressor;
      pack.on('error', (error) => compressor.destroy(error));
      yield* archiveDigest.transform(pack.pipe(compressor));
    } catch (error) {
      // A source's failure is what the consumer sees, not the tar stream's echo of it.
      await new Promise((resolve) => setImmediate(resolve));
      throw SourceFileError.isInstance(packError) ? packError : error;
    }
  }
  // Readable.from over the generator keeps backpressure: gzip is read only as the consumer pulls.
  const stream = Readable.from(compressed(), { objectMode: false });
  const digest = new Promise<ArchiveDigest>((resolve, reject) => {
    stream.on('end', () => packing.then(() => resolve(archive), reject));
    stream.on('error', reject);
    stream.on('close', () => {
      if (!stream.readableEnded) reject(SourceFileError.isInstance(packError) ? packError : new ModelStoreError('The archive stream was closed before it ended'));
    });
  });
  digest.catch(() => undefined);
  statted.catch(() => undefined);
  levelChosen.catch(() => undefined);
  stream.on('close', () => {
    if (!stream.readableEnded) {
      pack.destroy();
      gzip?.destroy();
    }
  });
  return { stream, digest };
}

/** tar-stream replaces a mode of 0 by 0o644; a bit above 0o7777, which it masks off when writing, records 0 as 0. */
function tarMode(mode: number): number {
  return mode === 0 ? 0o10000 : mode;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What `extractArchive` checks the archive against, when the metadata recorded it. */
export interface ExpectedArchive {
  sha256?: string;
  size?: number;
  files?: Record<string, FileDigest>;
  /** Every directory the archive must produce, empty ones included (`ArchiveDigest.directories`). */
  directories?: string[];
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
 * digest or size mismatch, or (when `expected.directories` is given) a set of
 * directories that differs from the recorded one. Nothing is ever written outside
 * `directory`; on error the caller removes `directory`.
 *
 * Directory entries are re-created, empty ones included. Modes, from archives of any
 * origin (this library, Python's `tarfile`, GNU tar, hand-made): a file gets exactly
 * `fileMode(recorded)` = `recorded & 0o755`, a directory `directoryMode(recorded)` =
 * `(recorded & 0o755) | 0o700`, set with chmod (the umask does not narrow them
 * further); directories only implied by paths get 0o755 narrowed by the umask.
 * Nothing extracted is ever wider than 0o755. Owners and times are not restored.
 *
 * Each byte is hashed once: when `expected.sha256` is given, only the archive is hashed
 * (a match fixes every file's bytes, so the files' recorded digests are implied and
 * returned as they were recorded); else, when `expected.files` is given, each file;
 * else nothing (an archive that recorded no digest, like Python modelstore's: gzip's
 * CRC-32 and length and tar's header checksums are what is checked). A sha256 that was
 * not computed is returned as `''`. A large archive is hashed on a worker thread.
 */
export async function extractArchive(source: NodeJS.ReadableStream, directory: string, expected: ExpectedArchive = {}): Promise<ArchiveDigest> {
  const root = path.resolve(directory);
  const archive: ArchiveDigest = { sha256: '', size: 0, files: {}, directories: [] };
  // One sha256 pass per byte: the archive's when it was recorded (it fixes every byte of
  // every file, names and modes included, so each file's own digest is implied), else
  // each file's when those were recorded, else none (Python's archives record no digest:
  // gzip's CRC-32 and length and tar's header checksums are all there is to check).
  const hashArchive = expected.sha256 !== undefined;
  const hashFiles = !hashArchive && expected.files !== undefined;
  const archiveDigest = digesting(archive, () => expected.size ?? 0, hashArchive);
  const directories = new Set<string>();
  /** Modes of directory entries, applied once everything is written (a read-only folder must still receive its files). */
  const directoryModes = new Map<string, number>();
  const extract = tar.extract();
  const feeding = pipeline(source as Readable, archiveDigest.transform, createGunzip({ chunkSize: 256 * 1024 }), extract as unknown as NodeJS.WritableStream);
  feeding.catch(() => undefined);
  try {
    for await (const entry of extract) {
      const { header } = entry;
      const name = header.name;
      const target = safeTarget(root, name, header.type ?? 'file');
      const relative = path.relative(root, target).split(path.sep).join('/');
      const parts = relative.split('/');
      for (let i = 1; i < parts.length; i++) directories.add(parts.slice(0, i).join('/'));
      if (header.type === 'directory') {
        await mkdir(target, { recursive: true, mode: 0o755 }).catch((error: unknown) => conflict(name, error));
        directories.add(relative);
        directoryModes.set(target, directoryMode(header.mode ?? undefined));
        entry.resume();
        continue;
      }
      const recorded = expected.files?.[relative];
      if (expected.files && !recorded) throw new IntegrityError(`The archive holds "${relative}", which the model's metadata does not list: the archive was replaced or corrupted`);
      if (recorded && recorded.size !== header.size) {
        throw new IntegrityError(`"${relative}" is ${header.size} bytes in the archive but ${recorded.size} in the metadata: the archive was replaced or corrupted`);
      }
      if (directories.has(relative)) throw new UnsafeArchiveError(name, 'it collides with another entry of the archive');
      await mkdir(path.dirname(target), { recursive: true, mode: 0o755 }).catch((error: unknown) => conflict(name, error));
      const file: FileDigest = { sha256: '', size: 0 };
      let handle;
      try {
        handle = await open(target, 'wx', 0o600);
      } catch (error) {
        if ((error as { code?: string }).code === 'EEXIST') throw new UnsafeArchiveError(name, 'the archive holds this path twice');
        conflict(name, error);
      }
      try {
        await pipeline(entry, digesting(file, () => header.size ?? 0, hashFiles).transform, fileHandleWriter(handle));
        await handle.chmod(fileMode(header.mode ?? undefined));
      } finally {
        await handle.close();
      }
      if (file.size !== header.size) throw new IntegrityError(`"${relative}" ended after ${file.size} of ${header.size} bytes: the archive is truncated`);
      if (hashArchive && recorded) file.sha256 = recorded.sha256;
      else if (recorded && recorded.sha256 !== file.sha256) {
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
  archive.directories = [...directories].sort(compareStrings);
  if (Array.isArray(expected.directories)) {
    const recorded = new Set(expected.directories);
    const lacking = [...recorded].filter((folder) => !directories.has(folder)).sort(compareStrings);
    const extra = archive.directories!.filter((folder) => !recorded.has(folder));
    if (lacking.length > 0 || extra.length > 0) {
      const describe = (list: string[]) =>
        list
          .slice(0, 5)
          .map((folder) => JSON.stringify(folder))
          .join(', ') + (list.length > 5 ? ` and ${list.length - 5} more` : '');
      throw new IntegrityError(
        `The archive's folders differ from those the metadata recorded (${[lacking.length > 0 ? `lacking ${describe(lacking)}` : '', extra.length > 0 ? `with unrecorded ${describe(extra)}` : ''].filter(Boolean).join('; ')}): it was replaced or corrupted`,
      );
    }
  }
  // Deepest first, so a parent's mode never stands in the way of a child's chmod.
  for (const [folder, mode] of [...directoryModes].sort(([a], [b]) => b.length - a.length)) await chmod(folder, mode);
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
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what entry names may not hold
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
