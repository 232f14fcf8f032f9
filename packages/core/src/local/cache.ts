/**
 * `load`'s local cache: extracted models under `<cacheDir>/models/<hash of the storage,
 * the archive's location and its sha256>`, and under `<cacheDir>/refs/` a record per
 * pointer (`domains/<domain>.json` or `versions/<id>.json`) of the model it named, with
 * the etags that tell whether it still does. Beside them, `<cacheDir>/entries/<name>.json`
 * says which model a folder holds (for `listCache`), and `<cacheDir>/in-use/` holds a
 * lease file per running `load` (`<name>.<host>-<pid>-<random>`) that `pruneCache` respects.
 * Each load sets the model folder's modification time: its last use.
 */
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { InvalidOptionError, LocalFileError, ModelStoreError, SignatureError } from '../errors.js';
import { parseJson } from '../json.js';
import { isModelMetadata, type ModelMetadata } from '../metadata.js';
import { layout, registryRoot } from '../registry-layout.js';
import type { StoredModel } from '../registry/documents.js';
import { resolveModel } from '../registry/models.js';
import type { Storage, StorageLocation } from '../storage.js';
import type { TransferProgress } from '../upload.js';
import { host, isAlive, ownName, removeStaleStaging, stagingPrefix } from './destination.js';
import { archiveKeyOf, extractModel } from './extract.js';

/** `load`'s default cache folder: `$XDG_CACHE_HOME/modelstore`, else the platform's cache folder (`~/.cache/modelstore`, `~/Library/Caches/modelstore`, `%LOCALAPPDATA%\\modelstore\\Cache`). */
export function defaultCacheDir(): string {
  if (process.env.XDG_CACHE_HOME) return path.join(process.env.XDG_CACHE_HOME, 'modelstore');
  if (process.platform === 'darwin') return path.join(homedir(), 'Library', 'Caches', 'modelstore');
  if (process.platform === 'win32' && process.env.LOCALAPPDATA) return path.join(process.env.LOCALAPPDATA, 'modelstore', 'Cache');
  return path.join(homedir(), '.cache', 'modelstore');
}

/** A record of a cached model: the pointer's etag, the etag of the document it named, the extracted folder, and the document's text. */
interface CacheRef {
  etag: string;
  versionEtag: string;
  directory: string;
  text: string;
  metadata: ModelMetadata;
}

/** A cache record, or `undefined` (a miss) when it is damaged in any way. */
function parseCacheRef(text: string): CacheRef | undefined {
  try {
    const ref = JSON.parse(text) as Partial<CacheRef>;
    if (typeof ref !== 'object' || ref === null || typeof ref.etag !== 'string' || typeof ref.versionEtag !== 'string' || typeof ref.directory !== 'string' || typeof ref.text !== 'string') return undefined;
    const metadata = parseJson(ref.text);
    return isModelMetadata(metadata) ? { ...(ref as CacheRef), metadata } : undefined;
  } catch {
    return undefined;
  }
}

const exists = (directory: string) =>
  readdir(directory).then(
    () => true,
    () => false,
  );

/** A name for `identity` within this storage's cache: 40 hex characters. */
function cacheName(storage: Storage, identity: string): string {
  return createHash('sha256')
    .update(JSON.stringify(storage.describe(registryRoot)))
    .update('\n')
    .update(identity)
    .digest('hex')
    .slice(0, 40);
}

/** The folder of the cached model `name`. */
const modelFolder = (cacheDir: string, name: string) => path.join(cacheDir, 'models', name);
/** A cached model's folder name: 40 hex characters. */
const entryName = /^[0-9a-f]{40}$/;

/** Errors of the cache folder that another folder would avoid: the hint names the three ways to choose one. */
const cacheFolderErrors = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'ENOTDIR', 'EEXIST', 'ENAMETOOLONG', 'ELOOP']);

/**
 * A failure to write the cache folder as a `LocalFileError` that says how to choose another
 * folder; other errors pass through. @internal
 */
