import { InvalidNameError, PreconditionFailedError, StorageError } from '@modelstore/core';
import { fileHandleWriter } from '@modelstore/core/internal';
import type { Body, GetOptions, ListOptions, ListResult, ObjectInfo, PutOptions, Storage, StorageLocation, StoredObject } from '@modelstore/core';
import { abortReason, bodyToReadable, compareKeys, countingBytes, listPageSize, requiredName, storageScope, validateKey, validatePrefix, validateRange, type SdkErrors } from '@modelstore/core/storage-kit';
import { randomBytes } from 'node:crypto';
import { constants, type BigIntStats, type Dirent } from 'node:fs';
import { link, mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { addAbortSignal } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import lockfile from 'proper-lockfile';

export interface FileSystemStorageOptions {
  /** The registry's root directory. Relative paths resolve against the current directory. */
  root: string;
  /**
   * Milliseconds after which another process may break a per-key lock whose holder
   * died (default 10 000). Locks are held only for the final rename of a write.
   */
  staleLockMs?: number;
}

// Internal files live beside the objects they belong to, so a rename stays on one
// file system; keys may not end with these suffixes, and listings skip them.
const tempSuffix = '.modelstore-tmp';
const lockSuffix = '.modelstore-lock';
const defaultPageSize = 1000;
function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? ((error as { code?: unknown }).code as string | undefined) : undefined;
}

/**
 * Node's file system errors (errno codes, https://nodejs.org/api/errors.html#common-system-errors)
 * for the kit's error mapper: none carries an HTTP answer, so an unknown code is final;
 * a busy or exhausted system (`EBUSY`, `EMFILE`, ...) is worth another try.
 */
const fileErrors: SdkErrors = {
  name: 'File system',
  code: errorCode,
  retryableCodes: ['EAGAIN', 'EBUSY', 'EMFILE', 'ENFILE', 'EINTR'],
  notFoundCodes: ['ENOENT', 'ENOTDIR'],
  refusedCodes: ['EACCES', 'EPERM'],
  refusedHint: 'check the permissions of the registry folder',
  noAnswerRetryable: false,
  explain: ({ code }) =>
    code === 'ENOTDIR' || code === 'EEXIST' || code === 'EISDIR' ? { hint: 'a file system cannot hold both "a/b" and "a/b/c"; one key is a prefix "directory" of the other' } : code === 'ENOSPC' ? { hint: 'the disk is full' } : undefined,
};

/** Keys name files under the root directory; messages name keys in quotes (`File system write of "a/b" failed ...`). */
const files = storageScope({ errors: fileErrors, location: (key) => `"${key}"` });

/** Wraps a file system error in a `StorageError` that says what failed where. */
function storageError(operation: string, key: string, error: unknown): Error {
  return files.error(operation, key, error);
}

/**
 * The version tag of a file. A new version is always a new file (written aside,
 * then renamed into place), and `put` gives each one a random sub-millisecond
 * mtime, so the tag changes on every write even if the inode number is reused.
 */
function etagOf(stats: BigIntStats): string {
  return `"${stats.ino.toString(36)}-${stats.size.toString(36)}-${stats.mtimeNs.toString(36)}"`;
}

function infoOf(key: string, stats: BigIntStats): ObjectInfo {
  return { key, size: Number(stats.size), etag: etagOf(stats), lastModified: new Date(Number(stats.mtimeMs)) };
}

function isInternalName(name: string): boolean {
  return name.endsWith(tempSuffix) || name.endsWith(lockSuffix);
}

/**
 * A `Storage` in a local (or network) folder: the layout Python modelstore's
 * file system storage uses, so either library can read the other's registry.
 *
 * - A `put` writes a temporary file in the target's directory, fsyncs it, and
 *   renames it into place: readers see the old object or the new one, never part.
 * - Conditional writes hold across processes: create-only publishes with `link()`,
 *   which fails if the name exists; compare-and-swap checks and renames under a
 *   per-key lock file (proper-lockfile), which a crashed holder cannot keep forever.
 * - Keys are validated, so none can name a path outside `root`.
 */
export class FileSystemStorage implements Storage {
  readonly specificationVersion = 'v1' as const;
  readonly capabilities = { conditionalWrites: true, rangeReads: true } as const;
  /** The absolute root directory. */
  readonly root: string;
  private readonly staleLockMs: number;

  constructor(options: FileSystemStorageOptions) {
    this.root = path.resolve(requiredName(options, 'root', 'FileSystemStorage needs a root directory: new FileSystemStorage({ root: "./models" })'));
    this.staleLockMs = options.staleLockMs ?? 10_000;
  }

  describe(key: string): StorageLocation {
    return { type: 'file_system', root: this.root, path: this.pathOf(key) };
  }

