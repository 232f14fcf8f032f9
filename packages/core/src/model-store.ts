import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { ModelAdapter } from './adapter.js';
import { extractArchive, packArchive, validateArchivePath, type ArchiveDigest, type CompressionLevel } from './archive.js';
import { abortReason } from './body.js';
import { currentUser, readGitInfo, type GitInfo } from './code-info.js';
import {
  AdapterNotFoundError,
  DestinationExistsError,
  DomainNotFoundError,
  IntegrityError,
  InvalidOptionError,
  ModelDeletedError,
  ModelExistsError,
  ModelNotFoundError,
  ModelStoreError,
  PreconditionFailedError,
  StateNotFoundError,
  StorageError,
} from './errors.js';
import { checkModelMetadata, isModelMetadata, type ModelMetadata, type ModelStateDocument } from './metadata.js';
import { deletedState, validateDomain, validateModelId, validateStateName } from './names.js';
import { archiveKeyFromLocation, createdStamp, layout, parseCreatedStamp, registryRoot } from './registry-layout.js';
import type { ObjectInfo, Storage } from './storage.js';
import { version } from './version.js';

export interface ModelStoreOptions {
  /** Where the registry lives. */
  storage: Storage;
  /** Adapters for `upload` (first match wins) and `load` (by the stored library). */
  adapters?: ModelAdapter[];
  /** Where `load` keeps extracted models. Default: `$XDG_CACHE_HOME/modelstore` or the platform's cache folder. */
  cacheDir?: string;
  /**
   * gzip level of new archives: 0-9, or `'auto'` (default): per file, level 0 for
   * data that barely compresses (float weights: deflating them costs 10x the time
   * for a few percent), level 6 for the rest (configs, vocabularies, pickles).
   */
  compressionLevel?: CompressionLevel;
}

export interface UploadOptions {
  /** The model: anything a registered adapter `matches`. */
  model: unknown;
  /** Default: a new UUID v4. Ids are never reused in a domain, even after a delete. */
  modelId?: string;
  /** Use the adapter with this `library` instead of the first that matches. */
  adapter?: string;
  /** Files stored under `extras/<basename>` beside the model. */
  extraFiles?: string[];
  /** Your JSON metadata, stored under `extra`. */
  extraMetadata?: Record<string, unknown>;
  /** Called with the archive bytes written so far. */
  onProgress?(bytes: number): void;
  signal?: AbortSignal;
}

export interface DownloadOptions {
  /** Default: the domain's latest model. */
  modelId?: string;
  /** The directory to create. It may exist if empty; a non-empty one needs `overwrite`. */
  to: string;
  /** Replace a non-empty `to` (swapped in only once the new copy is complete and verified). */
  overwrite?: boolean;
  /** Called with the archive bytes read so far. */
  onProgress?(bytes: number): void;
  signal?: AbortSignal;
}

const registryRetries = 50;

function defaultCacheDir(): string {
  if (process.env.XDG_CACHE_HOME) return path.join(process.env.XDG_CACHE_HOME, 'modelstore');
  if (process.platform === 'darwin') return path.join(homedir(), 'Library', 'Caches', 'modelstore');
  if (process.platform === 'win32' && process.env.LOCALAPPDATA) return path.join(process.env.LOCALAPPDATA, 'modelstore', 'Cache');
  return path.join(homedir(), '.cache', 'modelstore');
}

/** Creation time of a model in milliseconds: the precise one when recorded, else Python's second-precision stamp. */
export function createdTime(metadata: ModelMetadata): number {
  const precise = Date.parse(metadata.code?.created_at ?? '');
  return Number.isNaN(precise) ? parseCreatedStamp(metadata.code?.created) : precise;
}

/** Newest first; ties by model id, so every reader agrees. */
function newestFirst(a: ModelMetadata, b: ModelMetadata): number {
  const difference = (createdTime(b) || 0) - (createdTime(a) || 0);
  return difference !== 0 ? difference : a.model.model_id < b.model.model_id ? 1 : a.model.model_id > b.model.model_id ? -1 : 0;
}