export function cacheFolderError(error: unknown, cacheDir: string): unknown {
  const errno = (error as { errno?: unknown; code?: unknown })?.[LocalFileError.isInstance(error) ? 'errno' : 'code'];
  if (typeof errno !== 'string' || !cacheFolderErrors.has(errno)) return error;
  if (ModelStoreError.isInstance(error) && !LocalFileError.isInstance(error)) return error;
  const what: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'the file system is read-only',
    ENOSPC: 'the disk is full',
    EDQUOT: 'the disk quota is exhausted',
    ENOTDIR: 'a part of the path is a file, not a folder',
    EEXIST: 'a part of the path is a file, not a folder',
    ENAMETOOLONG: 'the path is too long',
    ELOOP: 'the path loops through symbolic links',
  };
  return new LocalFileError(
    `load could not write its model cache in ${JSON.stringify(cacheDir)} (${errno}: ${what[errno]}). ` +
      `${errno === 'ENOSPC' || errno === 'EDQUOT' ? 'Free space (modelstore cache prune, or pruneCache), or choose a folder on another disk' : 'Choose a folder you can write to'}: the cacheDir option (new ModelStore({ storage, cacheDir }) or openModelStore(uri, { cacheDir })), ` +
      'the XDG_CACHE_HOME environment variable (the cache is then $XDG_CACHE_HOME/modelstore), or --cache-dir <dir> on the modelstore command line.',
    cacheDir,
    { cause: error, errno },
  );
}

/** What `entries/<name>.json` records of a cached model. */
interface EntryRecord {
  domain: string;
  modelId: string;
  library: string;
  store: StorageLocation;
  created?: string;
}

/** Sets the folder's access and modification times to now: its last use. Best effort (a read-only cache keeps its times). */
const touch = (directory: string) => {
  const now = new Date();
  return utimes(directory, now, now).catch(() => undefined);
};

/**
 * Holds the cached model `name` for a running load: a lease file in `<cacheDir>/in-use/`
 * naming this host and process, which `pruneCache` respects. Best effort: a cache folder
 * that cannot be written holds no lease. @returns the release function
 */
async function holdEntry(cacheDir: string, name: string): Promise<() => Promise<void>> {
  const folder = path.join(cacheDir, 'in-use');
  const lease = path.join(folder, ownName(`${name}.`));
  const held = await mkdir(folder, { recursive: true })
    .then(() => writeFile(lease, ''))
    .then(
      () => true,
      () => false,
    );
  return held ? () => rm(lease, { force: true }).catch(() => undefined) : async () => undefined;
}

/** How long a lease of another host counts as held: longer than any load, shorter than forever (its host may have died). */
const foreignLeaseAge = 60 * 60 * 1000;

/** Leases in `<cacheDir>/in-use`: the names held by a live load, and the lease files of dead processes on this host. */
async function readLeases(cacheDir: string): Promise<{ held: Set<string>; stale: string[] }> {
  const folder = path.join(cacheDir, 'in-use');
  const held = new Set<string>();
  const stale: string[] = [];
  for (const file of await readdir(folder).catch(() => [] as string[])) {
    const match = /^([0-9a-f]{40})\.(.*)-(\d+)-[0-9a-f]{12}$/.exec(file);
    if (!match) continue;
    const [, name, owner, pid] = match as unknown as [string, string, string, string];
    if (owner === host) {
      if (isAlive(Number(pid))) held.add(name);
      else stale.push(path.join(folder, file));
      continue;
    }
    const young = await stat(path.join(folder, file)).then(
      (info) => Date.now() - info.mtimeMs < foreignLeaseAge,
      () => false,
    );
    if (young) held.add(name);
  }
  return { held, stale };
}

/** A cached model as `cachedModel` returns it: `release()` once the adapter has loaded it. */
export interface CachedModel {
  metadata: ModelMetadata;
  directory: string;
  /** Whether this call extracted the model (a miss). */
  extracted: boolean;
  release(): Promise<void>;
}

/**
 * The local folder holding the model `options` name (the latest, `modelId`, or the
 * newest in `state`), extracted and verified on first use. A repeated call for the
 * latest costs two HEADs (the pointer, and the document it named), for a model id one;
 * the newest in a state is found by reading the state each time. The folder is held
 * (a lease `pruneCache` respects) until `release()`.
 * @throws LocalFileError saying how to choose another cache folder when it cannot be written
 */