  async put(key: string, body: Body, options: PutOptions = {}): Promise<ObjectInfo> {
    const target = this.pathOf(key);
    const { signal } = options;
    signal?.throwIfAborted();
    const directory = path.dirname(target);
    const temporary = path.join(directory, `.${path.basename(target)}.${randomBytes(6).toString('hex')}${tempSuffix}`);
    let published = false;
    try {
      // Fail before streaming gigabytes when the condition already cannot hold.
      if (options.ifNoneMatch === '*' || options.ifMatch !== undefined) {
        const current = await statOrUndefined(target);
        if (options.ifNoneMatch === '*' ? current !== undefined : !current || etagOf(current) !== options.ifMatch) {
          throw new PreconditionFailedError(key);
        }
      }
      await mkdir(directory, { recursive: true });
      const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
      try {
        await pipeline(bodyToReadable(body), countingBytes(options.onProgress), fileHandleWriter(handle), ...(signal ? [{ signal }] : []));
        if (signal?.aborted) throw abortReason(signal);
        const now = Date.now() + Math.random();
        await handle.utimes(now / 1000, now / 1000);
        await handle.sync();
      } finally {
        await handle.close();
      }
      if (options.ifNoneMatch === '*') {
        // link() publishes the complete file only if the name is free, atomically.
        try {
          await link(temporary, target);
        } catch (error) {
          if (errorCode(error) === 'EEXIST') throw new PreconditionFailedError(key);
          throw error;
        }
      } else {
        await this.withLock(target, async () => {
          if (options.ifMatch !== undefined) {
            const current = await statOrUndefined(target);
            if (!current || etagOf(current) !== options.ifMatch) throw new PreconditionFailedError(key);
          }
          signal?.throwIfAborted();
          await rename(temporary, target);
        });
        published = true;
      }
      const stats = await stat(target, { bigint: true });
      await syncDirectory(directory);
      return infoOf(key, stats);
    } catch (error) {
      throw storageError('write', key, error);
    } finally {
      if (!published) await unlink(temporary).catch(() => undefined);
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<StoredObject | undefined> {
    const target = this.pathOf(key);
    options.signal?.throwIfAborted();
    let handle: FileHandle;
    try {
      handle = await open(target, constants.O_RDONLY);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw storageError('read', key, error);
    }
    try {
      const stats = await handle.stat({ bigint: true });
      if (!stats.isFile()) {
        await handle.close();
        return undefined;
      }
      const range = options.range;
      validateRange(key, range);
      const stream = handle.createReadStream({
        highWaterMark: 1 << 20,
        ...(range ? { start: range.start, ...(range.end === undefined ? {} : { end: range.end }) } : {}),
      });
      if (options.signal) addAbortSignal(options.signal, stream);
      return { ...infoOf(key, stats), body: stream };
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw storageError('read', key, error);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const target = this.pathOf(key);
    try {
      const stats = await statOrUndefined(target);
      return stats?.isFile() ? infoOf(key, stats) : undefined;
    } catch (error) {
      throw storageError('stat', key, error);
    }
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    validatePrefix(prefix);
    const limit = listPageSize(options.limit, defaultPageSize);
    // A prefix ending in "/" is a directory; otherwise its last segment filters names.
    const cut = prefix.lastIndexOf('/') + 1;
    const directoryKey = prefix.slice(0, cut);
    const namePrefix = prefix.slice(cut);
    const objects: ObjectInfo[] = [];
    try {
      for await (const { key, stats } of this.walk(directoryKey, namePrefix, options.cursor)) {
        if (objects.length === limit) return { objects, cursor: objects[objects.length - 1]!.key };
        objects.push(infoOf(key, stats));
      }
    } catch (error) {
      throw storageError('list', prefix, error);
    }
    return { objects };
  }

  async delete(key: string): Promise<boolean> {
    const target = this.pathOf(key);
    try {
      const stats = await statOrUndefined(target);
      if (!stats?.isFile()) return false;
      return await this.withLock(target, async () => {
        try {
          await unlink(target);
          return true;
        } catch (error) {
          if (isMissing(error)) return false;
          throw error;
        }
      });
    } catch (error) {
      throw storageError('delete', key, error);
    }
  }

  /** The file path of a key, after checking that the key is valid here. */
  private pathOf(key: string): string {
    validateKey(key);
    for (const segment of key.split('/')) {
      if (isInternalName(segment)) {
        throw new InvalidNameError('key', key, `segments ending in "${tempSuffix}" or "${lockSuffix}" are reserved by FileSystemStorage`);
      }
    }
    return path.join(this.root, ...key.split('/'));
  }

  /** Runs `action` holding the per-key lock that makes check-then-rename atomic across processes. */
  private async withLock<T>(target: string, action: () => Promise<T>): Promise<T> {
    const lockPath = path.join(path.dirname(target), `.${path.basename(target)}${lockSuffix}`);
    const release = await lockfile.lock(target, {
      realpath: false,
      lockfilePath: lockPath,
      stale: this.staleLockMs,
      retries: { retries: 2000, factor: 1.2, minTimeout: 1, maxTimeout: 25, randomize: true },
      // The lock guards a single rename; if its refresh lags, the rename has long finished.
      onCompromised: () => undefined,
    });
    try {
      return await action();
    } finally {
      await release().catch(() => undefined);
    }
  }

  /**
   * Removes the temporary files (`.<name>.<random>.modelstore-tmp`) of writes that never
   * finished — a process killed while writing — last written before `before`; `collectGarbage`
   * calls it with its grace period. A write in progress keeps writing its file, so its time
   * stays recent. Keys returned are the files' paths relative to the root.
   */
  async removeAbandonedWrites(options: { before: Date; dryRun?: boolean }): Promise<ObjectInfo[]> {
    const found: ObjectInfo[] = [];
    const names = await readdir(this.root, { recursive: true }).catch((error: unknown) => (isMissing(error) ? [] : Promise.reject(error)));
    for (const name of names.map(String)) {
      if (!name.endsWith(tempSuffix)) continue;
      const file = path.join(this.root, name);
      const stats = await stat(file).catch(() => undefined);
      if (!stats?.isFile() || stats.mtime.getTime() >= options.before.getTime()) continue;
      if (
        !options.dryRun &&
        !(await unlink(file).then(
          () => true,
          (error: unknown) => (isMissing(error) ? false : Promise.reject(error)),
        ))
      )
        continue;
      found.push({ key: name.split(path.sep).join('/'), size: stats.size, etag: '', lastModified: stats.mtime });
    }
    return found;
  }

  /** Yields files under `directoryKey` whose first name starts with `namePrefix`, in key order, after `startAfter`. */
  private async *walk(directoryKey: string, namePrefix: string, startAfter: string | undefined): AsyncGenerator<{ key: string; stats: BigIntStats }> {
    const directory = directoryKey === '' ? this.root : path.join(this.root, ...directoryKey.slice(0, -1).split('/'));
    let entries: Dirent[];
    try {
      entries = await readdir(directory, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) {
        // A missing folder lists nothing; a root that is a file is a misconfiguration, not an empty store.
        if (
          errorCode(error) === 'ENOTDIR' &&
          !(await stat(this.root).then(
            (info) => info.isDirectory(),
            () => true,
          ))
        ) {
          throw new StorageError(`FileSystemStorage root "${this.root}" is not a directory: point root at a folder (it is created on the first write if missing)`, { cause: error });
        }
        return;
      }
      throw error;
    }
    const candidates: { key: string; isDirectory: boolean; order: string }[] = [];
    for (const entry of entries) {
      if (!entry.name.startsWith(namePrefix) || isInternalName(entry.name)) continue;
      let isDirectory = entry.isDirectory();
      if (entry.isSymbolicLink()) {
        const target = await stat(path.join(directory, entry.name)).catch(() => undefined);
        if (!target) continue;
        isDirectory = target.isDirectory();
      } else if (!isDirectory && !entry.isFile()) {
        continue;
      }
      const key = directoryKey + entry.name;
      // A directory's keys all start with "name/", so it sorts as "name/".
      candidates.push({ key, isDirectory, order: isDirectory ? `${key}/` : key });
    }
    // What comes before the cursor is dropped before sorting (a page deep into a large
    // folder sorts only what is left): a file at or before it, a directory whose keys all
    // come before it.
    const after =
      startAfter === undefined ? candidates : candidates.filter((candidate) => (candidate.isDirectory ? compareKeys(candidate.order, startAfter) > 0 || startAfter.startsWith(candidate.order) : compareKeys(candidate.key, startAfter) > 0));
    after.sort((a, b) => compareKeys(a.order, b.order));
    for (const candidate of after) {
      if (candidate.isDirectory) {
        yield* this.walk(candidate.order, '', startAfter);
      } else {
        // Deleted since readdir: not listed.
        const stats = await statOrUndefined(path.join(directory, candidate.key.slice(directoryKey.length)));
        if (stats?.isFile()) yield { key: candidate.key, stats };
      }
    }
  }
}

function isMissing(error: unknown): boolean {
  return files.isNotFound(error);
}

async function statOrUndefined(file: string): Promise<BigIntStats | undefined> {
  try {
    return await stat(file, { bigint: true });
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/** fsync a directory so a rename or link survives a power cut. Best effort: not every file system allows it. */
async function syncDirectory(directory: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(directory, constants.O_RDONLY);
    await handle.sync();
  } catch {
    // Some platforms and network file systems refuse fsync on directories.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