async function mapConcurrently<T, R>(items: T[], concurrency: number, map: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await map(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

async function readStream(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const backoff = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(200, 5 * 2 ** attempt)));

/** `collectGarbage`'s default grace period: one hour, in ms. */
export const defaultGarbageAge = 60 * 60 * 1000;

/**
 * The shortest grace period `collectGarbage` accepts without `quiesced`: 15 minutes,
 * in ms — twice the longest a commit request can stay in flight with the backends'
 * retry settings (about 7 minutes), leaving room for clock skew.
 */
export const minimumGarbageAge = 15 * 60 * 1000;

/**
 * A model registry on any `Storage`, in Python modelstore's layout.
 *
 * Nothing half-written is ever visible: an upload streams its archive first and
 * commits by creating `versions/<id>.json` (create-only), and the domain's latest
 * pointer moves by compare-and-swap. Downloads verify every byte before the
 * directory appears.
 */
export class ModelStore {
  readonly storage: Storage;
  readonly adapters: readonly ModelAdapter[];
  readonly cacheDir: string;
  private readonly compressionLevel: CompressionLevel;
  private gitInfo: Promise<GitInfo | undefined> | undefined;

  constructor(options: ModelStoreOptions) {
    if (!options?.storage) throw new TypeError('ModelStore needs a storage: new ModelStore({ storage: new FileSystemStorage({ root }) })');
    this.storage = options.storage;
    this.adapters = [...(options.adapters ?? [])];
    this.cacheDir = path.resolve(options.cacheDir ?? defaultCacheDir());
    this.compressionLevel = options.compressionLevel ?? 'auto';
  }

  // ---------------------------------------------------------------- upload

  /** Archives and uploads a model; returns its metadata once it is committed and listed. */
  async upload(domain: string, options: UploadOptions): Promise<ModelMetadata> {
    validateDomain(domain);
    const modelId = options.modelId === undefined ? randomUUID() : validateModelId(options.modelId);
    const extraFiles = options.extraFiles ?? [];
    const extraPaths = extraFiles.map((file) => `extras/${path.basename(file)}`);
    for (const extraPath of extraPaths) validateArchivePath(extraPath);
    if (options.extraMetadata !== undefined) JSON.stringify(options.extraMetadata);
    const adapter = this.adapterFor(options);
    options.signal?.throwIfAborted();

    // Fail before streaming gigabytes when the id is visibly taken.
    if ((await this.storage.head(layout.version(domain, modelId))) || (await this.storage.head(layout.stateVersion(domain, deletedState, modelId)))) {
      throw new ModelExistsError(domain, modelId);
    }

    const saved = await adapter.save(options.model);
    const modelInfo = { library: adapter.library, ...(saved.type === undefined ? {} : { type: saved.type }) };
    const created = new Date();
    const entries = [
      { path: 'model-info.json', source: Buffer.from(JSON.stringify(modelInfo)) },
      ...saved.files,
      ...extraFiles.map((file, index) => ({ path: extraPaths[index]!, source: file })),
    ];
    const archiveKey = layout.archive(domain, created, modelId);
    const { stream, digest } = packArchive(entries, { mtime: created, compressionLevel: this.compressionLevel });
    let packed: ArchiveDigest | undefined;
    void digest.then((value) => (packed = value), () => undefined);
    try {
      await this.storage.put(archiveKey, stream, {
        contentType: 'application/gzip',
        ...(this.storage.capabilities.conditionalWrites ? { ifNoneMatch: '*' as const } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      stream.destroy();
      // A create-only write whose first attempt was applied but whose answer was lost
      // comes back as "already exists" from the SDK's retry: it is ours if it has our bytes.
      const ours = PreconditionFailedError.isInstance(error) && packed !== undefined && (await this.holdsArchive(archiveKey, packed));
      if (!ours) {
        if (PreconditionFailedError.isInstance(error) && (error as PreconditionFailedError).key === archiveKey) throw new ModelExistsError(domain, modelId, { cause: error });
        throw error;
      }
    }
    const archive = await digest;
    if (options.signal?.aborted) {
      await this.storage.delete(archiveKey).catch(() => undefined);
      throw abortReason(options.signal);
    }
    const metadata: ModelMetadata = {
      model: {
        domain,
        model_id: modelId,
        model_type: modelInfo,
        parameters: saved.parameters ?? {},
      },
      storage: this.storage.describe(archiveKey),
      modelstore: version,
      code: {
        runtime: `node:${process.versions.node}`,
        user: currentUser(),
        created: createdStamp(created),
        created_at: created.toISOString(),
        dependencies: { '@modelstore/core': version, ...saved.dependencies },
        ...(await this.git().then((git) => (git ? { git } : {}))),
      },
      ...(options.extraMetadata === undefined ? {} : { extra: options.extraMetadata }),
      archive: { ...archive, upload_id: randomUUID() },
    };
    await this.commit(metadata, archiveKey);
    await this.announce(metadata);
    return metadata;
  }

  /** Whether the object at `key` is the archive described by `digest` (read back and hashed). */
  private async holdsArchive(key: string, digest: ArchiveDigest): Promise<boolean> {
    try {
      const object = await this.storage.get(key);
      if (!object || object.size !== digest.size) {
        (object?.body as Readable | undefined)?.destroy?.();
        return false;
      }
      const hash = createHash('sha256');
      for await (const chunk of object.body as AsyncIterable<Buffer>) hash.update(chunk);
      return hash.digest('hex') === digest.sha256;
    } catch {
      return false;
    }
  }

  private adapterFor(options: UploadOptions): ModelAdapter {
    const names = this.adapters.map((adapter) => adapter.library).join(', ') || 'none';
    if (options.adapter !== undefined) {
      const named = this.adapters.find((adapter) => adapter.library === options.adapter);
      if (!named) throw new AdapterNotFoundError(`No adapter for library "${options.adapter}" is registered (registered: ${names}): pass it in new ModelStore({ adapters })`);
      return named;
    }
    const matching = this.adapters.filter((adapter) => adapter.matches(options.model));
    if (matching.length === 0) {
      throw new AdapterNotFoundError(`No registered adapter accepts this model (registered: ${names}). Register one that does, e.g. new RawAdapter() from @modelstore/adapter-raw for files on disk`);
    }
    return matching[0]!;
  }

  private git(): Promise<GitInfo | undefined> {
    this.gitInfo ??= readGitInfo();
    return this.gitInfo;
  }

  /**
   * The commit point: the model exists once its `versions/<id>.json` is created.
   * Create-only, so a taken id fails with `ModelExistsError` and changes nothing.
   * When the write fails, the document is read back: a write applied by an attempt
   * whose answer was lost is a success. The archive is removed only when another
   * model holds the id; when the outcome is unknown (the write may still land) it is
   * left to `collectGarbage`, whose grace period covers such late writes.
   */
  private async commit(metadata: ModelMetadata, archiveKey: string): Promise<void> {
    const { domain, model_id: modelId } = metadata.model;
    const key = layout.version(domain, modelId);
    try {
      await this.writeJson(key, metadata, { ifNoneMatch: '*' });
    } catch (error) {
      const stored = await this.readJson<unknown>(key).then(
        (value) => ({ value }),
        () => undefined,
      );
      // The very document this upload wrote (it carries this upload's random upload_id).
      if (stored && JSON.stringify(stored.value) === JSON.stringify(metadata)) return;
      // Another model holds the id, so nothing will reference this archive — unless
      // that model's archive is this very object (same key), which must stay.
      const theirs = stored?.value;
      if (theirs !== undefined && !(isModelMetadata(theirs) && JSON.stringify(theirs.storage) === JSON.stringify(metadata.storage))) await this.storage.delete(archiveKey).catch(() => undefined);
      if (PreconditionFailedError.isInstance(error)) throw new ModelExistsError(domain, modelId, { cause: error });
      throw error;
    }
  }

  /** After a commit: moves the latest pointer forward if newer, and records the model in the domain's index. */
  private async announce(metadata: ModelMetadata): Promise<void> {
    await this.advanceDomain(metadata.model.domain, metadata);
    await this.addToIndex(metadata.model.domain, metadata);
  }

  /** Moves `domains/<domain>.json` to `metadata` by compare-and-swap, unless a newer model is already there. */
  private async advanceDomain(domain: string, metadata: ModelMetadata): Promise<void> {
    const key = layout.domain(domain);
    let readFailures = 0;
    for (let attempt = 0; attempt < registryRetries; attempt++) {
      const retry: unique symbol = Symbol('retry');
      const current = await this.readJsonOrDamaged(key).catch((error: unknown): typeof retry => {
        // A read that broke off (the pointer may have moved meanwhile) is read again.
        if (StorageError.isInstance(error) && (error as StorageError).retryable && ++readFailures <= 3) return retry;
        throw error;
      });
      if (current === retry) {
        await backoff(attempt);
        continue;
      }
      // A damaged pointer is replaced rather than trusted (or left blocking every upload).
      if (current && !current.damaged && isModelMetadata(current.value) && newestFirst(current.value, metadata) <= 0) return;
      try {
        // Conditional on exactly the version read: what it was compared with (or its absence).
        await this.writeJson(key, metadata, current ? { ifMatch: current.info.etag } : { ifNoneMatch: '*' });
        return;
      } catch (error) {
        if (!PreconditionFailedError.isInstance(error)) throw error;
        await backoff(attempt);
      }
    }
    throw new ModelStoreError(`Could not update the latest model of domain "${domain}" after ${registryRetries} attempts: too many concurrent writers`);
  }

  // ---------------------------------------------------------------- reading

  /** Domains, most recently updated first. */
  async listDomains(): Promise<string[]> {
    const keys = await this.listKeys(layout.domains(), '.json');
    // A damaged pointer still names its domain (by its key); it sorts as oldest.
    const documents = await mapConcurrently(keys, 16, (name) => this.readMetadata(layout.domain(name)).catch((error: unknown) => (IntegrityError.isInstance(error) ? null : Promise.reject(error))));
    const times = new Map(keys.map((name, index) => [name, documents[index] ? createdTime(documents[index]!) || 0 : 0]));
    // Pointers deleted since the listing (undefined) are left out.
    return keys.filter((_, index) => documents[index] !== undefined).sort((a, b) => times.get(b)! - times.get(a)! || (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The metadata of the domain's latest model. @throws DomainNotFoundError */
  async getDomain(domain: string): Promise<ModelMetadata> {
    validateDomain(domain);
    const metadata = await this.readMetadata(layout.domain(domain));
    if (metadata) return metadata;
    // No pointer, but perhaps models: an upload that died between its commit and the
    // pointer's creation. The newest committed model is the latest; the pointer is
    // written for the next reader (create-only, so a concurrent upload wins).
    const found = (await this.newestCommitted(domain)).newest;
    if (!found) throw new DomainNotFoundError(domain);
    await this.advanceDomain(domain, found).catch(() => undefined);
    return found;
  }

  /** Model ids of the domain, newest first; only those in `state` if given. Deleted models are never listed. */
  async listModels(domain: string, options: { state?: string } = {}): Promise<string[]> {
    validateDomain(domain);
    let prefix = layout.versions(domain);
    if (options.state !== undefined) {
      validateStateName(options.state);
      await this.requireState(options.state);
      prefix = layout.stateVersions(domain, options.state);
    }
    const ids = await this.listKeys(prefix, '.json');
    if (ids.length === 0 && options.state === undefined && !(await this.storage.head(layout.domain(domain)))) throw new DomainNotFoundError(domain);
    return this.newestFirst(domain, prefix, ids);
  }

  /**
   * Orders model ids by creation time, newest first, ties by id. Creation times come
   * from the domain's index (one read) and, for models it does not know (written by
   * Python modelstore, or by an upload that died before indexing), from their metadata.
   */
  private async newestFirst(domain: string, prefix: string, ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const created = await this.readIndex(domain);
    const unknown = ids.filter((id) => !created.has(id));
    // A damaged document is listed (it exists), ordered as oldest; reading it says what is wrong.
    const documents = await mapConcurrently(unknown, 16, (id) => this.readMetadata(`${prefix}${id}.json`).catch((error: unknown) => (IntegrityError.isInstance(error) ? null : Promise.reject(error))));
    const vanished = new Set<string>();
    unknown.forEach((id, index) => {
      const metadata = documents[index];
      if (metadata) created.set(id, createdTime(metadata) || 0);
      else if (metadata === null) created.set(id, 0);
      else vanished.add(id);
    });
    return ids
      .filter((id) => !vanished.has(id))
      .sort((a, b) => created.get(b)! - created.get(a)! || (a < b ? 1 : a > b ? -1 : 0));
  }

  /** The domain's index of creation times; empty when it is missing or unreadable (it is only a cache). */
  private async readIndex(domain: string): Promise<Map<string, number>> {
    const index = await this.readJson<{ models?: Record<string, number> }>(layout.index(domain)).catch(() => undefined);
    return new Map(Object.entries(index?.models ?? {}).filter((entry): entry is [string, number] => typeof entry[1] === 'number'));
  }

  /**
   * Records a committed model's creation time in the domain's index, by
   * compare-and-swap. Best effort: the model is committed and listed either way.
   */
  private async addToIndex(domain: string, metadata: ModelMetadata): Promise<void> {
    const key = layout.index(domain);
    try {
      for (let attempt = 0; attempt < registryRetries; attempt++) {
        // A damaged index is replaced: it only lists what listing finds anyway.
        const current = await this.readJsonOrDamaged(key);
        const stored = current && !current.damaged ? (current.value as { models?: unknown }).models : undefined;
        const models: Record<string, number> = typeof stored === 'object' && stored !== null && !Array.isArray(stored) ? { ...(stored as Record<string, number>) } : {};
        if (models[metadata.model.model_id] !== undefined) return;
        models[metadata.model.model_id] = createdTime(metadata) || 0;
        try {
          await this.writeJson(key, { models }, current ? { ifMatch: current.info.etag } : { ifNoneMatch: '*' });
          return;
        } catch (error) {
          if (!PreconditionFailedError.isInstance(error)) return;
          await backoff(attempt);
        }
      }
    } catch {
      // The index only saves reads; a model missing from it is found by listing.
    }
  }

  /** A model's metadata. @throws ModelNotFoundError, ModelDeletedError, DomainNotFoundError */
  async getModelInfo(domain: string, modelId: string): Promise<ModelMetadata> {
    validateDomain(domain);
    validateModelId(modelId);
    const metadata = await this.readMetadata(layout.version(domain, modelId));
    if (metadata) return metadata;
    if (await this.storage.head(layout.stateVersion(domain, deletedState, modelId))) throw new ModelDeletedError(domain, modelId);
    if (!(await this.storage.head(layout.domain(domain)))) throw new DomainNotFoundError(domain);
    throw new ModelNotFoundError(domain, modelId);
  }

  /** Whether the model exists and is not deleted. */
  async modelExists(domain: string, modelId: string): Promise<boolean> {
    validateDomain(domain);
    validateModelId(modelId);
    return (await this.storage.head(layout.version(domain, modelId))) !== undefined;
  }

  /** The latest model's metadata, or the newest in `state`. @throws DomainNotFoundError, ModelNotFoundError when the state holds no model */
  async getLatestModel(domain: string, options: { state?: string } = {}): Promise<ModelMetadata> {
    if (options.state === undefined) return this.getDomain(domain);
    const [newest] = await this.listModels(domain, options);
    if (!newest) throw new ModelNotFoundError(domain, `(latest in state "${options.state}")`);
    const metadata = await this.readMetadata(layout.stateVersion(domain, options.state, newest));
    return metadata ?? this.getModelInfo(domain, newest);
  }

  // ---------------------------------------------------------------- download and load

  /** Downloads and verifies a model into `to`; returns `to`'s absolute path. */
  async download(domain: string, options: DownloadOptions): Promise<string> {
    const metadata = options.modelId === undefined ? await this.getDomain(domain) : await this.getModelInfo(domain, options.modelId);
    return this.extractModel(metadata, path.resolve(options.to), options);
  }

  /** Loads a model through its adapter, from the local cache when the same model was loaded before. */
  async load<T = unknown>(domain: string, options: { modelId?: string; signal?: AbortSignal } = {}): Promise<T> {
    validateDomain(domain);
    if (options.modelId !== undefined) validateModelId(options.modelId);
    const pointerKey = options.modelId === undefined ? layout.domain(domain) : layout.version(domain, options.modelId);
    // A HEAD of the pointer tells whether the cached copy is still the model asked for.
    const pointer = await this.storage.head(pointerKey);
    const refFile = path.join(this.cacheDir, 'refs', `${this.cacheName(pointerKey)}.json`);
    const ref = pointer ? await readFile(refFile, 'utf8').then((text) => JSON.parse(text) as { etag: string; directory: string; metadata: ModelMetadata }, () => undefined) : undefined;
    let metadata: ModelMetadata;
    let directory: string;
    if (ref && pointer && ref.etag === pointer.etag && isModelMetadata(ref.metadata) && (await readdir(ref.directory).then(() => true, () => false))) {
      metadata = ref.metadata;
      directory = ref.directory;
    } else {
      metadata = options.modelId === undefined ? await this.getDomain(domain) : await this.getModelInfo(domain, options.modelId);
      const archiveKey = this.archiveKeyOf(metadata);
      const identity = `${JSON.stringify(this.storage.describe(archiveKey))}\n${metadata.archive?.sha256 ?? (await this.storage.head(archiveKey))?.etag ?? ''}`;
      directory = path.join(this.cacheDir, 'models', this.cacheName(identity));
      if (!(await readdir(directory).then(() => true, () => false))) {
        await this.extractModel(metadata, directory, { ...options, to: directory, overwrite: false, keepExisting: true });
      }
      if (pointer) {
        await mkdir(path.dirname(refFile), { recursive: true });
        const temporary = `${refFile}.${randomBytes(6).toString('hex')}.tmp`;
        await writeFile(temporary, JSON.stringify({ etag: pointer.etag, directory, metadata }));
        await rename(temporary, refFile);
      }
    }
    const library = metadata.model.model_type.library;
    const adapter = this.adapters.find((candidate) => candidate.library === library);
    if (!adapter) throw new AdapterNotFoundError(`No adapter for library "${library}" is registered: ${installHint(library)}`);
    return (await adapter.load(directory, metadata)) as T;
  }

  private cacheName(identity: string): string {
    return createHash('sha256').update(this.storageIdentity()).update('\n').update(identity).digest('hex').slice(0, 40);
  }

  private storageIdentity(): string {
    return JSON.stringify(this.storage.describe(layout.domains() + 'x'));
  }

  private archiveKeyOf(metadata: ModelMetadata): string {
    const key = archiveKeyFromLocation(metadata.storage);
    try {
      if (key === undefined) throw new Error('no archive location');
      validateArchivePath(key);
    } catch {
      throw new IntegrityError(`The metadata of model "${metadata.model?.model_id}" does not name an archive inside the registry (storage: ${JSON.stringify(metadata.storage)})`);
    }
    return key;
  }

  private async extractModel(metadata: ModelMetadata, to: string, options: DownloadOptions & { keepExisting?: boolean }): Promise<string> {
    const archiveKey = this.archiveKeyOf(metadata);
    const existing = await readdir(to).then((names) => names, () => undefined);
    if (existing && existing.length > 0 && !options.overwrite && !options.keepExisting) throw new DestinationExistsError(to);
    const parent = path.dirname(to);
    const createdParent = await mkdir(parent, { recursive: true });
    const staging = path.join(parent, `.${path.basename(to)}.modelstore-staging-${randomBytes(6).toString('hex')}`);
    await mkdir(staging);
    try {
      const object = await this.storage.get(archiveKey, options.signal ? { signal: options.signal } : {});
      if (!object) throw new IntegrityError(`The archive of model "${metadata.model.model_id}" is missing from storage (${archiveKey})`);
      let read = 0;
      const body = options.onProgress
        ? (async function* () {
            for await (const chunk of object.body as AsyncIterable<Buffer>) {
              read += chunk.length;
              options.onProgress!(read);
              yield chunk;
            }
          })()
        : object.body;
      await extractArchive(body instanceof Readable ? body : Readable.from(body as AsyncIterable<Buffer>), staging, metadata.archive ?? {});
      if (options.signal?.aborted) throw abortReason(options.signal);
      await this.moveIntoPlace(staging, to, options);
      return to;
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      if (createdParent !== undefined) await removeEmptyDirectories(parent, createdParent);
      throw error;
    }
  }

  /** Renames the verified staging directory to `to`, the only moment `to` changes. */
  private async moveIntoPlace(staging: string, to: string, options: { overwrite?: boolean; keepExisting?: boolean }): Promise<void> {
    try {
      await rmdir(to).catch((error: { code?: string }) => {
        if (error.code !== 'ENOENT') throw error;
      });
      await rename(staging, to);
      return;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
    }
    if (options.keepExisting) {
      // Another process filled the cache entry first: its copy is the same model.
      await rm(staging, { recursive: true, force: true });
      return;
    }
    if (!options.overwrite) throw new DestinationExistsError(to);
    const old = `${staging}-old`;
    await rename(to, old);
    await rename(staging, to);
    await rm(old, { recursive: true, force: true });
  }

  // ---------------------------------------------------------------- copy and garbage collection

  /**
   * Copies a model into another store (any pair of backends), streaming its archive
   * and checking its sha256 on the way; the copy's metadata names the target's
   * location and is committed create-only, then the target's latest pointer moves
   * forward if the copy is newer. `states` are set on the copy (created if needed).
   * @throws ModelExistsError when the target already has this model id.
   */
  async copyModel(domain: string, modelId: string, target: ModelStore, options: { states?: string[]; signal?: AbortSignal } = {}): Promise<ModelMetadata> {
    for (const state of options.states ?? []) validateStateName(state);
    const metadata = await this.getModelInfo(domain, modelId);
    const archiveKey = this.archiveKeyOf(metadata);
    if ((await target.storage.head(layout.version(domain, modelId))) || (await target.storage.head(layout.stateVersion(domain, deletedState, modelId)))) {
      throw new ModelExistsError(domain, modelId);
    }
    const source = await this.storage.get(archiveKey, options.signal ? { signal: options.signal } : {});
    if (!source) throw new IntegrityError(`The archive of model "${modelId}" is missing from the source store (${archiveKey})`);
    const hash = createHash('sha256');
    let size = 0;
    async function* hashed() {
      for await (const chunk of source!.body as AsyncIterable<Buffer>) {
        hash.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    }
    let written = false;
    try {
      try {
        await target.storage.put(archiveKey, hashed(), {
          contentType: 'application/gzip',
          size: source.size,
          ...(target.storage.capabilities.conditionalWrites ? { ifNoneMatch: '*' as const } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        });
      } catch (error) {
        // As in upload: "already exists" from a retry of an applied write is our own copy.
        const whole = size === source.size && metadata.archive !== undefined;
        if (!(PreconditionFailedError.isInstance(error) && whole && (await target.holdsArchive(archiveKey, metadata.archive!)))) throw error;
      }
      written = true;
      const sha256 = hash.digest('hex');
      const expected = metadata.archive;
      if (size !== source.size || (expected && (expected.sha256 !== sha256 || expected.size !== size))) {
        throw new IntegrityError(`The archive of model "${modelId}" read back as ${size} bytes with sha256 ${sha256}, but ${expected ? `the metadata recorded ${expected.size} bytes, ${expected.sha256}` : `storage reported ${source.size} bytes`}: not copied`);
      }
      const copy: ModelMetadata = { ...metadata, storage: target.storage.describe(archiveKey) };
      // From here on the commit decides what becomes of the archive.
      written = false;
      await target.commit(copy, archiveKey);
      await target.announce(copy);
      for (const state of options.states ?? []) {
        await target.ensureState(state);
        await target.writeJson(layout.stateVersion(domain, state, modelId), copy);
      }
      return copy;
    } catch (error) {
      if (written) await target.storage.delete(archiveKey).catch(() => undefined);
      if (PreconditionFailedError.isInstance(error)) throw new ModelExistsError(domain, modelId, { cause: error });
      throw error;
    }
  }

  /**
   * Removes archives that no model's metadata references — left by uploads that
   * died between writing the archive and committing — once they are older than
   * `olderThan` milliseconds by the archive's `lastModified` (the store's clock).
   * Committed and soft-deleted models are never touched.
   *
   * The grace period protects a late commit: an upload's commit request can still
   * be applied minutes after its process died or gave up (a request the store had
   * already received, or an SDK retry in flight), and an archive removed before
   * that lands leaves a listed model that cannot be downloaded. The bound is the
   * backends' retry settings (5 attempts of at most 60 s each plus backoff: about
   * 7 minutes at worst, see RELIABILITY.md) plus clock skew between this host and
   * the store, so `olderThan` defaults to one hour and may not be less than
   * `minimumGarbageAge` (15 minutes) unless `quiesced` is true. A store that dates
   * an object by the start of its upload rather than its end needs the longest
   * archive upload added to the grace period.
   *
   * Before each removal the model's metadata is read again, so a commit that landed
   * while the registry was listed keeps its archive. An archive is only removed when
   * it is proven an orphan: a model whose metadata document exists but cannot be read
   * (a failed read, or a document this library cannot parse) keeps its archive, and
   * the document is reported in `unreadable`.
   *
   * @param options.olderThan grace period in ms (default 3 600 000; at least 900 000 unless `quiesced`)
   * @param options.dryRun report what would be removed, remove nothing
   * @param options.now the clock to measure ages against (default: now)
   * @param options.quiesced the caller guarantees that no upload is running on this
   *   registry and that every request of one that stopped has been applied (all
   *   writers stopped and the store idle, e.g. in a test); only then may `olderThan`
   *   be below the minimum
   * @returns the orphan archives removed (or that would be), those kept as too young,
   *   and the keys of metadata documents that could not be read (their archives kept)
   * @throws InvalidOptionError when `olderThan` is negative, not a number, or below the minimum without `quiesced`
   * @throws StorageError when the storage fails
   */
  async collectGarbage(options: { olderThan?: number; dryRun?: boolean; now?: Date; quiesced?: boolean } = {}): Promise<{ removed: ObjectInfo[]; kept: ObjectInfo[]; unreadable: string[]; dryRun: boolean }> {
    const olderThan = options.olderThan ?? defaultGarbageAge;
    if (typeof olderThan !== 'number' || !Number.isFinite(olderThan) || olderThan < 0) {
      throw new InvalidOptionError('olderThan', `collectGarbage: olderThan must be a number of milliseconds, at least 0 (got ${String(olderThan)})`);
    }
    if (olderThan < minimumGarbageAge && options.quiesced !== true) {
      throw new InvalidOptionError(
        'olderThan',
        `collectGarbage: olderThan ${olderThan} ms is below the minimum of ${minimumGarbageAge} ms (15 minutes): a commit still in flight could land after its archive was removed. ` +
          'Pass quiesced: true only when no upload is running and the store has applied every request of those that stopped',
      );
    }
    const cutoff = (options.now ?? new Date()).getTime() - olderThan;
    const referenced = new Set<string>();
    // Models (`<domain>/<model_id>`) with a metadata document that could not be read:
    // their archives are kept whatever their age, since nothing proves them orphans.
    const unreadableModels = new Set<string>();
    const unreadable: string[] = [];
    const archives: ObjectInfo[] = [];
    for await (const object of this.listAll(`${registryRoot}/`)) {
      const parts = object.key.split('/');
      // operatorai-model-store/<domain>/versions[/<state>]/<id>.json; a soft-deleted model's
      // archive is garbage too (deleteModel removes it last, so a crash can leave it).
      if (parts.length >= 4 && parts[2] === 'versions' && object.key.endsWith('.json') && !(parts.length === 5 && parts[3] === deletedState)) {
        const metadata = await this.readMetadata(object.key).catch(() => null);
        if (metadata === null) {
          unreadable.push(object.key);
          unreadableModels.add(`${parts[1]}/${parts[parts.length - 1]!.slice(0, -'.json'.length)}`);
          continue;
        }
        const key = metadata ? archiveKeyFromLocation(metadata.storage) : undefined;
        if (key !== undefined) referenced.add(key);
      } else if (parts.length === 5 && parts[4] === 'artifacts.tar.gz') {
        archives.push(object);
      }
    }
    // operatorai-model-store/<domain>/<stamp>/<model_id>/artifacts.tar.gz
    const modelOf = (key: string) => {
      const [, domain, , modelId] = key.split('/');
      return { domain: domain!, modelId: modelId! };
    };
    const orphans = archives.filter((object) => {
      const { domain, modelId } = modelOf(object.key);
      return !referenced.has(object.key) && !unreadableModels.has(`${domain}/${modelId}`);
    });
    const old = orphans.filter((object) => object.lastModified.getTime() <= cutoff);
    const kept = orphans.filter((object) => object.lastModified.getTime() > cutoff);
    const removed: ObjectInfo[] = [];
    for (const object of old) {
      // A commit of this model that landed since the listing references it now; a
      // document that cannot be read keeps the archive.
      const { domain, modelId } = modelOf(object.key);
      const versionKey = layout.version(domain, modelId);
      const committed = await this.readMetadata(versionKey).catch(() => null);
      if (committed === null) {
        unreadable.push(versionKey);
        continue;
      }
      if (committed && archiveKeyFromLocation(committed.storage) === object.key) continue;
      if (!options.dryRun) await this.storage.delete(object.key);
      removed.push(object);
    }
    return { removed, kept, unreadable, dryRun: options.dryRun ?? false };
  }

  // ---------------------------------------------------------------- delete

  /**
   * Soft-deletes a model as Python modelstore does: its metadata moves to
   * `versions/modelstore-deleted/`, it leaves every state, its archive is removed,
   * and the domain's latest pointer moves to the newest remaining model.
   */
  async deleteModel(domain: string, modelId: string): Promise<void> {
    const metadata = await this.getModelInfo(domain, modelId);
    // Ordered so that a crash at any step leaves no state or latest pointer naming a
    // model that is not listed: the model disappears only after both are moved off it.
    await this.ensureState(deletedState);
    await this.writeJson(layout.stateVersion(domain, deletedState, modelId), metadata);
    for (const state of await this.getModelStates(domain, modelId)) await this.storage.delete(layout.stateVersion(domain, state, modelId));
    await this.retreatDomain(domain, modelId);
    await this.storage.delete(layout.version(domain, modelId));
    const archiveKey = archiveKeyFromLocation(metadata.storage);
    if (archiveKey !== undefined) await this.storage.delete(archiveKey).catch(() => undefined);
  }

  /** The domain's newest committed model other than `except` (undefined if none, or if it vanished while read), and how many there are. */
  private async newestCommitted(domain: string, except?: string): Promise<{ newest: ModelMetadata | undefined; count: number }> {
    const ids = (await this.listKeys(layout.versions(domain), '.json')).filter((id) => id !== except);
    const first = (await this.newestFirst(domain, layout.versions(domain), ids))[0];
    const newest = first === undefined ? undefined : await this.readMetadata(layout.version(domain, first)).catch(() => undefined);
    return { newest, count: ids.length };
  }

  /** If the domain's latest is `modelId`, points it at the newest remaining model (or removes it if none remain). */
  private async retreatDomain(domain: string, modelId: string): Promise<void> {
    const key = layout.domain(domain);
    for (let attempt = 0; attempt < registryRetries; attempt++) {
      const current = await this.readJsonWithInfo<unknown>(key).catch(() => undefined);
      if (!current || !isModelMetadata(current.value) || current.value.model.model_id !== modelId) return;
      const { newest, count } = await this.newestCommitted(domain, modelId);
      try {
        if (newest) await this.writeJson(key, newest, { ifMatch: current.info.etag });
        else if (count === 0) {
          // A delete has no condition: an upload that committed and moved the pointer
          // meanwhile lost it. Its model is listed by now, so the pointer is restored.
          await this.storage.delete(key);
          const restored = (await this.newestCommitted(domain, modelId)).newest;
          if (restored) await this.advanceDomain(domain, restored);
        } else continue; // The newest remaining model vanished meanwhile: look again.
        return;
      } catch (error) {
        if (!PreconditionFailedError.isInstance(error)) throw error;
        await backoff(attempt);
      }
    }
  }

  // ---------------------------------------------------------------- states

  /** Creates a model state (idempotent). */
  async createModelState(state: string): Promise<void> {
    validateStateName(state);
    await this.ensureState(state);
  }

  private async ensureState(state: string): Promise<void> {
    if (await this.storage.head(layout.state(state))) return;
    const document: ModelStateDocument = { created: createdStamp(new Date()), state_name: state };
    try {
      await this.writeJson(layout.state(state), document, { ifNoneMatch: '*' });
    } catch (error) {
      if (!PreconditionFailedError.isInstance(error)) throw error;
    }
  }

  /** Deletes a model state. Models keep their copies, but the state can no longer be listed or set. */
  async deleteModelState(state: string): Promise<void> {
    validateStateName(state);
    if (!(await this.storage.delete(layout.state(state)))) throw new StateNotFoundError(state);
  }

  /** Model states, in no particular order. */
  async listModelStates(): Promise<string[]> {
    return (await this.listKeys(layout.states(), '.json')).filter((state) => state !== deletedState);
  }

  /** Puts a model in a state (idempotent). @throws StateNotFoundError, ModelNotFoundError, ModelDeletedError */
  async setModelState(domain: string, modelId: string, state: string): Promise<void> {
    validateStateName(state);
    await this.requireState(state);
    const metadata = await this.getModelInfo(domain, modelId);
    await this.writeJson(layout.stateVersion(domain, state, modelId), metadata);
  }

  /** Takes a model out of a state; nothing happens if it was not in it. @throws StateNotFoundError */
  async removeModelState(domain: string, modelId: string, state: string): Promise<void> {
    validateDomain(domain);
    validateModelId(modelId);
    validateStateName(state);
    await this.requireState(state);
    await this.storage.delete(layout.stateVersion(domain, state, modelId));
  }

  /** The states a model is in. */
  async getModelStates(domain: string, modelId: string): Promise<string[]> {
    validateDomain(domain);
    validateModelId(modelId);
    const prefix = layout.versions(domain);
    const states: string[] = [];
    for await (const object of this.listAll(prefix)) {
      const [state, file, ...rest] = object.key.slice(prefix.length).split('/');
      if (rest.length === 0 && file === `${modelId}.json` && state !== deletedState) states.push(state!);
    }
    return states;
  }

  private async requireState(state: string): Promise<void> {
    if (!(await this.storage.head(layout.state(state)))) throw new StateNotFoundError(state);
  }

  // ---------------------------------------------------------------- storage helpers

  private async *listAll(prefix: string): AsyncGenerator<ObjectInfo> {
    let cursor: string | undefined;
    do {
      const page = await this.storage.list(prefix, cursor === undefined ? {} : { cursor });
      yield* page.objects;
      cursor = page.cursor;
    } while (cursor !== undefined);
  }

  /** Names `<name><suffix>` directly under `prefix` (not in sub-folders). */
  private async listKeys(prefix: string, suffix: string): Promise<string[]> {
    const names: string[] = [];
    for await (const object of this.listAll(prefix)) {
      const rest = object.key.slice(prefix.length);
      if (!rest.includes('/') && rest.endsWith(suffix)) names.push(rest.slice(0, -suffix.length));
    }
    return names;
  }

  private async readJsonWithInfo<T>(key: string): Promise<{ value: T; info: ObjectInfo } | undefined> {
    const read = await this.readJsonOrDamaged(key);
    if (read?.damaged) throw new IntegrityError(`"${key}" is not valid JSON: it was truncated or written by something else`, { cause: read.value });
    return read as { value: T; info: ObjectInfo } | undefined;
  }

  /** A JSON document and the version read; one that does not parse is `damaged` (its `value` the parse error), so a writer can replace that very version. */
  private async readJsonOrDamaged(key: string): Promise<{ value: unknown; info: ObjectInfo; damaged: boolean } | undefined> {
    const object = await this.storage.get(key);
    if (!object) return undefined;
    const text = (await readStream(object.body)).toString('utf8');
    try {
      return { value: JSON.parse(text), info: object, damaged: false };
    } catch (error) {
      return { value: error, info: object, damaged: true };
    }
  }

  private async readJson<T>(key: string): Promise<T | undefined> {
    return (await this.readJsonWithInfo<T>(key))?.value;
  }

  /** A model's metadata document, checked for the fields every reader relies on. `undefined` when missing. */
  private async readMetadata(key: string): Promise<ModelMetadata | undefined> {
    const value = await this.readJson<unknown>(key);
    return value === undefined ? undefined : checkModelMetadata(value, key);
  }

  private async writeJson(key: string, value: unknown, options: { ifNoneMatch?: '*'; ifMatch?: string } = {}): Promise<ObjectInfo> {
    return this.storage.put(key, JSON.stringify(value), { contentType: 'application/json', ...options });
  }
}

/** Removes `directory` and its parents up to and including `top`, while they are empty. */
async function removeEmptyDirectories(directory: string, top: string): Promise<void> {
  for (let current = directory; current.startsWith(top); current = path.dirname(current)) {
    if (!(await rmdir(current).then(() => true, () => false))) return;
    if (current === top) return;
  }
}

const knownAdapters: Record<string, string> = {
  model_file: 'install @modelstore/adapter-raw and pass new RawAdapter()',
  onnx: 'install @modelstore/adapter-onnx and pass new OnnxAdapter()',
  tensorflowjs: 'install @modelstore/adapter-tfjs and pass new TfjsAdapter()',
};

function installHint(library: string): string {
  return knownAdapters[library] ?? `register an adapter whose library is "${library}" in new ModelStore({ adapters })`;
}