export async function cachedModel(
  storage: Storage,
  cacheDir: string,
  domain: string,
  options: {
    modelId?: string;
    state?: string;
    signal?: AbortSignal;
    onProgress?(progress: TransferProgress): void;
    /** The signature check: on a miss, of the staging folder before the entry appears; on a hit, of the cached folder (re-hashed against a freshly read bundle). */
    check?(model: StoredModel): Promise<(directory: string) => Promise<unknown>>;
  },
): Promise<CachedModel> {
  const pointerKey = options.state !== undefined ? undefined : options.modelId === undefined ? layout.domain(domain) : layout.version(domain, options.modelId);
  const pointer = pointerKey === undefined ? undefined : await storage.head(pointerKey);
  const refFile = path.join(cacheDir, 'refs', `${cacheName(storage, pointerKey ?? '')}.json`);
  const ref = pointer ? await readFile(refFile, 'utf8').then(parseCacheRef, () => undefined) : undefined;
  const unchanged = async (cached: CacheRef) => {
    if (cached.etag !== pointer?.etag) return false;
    if (options.modelId !== undefined) return true;
    // A pointer left naming a deleted or re-uploaded model must not keep answering from the cache.
    return (await storage.head(layout.version(domain, cached.metadata.model.model_id)))?.etag === cached.versionEtag;
  };
  if (ref && (await unchanged(ref))) {
    // Hold first, then look: a prune that removes the folder meanwhile makes this a miss, never a half-removed hit.
    const release = await holdEntry(cacheDir, path.basename(ref.directory));
    if (await exists(ref.directory)) {
      const passed = options.check ? await verifyHit(ref.directory, options.check, { metadata: ref.metadata, info: { key: pointerKey!, size: 0, etag: ref.versionEtag, lastModified: new Date(0) }, text: ref.text }, release) : true;
      if (passed) {
        await touch(ref.directory);
        return { metadata: ref.metadata, directory: ref.directory, extracted: false, release };
      }
      // The cached folder failed its signature check and was removed: extract afresh below.
    } else await release();
  }

  const model = await resolveModel(storage, domain, options, 'load');
  const { metadata } = model;
  const archiveKey = archiveKeyOf(metadata);
  const identity = `${JSON.stringify(storage.describe(archiveKey))}\n${metadata.archive?.sha256 ?? (await storage.head(archiveKey))?.etag ?? ''}`;
  const name = cacheName(storage, identity);
  const directory = modelFolder(cacheDir, name);
  const release = await holdEntry(cacheDir, name);
  let extracted = false;
  try {
    const check = options.check ? await options.check(model) : undefined;
    if (check && (await exists(directory))) {
      // A cached folder that fails the check (changed on disk) is removed and extracted afresh, checked again.
      await check(directory).catch(async (error: unknown) => {
        if (!SignatureError.isInstance(error)) throw error;
        await discardFolder(directory);
      });
    }
    if (!(await exists(directory))) {
      await mkdir(path.join(cacheDir, 'models'), { recursive: true }).catch((error: unknown) => Promise.reject(cacheFolderError(error, cacheDir)));
      await extractModel(storage, metadata, directory, {
        keepExisting: true,
        ...(check ? { check } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      }).catch((error: unknown) => Promise.reject(cacheFolderError(error, cacheDir)));
      extracted = true;
      const record: EntryRecord = {
        domain,
        modelId: metadata.model.model_id,
        library: metadata.model.model_type.library,
        store: storage.describe(registryRoot),
        ...(typeof metadata.code?.created_at === 'string' ? { created: metadata.code.created_at } : typeof metadata.code?.created === 'string' ? { created: metadata.code.created } : {}),
      };
      await writeAtomically(path.join(cacheDir, 'entries', `${name}.json`), JSON.stringify(record));
    }
    await touch(directory);
  } catch (error) {
    await release();
    throw error;
  }
  if (pointer) {
    // Best effort: without the record the next load checks the store again.
    const cached: Omit<CacheRef, 'metadata'> = { etag: pointer.etag, versionEtag: model.info.etag, directory, text: model.text };
    await writeAtomically(refFile, JSON.stringify(cached));
  }
  return { metadata, directory, extracted, release };
}

/**
 * Checks a cache hit's folder; the hold is released on any failure. A folder that fails
 * the signature check (a file changed, added or removed on disk) is removed so that the
 * caller extracts the model afresh from the store, which is checked again; any other
 * failure (the stored bundle itself, storage) is thrown.
 * @returns whether the folder passed
 */
async function verifyHit(directory: string, check: (model: StoredModel) => Promise<(directory: string) => Promise<unknown>>, model: StoredModel, release: () => Promise<void>): Promise<boolean> {
  let checkFolder: (directory: string) => Promise<unknown>;
  try {
    checkFolder = await check(model);
  } catch (error) {
    await release();
    throw error;
  }
  try {
    await checkFolder(directory);
    return true;
  } catch (error) {
    await release();
    if (!SignatureError.isInstance(error)) throw error;
    await discardFolder(directory);
    return false;
  }
}

/** Removes a cached model folder that failed its check: renamed aside first (a load reading it keeps its open files), then deleted. */
async function discardFolder(directory: string): Promise<void> {
  const aside = path.join(path.dirname(directory), `${ownName(stagingPrefix.beside(directory))}-bad`);
  const moved = await rename(directory, aside).then(
    () => true,
    () => false,
  );
  await rm(moved ? aside : directory, { recursive: true, force: true }).catch(() => undefined);
}

/** Writes `file` through a temporary file and a rename. Best effort: failures are ignored. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await mkdir(path.dirname(file), { recursive: true })
    .then(() => writeFile(temporary, text))
    .then(() => rename(temporary, file))
    .catch(() => rm(temporary, { force: true }).catch(() => undefined));
}

/** A model in the local cache, as `listCache` reports it. */
export interface CacheEntry {
  /** The extracted model's folder: what adapters load from. */
  directory: string;
  /** Bytes of the files in it (their sizes, not the blocks they use). */
  bytes: number;
  /** When a load last used it: the folder's modification time, which every load sets. */
  lastUsed: Date;
  /**
   * Whether a load holds it now: a `load` running in a live process on this host, or
   * on another host (a cache folder on a network file system) in the last hour.
   */
  inUse: boolean;
  /** The model it holds; absent for folders extracted before this was recorded. */
  model?: {
    domain: string;
    modelId: string;
    /** `model.model_type.library` */
    library: string;
    /** The registry it was loaded from (`Storage.describe` of the registry root). */
    store: StorageLocation;
    /** The model's creation time as its metadata records it. */
    created?: string;
  };
}

/** Bytes of the files under `directory` (links counted as themselves, not followed). */
async function folderBytes(directory: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(directory, { withFileTypes: true }).catch(() => [])) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) total += await folderBytes(full);
    else
      total += await lstat(full).then(
        (info) => info.size,
        () => 0,
      );
  }
  return total;
}

function parseEntryRecord(text: string): EntryRecord | undefined {
  try {
    const record = JSON.parse(text) as Partial<EntryRecord>;
    if (typeof record !== 'object' || record === null || typeof record.domain !== 'string' || typeof record.modelId !== 'string' || typeof record.library !== 'string' || typeof record.store !== 'object' || record.store === null)
      return undefined;
    return record as EntryRecord;
  } catch {
    return undefined;
  }
}

function checkCacheDir(cacheDir: unknown, method: string): string {
  if (typeof cacheDir !== 'string' || cacheDir === '') throw new InvalidOptionError('cacheDir', `${method}: cacheDir must be a folder path (a non-empty string), got ${cacheDir === '' ? 'an empty string' : typeof cacheDir}`);
  return path.resolve(cacheDir);
}

/** A cache folder that cannot be read, as a `LocalFileError`. */
function readError(error: unknown, folder: string): unknown {
  const errno = (error as { code?: unknown })?.code;
  if (ModelStoreError.isInstance(error) || typeof errno !== 'string') return error;
  return new LocalFileError(`Could not read the model cache ${JSON.stringify(folder)} (${errno}): ${(error as Error).message}`, folder, { cause: error, errno });
}

/**
 * The models in a local cache folder (`ModelStoreOptions.cacheDir`; default
 * {@link defaultCacheDir}), most recently used first. A folder that does not exist holds
 * nothing. The CLI shows it as `modelstore cache ls`.
 * @throws InvalidOptionError for a cacheDir that is not a non-empty string
 * @throws LocalFileError when the folder cannot be read (or is a file)
 */
export async function listCache(cacheDir: string = defaultCacheDir()): Promise<CacheEntry[]> {
  const root = checkCacheDir(cacheDir, 'listCache');
  const models = path.join(root, 'models');
  const names = await readdir(models).catch((error: { code?: string }) => (error.code === 'ENOENT' ? ([] as string[]) : Promise.reject(readError(error, models))));
  const { held } = await readLeases(root);
  const entries: CacheEntry[] = [];
  for (const name of names) {
    if (!entryName.test(name)) continue;
    const directory = path.join(models, name);
    const info = await stat(directory).catch(() => undefined);
    if (!info?.isDirectory()) continue;
    const record = await readFile(path.join(root, 'entries', `${name}.json`), 'utf8').then(parseEntryRecord, () => undefined);
    entries.push({
      directory,
      bytes: await folderBytes(directory),
      lastUsed: info.mtime,
      inUse: held.has(name),
      ...(record ? { model: { domain: record.domain, modelId: record.modelId, library: record.library, store: record.store, ...(record.created === undefined ? {} : { created: record.created }) } } : {}),
    });
  }
  return entries.sort((a, b) => b.lastUsed.getTime() - a.lastUsed.getTime() || (a.directory < b.directory ? -1 : 1));
}

/** What `pruneCache` removes. */
export interface PruneCacheOptions {
  /** Remove models not used for longer than this many milliseconds. */
  olderThan?: number;
  /** Remove the least recently used models until the cache holds at most this many bytes. */
  maxBytes?: number;
  /** Report what would be removed, remove nothing. */
  dryRun?: boolean;
  /** The clock ages are measured against (default: now). */
  now?: Date;
}

/** What `pruneCache` did. */
export interface PruneCacheReport {
  /** The models removed (or that would be, with `dryRun`), least recently used first. */
  removed: CacheEntry[];
  /** Models that `olderThan` or `maxBytes` selected but a running load holds: kept. */
  inUse: CacheEntry[];
  /** Bytes of the models left in the cache. */
  bytes: number;
  /** Leftovers of killed loads removed on the way (staging folders, half-written records, leases of dead processes). */
  leftovers: string[];
}

/**
 * Removes cached models from a local cache folder, least recently used first: those
 * unused for longer than `olderThan`, then more until the cache holds at most
 * `maxBytes`. A model a running `load` holds is never removed (it is reported in
 * `inUse`, so the cache may stay above `maxBytes` by those models). "In use" means
 * a lease a `load` takes from finding the folder until its adapter's `load` returns:
 * a model that a process keeps reading afterwards (files opened lazily) cannot be
 * known; on Linux and macOS files already open stay readable after removal. The next
 * load of a removed model downloads it again. Also removes what killed loads left
 * (see {@link cleanModelCache}). The CLI runs it as `modelstore cache prune`.
 * @throws InvalidOptionError when neither `olderThan` nor `maxBytes` is given, or one is negative or not a number
 * @throws LocalFileError when the folder cannot be read
 */
export async function pruneCache(cacheDir: string = defaultCacheDir(), options: PruneCacheOptions = {}): Promise<PruneCacheReport> {
  const root = checkCacheDir(cacheDir, 'pruneCache');
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', 'pruneCache: options must be an object with olderThan and/or maxBytes');
  for (const key of ['olderThan', 'maxBytes'] as const) {
    const value = options[key];
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
      throw new InvalidOptionError(key, `pruneCache: ${key} must be a number of ${key === 'olderThan' ? 'milliseconds' : 'bytes'}, 0 or more, got ${String(value)}`);
    }
  }
  if (options.olderThan === undefined && options.maxBytes === undefined) throw new InvalidOptionError('options', 'pruneCache: give olderThan (milliseconds) and/or maxBytes (bytes); maxBytes: 0 removes every model not in use');
  if (options.now !== undefined && !(options.now instanceof Date && !Number.isNaN(options.now.getTime()))) throw new InvalidOptionError('now', 'pruneCache: now must be a valid Date');
  const now = (options.now ?? new Date()).getTime();
  const entries = (await listCache(root)).reverse();
  const leftovers = options.dryRun ? [] : [...(await cleanModelCache(root)).removed, ...(await removeStaleLeases(root))];
  let total = entries.reduce((sum, entry) => sum + entry.bytes, 0);
  const removed: CacheEntry[] = [];
  const inUse: CacheEntry[] = [];
  for (const entry of entries) {
    const old = options.olderThan !== undefined && now - entry.lastUsed.getTime() > options.olderThan;
    const over = options.maxBytes !== undefined && total > options.maxBytes;
    if (!old && !over) continue;
    if (entry.inUse || (!options.dryRun && !(await removeEntry(root, entry)))) {
      inUse.push({ ...entry, inUse: true });
      continue;
    }
    removed.push(entry);
    total -= entry.bytes;
  }
  if (!options.dryRun && removed.length > 0) await removeDanglingRefs(root);
  return { removed, inUse, bytes: total, leftovers };
}

async function removeStaleLeases(root: string): Promise<string[]> {
  const { stale } = await readLeases(root);
  const removed: string[] = [];
  for (const file of stale)
    if (
      await rm(file, { force: true }).then(
        () => true,
        () => false,
      )
    )
      removed.push(file);
  return removed;
}

/**
 * Removes one cached model unless a load holds it: the folder is first renamed aside
 * (a load that looks now misses and extracts again), then the leases are read again, and
 * a lease taken meanwhile gets the folder back. @returns whether it was removed
 */
async function removeEntry(root: string, entry: CacheEntry): Promise<boolean> {
  const name = path.basename(entry.directory);
  const aside = path.join(path.dirname(entry.directory), `${ownName(stagingPrefix.beside(entry.directory))}-old`);
  const moved = await rename(entry.directory, aside).then(
    () => true,
    () => false,
  );
  if (!moved) return false;
  if ((await readLeases(root)).held.has(name)) {
    const back = await rename(aside, entry.directory).then(
      () => true,
      () => false,
    );
    if (back) return false;
  }
  await rm(aside, { recursive: true, force: true }).catch(() => undefined);
  await rm(path.join(root, 'entries', `${name}.json`), { force: true }).catch(() => undefined);
  return true;
}

/** Removes the pointer records that name a model folder no longer there. */
async function removeDanglingRefs(root: string): Promise<void> {
  const refs = path.join(root, 'refs');
  for (const file of await readdir(refs).catch(() => [] as string[])) {
    if (!file.endsWith('.json')) continue;
    const ref = await readFile(path.join(refs, file), 'utf8').then(parseCacheRef, () => undefined);
    if (ref && !(await exists(ref.directory))) await rm(path.join(refs, file), { force: true }).catch(() => undefined);
  }
}

/**
 * Removes what killed `load`s left in a cache folder (`ModelStoreOptions.cacheDir`):
 * staging folders of processes on this host that are gone (never one in use), and cache
 * records half-written more than an hour ago. Cached models themselves are kept. The
 * CLI runs it as `modelstore gc --local`.
 * With `dryRun`, removes nothing and returns what it would remove.
 * @returns the paths removed
 */
export async function cleanModelCache(cacheDir: string = defaultCacheDir(), options: { dryRun?: boolean } = {}): Promise<{ removed: string[] }> {
  const root = checkCacheDir(cacheDir, 'cleanModelCache');
  const removed = await removeStaleStaging(path.join(root, 'models'), undefined, options);
  const refs = path.join(root, 'refs');
  const hourAgo = Date.now() - 60 * 60 * 1000;
  for (const name of await readdir(refs).catch(() => [] as string[])) {
    if (!name.endsWith('.tmp')) continue;
    const file = path.join(refs, name);
    const old = await stat(file).then(
      (info) => info.mtimeMs < hourAgo,
      () => false,
    );
    if (old && options.dryRun) removed.push(file);
    else if (
      old &&
      (await rm(file, { force: true }).then(
        () => true,
        () => false,
      ))
    )
      removed.push(file);
  }
  return { removed };
}
