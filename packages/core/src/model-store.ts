import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { ModelAdapter } from './adapter.js';
import { extractArchive, packArchive, validateArchivePath, type ArchiveDigest, type CompressionLevel } from './archive.js';
import { abortReason } from './body.js';
import { currentUser, readGitInfo, type GitInfo } from './code-info.js';
import {
  AdapterNotFoundError,
  CommittedWithErrorsError,
  DomainNotFoundError,
  IntegrityError,
  InvalidOptionError,
  ModelDeletedError,
  ModelExistsError,
  ModelNotFoundError,
  ModelStoreError,
  PreconditionFailedError,
  SourceFileError,
  StateNotFoundError,
  StorageError,
} from './errors.js';
import { checkModelMetadata, isModelMetadata, type ModelMetadata, type ModelStateDocument } from './metadata.js';
import { deletedState, validateDomain, validateModelId, validateStateName } from './names.js';
import { archiveKeyFromLocation, createdStamp, layout, parseCreatedStamp, registryRoot } from './registry-layout.js';
import type { ObjectInfo, Storage } from './storage.js';
import { version } from './version.js';
import { checkOptions, guardMethods } from './arguments.js';
import { localError, placeVerified, prepareDestination, removeStaleStaging } from './destination.js';
import { checkJsonValue, parseJson, replaceMember } from './json.js';
import { ensureConditionalWrites } from './check-storage.js';

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
  /**
   * Before the first write to a store that claims `capabilities.conditionalWrites`, check once
   * per storage object (about 5 requests of a few bytes under `operatorai-model-store/.modelstore-probe-*`,
   * removed afterwards) that it really refuses a second create-only write and a stale
   * compare-and-swap; writes to a store that ignores them fail with `StorageCapabilityError`.
   * Default `true`. `false` skips the check (you checked the store with `checkStorage`). A store
   * opened with `conditionalWrites: false` is never probed: its writes are unconditional, so
   * concurrent writers of one model id or of a domain's latest pointer overwrite each other
   * without an error — keep to one writer at a time.
   */
  checkConditionalWrites?: boolean;
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
  /** The newest model in this state (e.g. `production`) instead of the latest; not with `modelId`. */
  state?: string;
  /** The directory to create. It may exist if empty; a non-empty one needs `overwrite`. */
  to: string;
  /** Replace a non-empty `to` (swapped in only once the new copy is complete and verified). */
  overwrite?: boolean;
  /** Called with the archive bytes read so far. */
  onProgress?(bytes: number): void;
  signal?: AbortSignal;
}

const registryRetries = 50;

/** `load`'s default cache folder: `$XDG_CACHE_HOME/modelstore`, else the platform's cache folder (`~/.cache/modelstore`, `~/Library/Caches/modelstore`, `%LOCALAPPDATA%\\modelstore\\Cache`). */
export function defaultCacheDir(): string {
  if (process.env.XDG_CACHE_HOME) return path.join(process.env.XDG_CACHE_HOME, 'modelstore');
  if (process.platform === 'darwin') return path.join(homedir(), 'Library', 'Caches', 'modelstore');
  if (process.platform === 'win32' && process.env.LOCALAPPDATA) return path.join(process.env.LOCALAPPDATA, 'modelstore', 'Cache');
  return path.join(homedir(), '.cache', 'modelstore');
}

/** The widest UTC offsets in use: UTC−12:00 to UTC+14:00, in ms. */
const westmostOffset = -12 * 3600_000;
const eastmostOffset = 14 * 3600_000;
/** Every UTC offset in use is a whole number of quarter hours. */
const quarterHour = 15 * 60_000;

/**
 * The creation time this library orders a model by, in ms since the epoch (0 when
 * nothing is known):
 * - `code.created_at` (ISO-8601 UTC, written by this library) when present;
 * - else Python modelstore's `code.created`, which is the uploading machine's *local*
 *   time with no zone, converted to UTC with the writer's offset inferred from
 *   `documentTime`, the storage's own last-modified time of the model's
 *   `versions/<id>.json`: the stamp read as UTC minus that time, rounded to the
 *   nearest quarter hour (every zone's offset is a multiple of 15 minutes; the upload
 *   itself takes seconds). So a model uploaded from Tokyo (UTC+9) two seconds before one
 *   from Node is older, as it really is, instead of nine hours newer;
 * - when the inferred offset is not one in use (−12 h to +14 h) — the document was
 *   copied or rewritten long after it was made, so its storage time says nothing of
 *   the writer's zone — or no storage time is known, the stamp read as UTC, which
 *   orders Python's models among themselves as Python modelstore does.
 */
export function createdTime(metadata: ModelMetadata, documentTime?: Date): number {
  const precise = Date.parse(typeof metadata.code?.created_at === 'string' ? metadata.code.created_at : '');
  if (!Number.isNaN(precise)) return precise;
  const stamp = parseCreatedStamp(typeof metadata.code?.created === 'string' ? metadata.code.created : undefined);
  if (Number.isNaN(stamp)) return documentTime?.getTime() || 0;
  const stored = documentTime?.getTime();
  if (stored === undefined || Number.isNaN(stored)) return stamp;
  const offset = Math.round((stamp - stored) / quarterHour) * quarterHour;
  return offset >= westmostOffset && offset <= eastmostOffset ? stamp - offset : stamp;
}

/**
 * A committed model's metadata document as read: its parsed value, the version read
 * (`info.etag`, `info.lastModified`) and its exact text — documents this library
 * copies (state copies, soft-delete copies, the latest pointer) are written with these
 * very bytes, so values JavaScript cannot hold (Python's big integers, `1.0` vs `1`) are kept.
 */
interface StoredModel {
  metadata: ModelMetadata;
  info: ObjectInfo;
  text: string;
}

const modelTime = (model: StoredModel) => createdTime(model.metadata, model.info.lastModified);

/** Newest first; ties by model id, so every reader agrees. */
function newestFirst(a: StoredModel, b: StoredModel): number {
  const difference = modelTime(b) - modelTime(a);
  const x = a.metadata.model.model_id;
  const y = b.metadata.model.model_id;
  return difference !== 0 ? difference : x < y ? 1 : x > y ? -1 : 0;
}

/** Whether two documents describe the same upload of a model (a re-used id is another model). */
function sameModel(a: ModelMetadata, b: ModelMetadata): boolean {
  if (a.model.model_id !== b.model.model_id || a.model.domain !== b.model.domain) return false;
  const ours = a.archive?.upload_id;
  const theirs = b.archive?.upload_id;
  if (typeof ours === 'string' || typeof theirs === 'string') return ours === theirs;
  const key = archiveKeyFromLocation(a.storage);
  return key !== undefined && key === archiveKeyFromLocation(b.storage);
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
  private readonly checkConditionalWrites: boolean;
  private gitInfo: Promise<GitInfo | undefined> | undefined;

  constructor(options: ModelStoreOptions) {
    checkOptions('new ModelStore', options, { storage: 'object', cacheDir: 'string' }, ['storage']);
    const storageMethods = ['put', 'get', 'head', 'list', 'delete', 'describe'] as const;
    const missing = storageMethods.filter((method) => typeof (options.storage as unknown as Record<string, unknown>)[method] !== 'function');
    if (missing.length > 0 || typeof options.storage.capabilities !== 'object' || options.storage.capabilities === null) {
      throw new InvalidOptionError('storage', `new ModelStore: storage must implement the Storage contract (missing: ${[...missing, ...(typeof options.storage.capabilities === 'object' && options.storage.capabilities !== null ? [] : ['capabilities'])].join(', ')}), e.g. new FileSystemStorage({ root })`);
    }
    if (options.adapters !== undefined && !(Array.isArray(options.adapters) && options.adapters.every((adapter) => typeof adapter?.library === 'string' && typeof adapter.matches === 'function' && typeof adapter.save === 'function' && typeof adapter.load === 'function'))) {
      throw new InvalidOptionError('adapters', 'new ModelStore: adapters must be an array of ModelAdapter objects (library, matches, save, load), e.g. [new RawAdapter()]');
    }
    const level = options.compressionLevel;
    if (level !== undefined && level !== 'auto' && !(Number.isInteger(level) && level >= 0 && level <= 9)) {
      throw new InvalidOptionError('compressionLevel', `new ModelStore: compressionLevel must be 'auto' or an integer from 0 to 9, got ${String(level)}`);
    }
    this.storage = options.storage;
    this.adapters = [...(options.adapters ?? [])];
    this.cacheDir = path.resolve(options.cacheDir ?? defaultCacheDir());
    this.compressionLevel = options.compressionLevel ?? 'auto';
    this.checkConditionalWrites = options.checkConditionalWrites ?? true;
  }

  // ---------------------------------------------------------------- upload

  /** Archives and uploads a model; returns its metadata once it is committed and listed. */
  async upload(domain: string, options: UploadOptions): Promise<ModelMetadata> {
    validateDomain(domain);
    checkOptions('upload', options, { modelId: 'string', adapter: 'string', extraFiles: 'string[]', extraMetadata: 'object', onProgress: 'function', signal: 'signal' }, ['model']);
    const modelId = options.modelId === undefined ? randomUUID() : validateModelId(options.modelId);
    const extraFiles = options.extraFiles ?? [];
    const extraPaths = extraFiles.map((file) => `extras/${path.basename(file)}`);
    for (const extraPath of extraPaths) validateArchivePath(extraPath);
    // Metadata this library writes stays strict JSON that JSON.parse reads back exactly.
    if (options.extraMetadata !== undefined) checkJsonValue(options.extraMetadata, 'extraMetadata');
    const adapter = this.adapterFor(options);
    options.signal?.throwIfAborted();
    await ensureConditionalWrites(this.storage, this.checkConditionalWrites);

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
      // A model file that could not be read fails the upload as itself (SOURCE_FILE, not retryable), however the backend wrapped the body's error.
      const sourceError = await digest.then(() => undefined, (reason: unknown) => reason);
      if (SourceFileError.isInstance(sourceError)) throw sourceError;
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
    const text = JSON.stringify(metadata);
    const info = await this.commit(metadata, text, archiveKey);
    // The commit is the last step that may fail the upload: the model is listed from here on.
    await this.announce({ metadata, info, text }).catch((error: unknown) => {
      throw new CommittedWithErrorsError(
        `Model "${modelId}" was committed to domain "${domain}" (it is listed and can be downloaded by id), but moving the domain's latest pointer to it failed: ${(error as Error).message}. ` +
          `Do not upload it again: until the next upload to "${domain}" moves the pointer, getDomain("${domain}") may name an older model`,
        metadata,
        { cause: error },
      );
    });
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
  private async commit(metadata: ModelMetadata, text: string, archiveKey: string): Promise<ObjectInfo> {
    const { domain, model_id: modelId } = metadata.model;
    const key = layout.version(domain, modelId);
    try {
      return await this.storage.put(key, text, { contentType: 'application/json', ifNoneMatch: '*' });
    } catch (error) {
      const stored = await this.readJsonOrDamaged(key).catch(() => undefined);
      // The very document this upload wrote (it carries this upload's random upload_id).
      if (stored && stored.text === text) return stored.info;
      // Another model holds the id, so nothing will reference this archive — unless
      // that model's archive is this very object (same key), which must stay.
      if (stored && !stored.damaged && !(isModelMetadata(stored.value) && archiveKeyFromLocation(stored.value.storage) === archiveKey)) await this.storage.delete(archiveKey).catch(() => undefined);
      if (PreconditionFailedError.isInstance(error)) throw new ModelExistsError(domain, modelId, { cause: error });
      throw error;
    }
  }

  /** After a commit: moves the latest pointer forward if newer, and records the model in the domain's index. */
  private async announce(model: StoredModel): Promise<void> {
    await this.advanceDomain(model.metadata.model.domain, model);
    await this.addToIndex(model.metadata.model.domain, model);
  }

  /**
   * Moves `domains/<domain>.json` to `candidate` by compare-and-swap, unless the pointer
   * already names a live model that is as new (a pointer naming a deleted, re-uploaded,
   * foreign or unreadable model is replaced). The pointer is a byte copy of the model's
   * document, as Python modelstore writes it.
   */
  private async advanceDomain(domain: string, candidate: StoredModel): Promise<void> {
    const key = layout.domain(domain);
    let readFailures = 0;
    for (let attempt = 0; attempt < registryRetries; attempt++) {
      const retry: unique symbol = Symbol('retry');
      const current = await (async () => {
        const pointer = await this.readJsonOrDamaged(key);
        return { pointer, live: pointer ? await this.liveModelOf(domain, pointer) : undefined };
      })().catch((error: unknown): typeof retry => {
        // A read that broke off (the pointer may have moved meanwhile) is read again.
        if (StorageError.isInstance(error) && (error as StorageError).retryable && ++readFailures <= 3) return retry;
        throw error;
      });
      if (current === retry) {
        await backoff(attempt);
        continue;
      }
      if (current.live && newestFirst(current.live, candidate) <= 0) return;
      // A pointer naming no live model says nothing about what is newest: ask the listing.
      const target = current.live ? candidate : await this.newestCommitted(domain).then(({ newest }) => (newest && newestFirst(newest, candidate) < 0 ? newest : candidate));
      try {
        // Conditional on exactly the version read: what it was compared with (or its absence).
        await this.storage.put(key, target.text, { contentType: 'application/json', ...(current.pointer ? { ifMatch: current.pointer.info.etag } : { ifNoneMatch: '*' as const }) });
        return;
      } catch (error) {
        if (!PreconditionFailedError.isInstance(error)) throw error;
        await backoff(attempt);
      }
    }
    throw new ModelStoreError(`Could not update the latest model of domain "${domain}" after ${registryRetries} attempts: too many concurrent writers`);
  }

  /**
   * The live model a pointer document names: its current `versions/<id>.json`, when
   * that exists and is the same upload as the pointer's copy. `undefined` for a pointer
   * that is damaged, names another domain's model, or names a model since deleted or
   * replaced by a re-upload of its id (Python modelstore's `delete_model` leaves the
   * pointer naming the deleted model).
   */
  private async liveModelOf(domain: string, pointer: StoredDocument): Promise<StoredModel | undefined> {
    if (pointer.damaged || !isModelMetadata(pointer.value) || pointer.value.model.domain !== domain) return undefined;
    let modelId: string;
    try {
      modelId = validateModelId(pointer.value.model.model_id);
    } catch {
      return undefined;
    }
    const live = await this.readModel(layout.version(domain, modelId)).catch((error: unknown) => (IntegrityError.isInstance(error) ? undefined : Promise.reject(error)));
    return live && sameModel(pointer.value, live.metadata) ? live : undefined;
  }

  /**
   * The domain's latest model: the one its pointer names when that is live, else the
   * newest committed model (the pointer is then repaired by compare-and-swap, best
   * effort: a reader without write access still gets the right answer).
   * @returns undefined when the domain has no live model; `damaged` when the pointer cannot be read
   */
  private async latest(domain: string): Promise<{ model: StoredModel | undefined; pointer: StoredDocument | undefined }> {
    const key = layout.domain(domain);
    for (let attempt = 0; ; attempt++) {
      const pointer = await this.readJsonOrDamaged(key);
      const live = pointer ? await this.liveModelOf(domain, pointer) : undefined;
      if (live) return { model: live, pointer };
      const { newest } = await this.newestCommitted(domain);
      if (!newest) return { model: undefined, pointer };
      const repaired = await this.storage.put(key, newest.text, { contentType: 'application/json', ...(pointer ? { ifMatch: pointer.info.etag } : { ifNoneMatch: '*' as const }) }).then(
        () => true,
        (error: unknown) => !PreconditionFailedError.isInstance(error),
      );
      // Lost the race to another writer: read what it wrote (a newer upload, or the same repair).
      if (repaired || attempt >= 3) return { model: newest, pointer };
      await backoff(attempt);
    }
  }

  // ---------------------------------------------------------------- reading

  /**
   * Domains, the one with the newest latest model first (model times as in
   * {@link createdTime}). A domain whose pointer cannot be read, or names no live
   * model while none remains, is listed last.
   */
  async listDomains(): Promise<string[]> {
    const names = await this.listKeys(layout.domains(), '.json');
    const latest = await mapConcurrently(names, 16, (name) =>
      this.latest(name).then(
        ({ model, pointer }) => (pointer === undefined && model === undefined ? undefined : model ? modelTime(model) : 0),
        (error: unknown) => (IntegrityError.isInstance(error) ? 0 : Promise.reject(error)),
      ),
    );
    const times = new Map(names.map((name, index) => [name, latest[index]]));
    // Pointers deleted since the listing (undefined) are left out.
    return names.filter((name) => times.get(name) !== undefined).sort((a, b) => times.get(b)! - times.get(a)! || (a < b ? -1 : a > b ? 1 : 0));
  }

  /**
   * The metadata of the domain's latest model: the newest live model. The pointer
   * `domains/<domain>.json` is trusted only while it names a live model; when it names a
   * deleted one (Python modelstore's `delete_model` leaves it so), a re-uploaded id or
   * another domain's model, or is missing or unreadable, the newest committed model is
   * the latest and the pointer is repaired.
   * @throws DomainNotFoundError when the domain has no live model
   * @throws IntegrityError when the pointer cannot be read and the domain has no model to replace it with
   */
  async getDomain(domain: string): Promise<ModelMetadata> {
    return (await this.latestOrThrow(domain)).metadata;
  }

  /**
   * Model ids of the domain, newest first (model times as in {@link createdTime}; ties
   * by id); only those in `state` if given. Deleted models are never listed, even when a
   * state still holds a copy of one.
   */
  async listModels(domain: string, options: { state?: string } = {}): Promise<string[]> {
    validateDomain(domain);
    checkOptions('listModels', options, { state: 'string' });
    if (options.state !== undefined) return (await this.inState(domain, options.state)).map(({ id }) => id);
    const objects = await this.listObjects(layout.versions(domain), '.json');
    if (objects.length === 0 && !(await this.storage.head(layout.domain(domain)))) throw new DomainNotFoundError(domain);
    return sortByTime(await this.timesOf(domain, objects));
  }

  /**
   * The live models in `state`, newest first: one read per member of its committed
   * document (whether the model is live, and when it was made). `model` is null for a
   * document that cannot be read (ordered as oldest).
   */
  private async inState(domain: string, state: string): Promise<{ id: string; model: StoredModel | null }[]> {
    validateStateName(state);
    await this.requireState(state);
    const ids = (await this.listObjects(layout.stateVersions(domain, state), '.json')).map(({ name }) => name);
    const models = await mapConcurrently(ids, 16, (id) => this.readModel(layout.version(domain, id)).catch((error: unknown) => (IntegrityError.isInstance(error) ? null : Promise.reject(error))));
    const times = new Map<string, number>();
    const byId = new Map<string, StoredModel | null>();
    ids.forEach((id, index) => {
      const model = models[index];
      // A state copy of a model that is not live (deleted by a writer that left the copy) is not listed.
      if (model === undefined) return;
      times.set(id, model ? modelTime(model) : 0);
      byId.set(id, model);
    });
    return sortByTime(times).map((id) => ({ id, model: byId.get(id)! }));
  }

  /**
   * Creation times of the listed `versions/<id>.json` documents: from the domain's index
   * when it recorded that very version of the document (same etag), else from the
   * document (written by Python modelstore, by an upload that died before indexing, or
   * re-uploaded under a re-used id). Documents deleted since the listing are left out;
   * a damaged one counts as oldest (reading it says what is wrong).
   */
  private async timesOf(domain: string, objects: { name: string; info: ObjectInfo }[]): Promise<Map<string, number>> {
    const index = await this.readIndex(domain);
    const times = new Map<string, number>();
    const unknown: { name: string; info: ObjectInfo }[] = [];
    for (const object of objects) {
      const entry = index.get(object.name);
      if (entry && entry.etag === object.info.etag) times.set(object.name, entry.time);
      else unknown.push(object);
    }
    const models = await mapConcurrently(unknown, 16, ({ name }) => this.readModel(layout.version(domain, name)).catch((error: unknown) => (IntegrityError.isInstance(error) ? null : Promise.reject(error))));
    unknown.forEach(({ name }, index) => {
      const model = models[index];
      if (model !== undefined) times.set(name, model ? modelTime(model) : 0);
    });
    return times;
  }

  /** The domain's index: creation time and document etag per model id; empty when it is missing or unreadable (it is only a cache). */
  private async readIndex(domain: string): Promise<Map<string, { time: number; etag: string }>> {
    const index = await this.readJson<{ models?: Record<string, unknown>; etags?: Record<string, unknown> }>(layout.index(domain)).catch(() => undefined);
    const times = index?.models ?? {};
    const etags = index?.etags ?? {};
    const entries = new Map<string, { time: number; etag: string }>();
    for (const [id, time] of Object.entries(typeof times === 'object' && times !== null ? times : {})) {
      const etag = typeof etags === 'object' && etags !== null ? (etags as Record<string, unknown>)[id] : undefined;
      // An entry without the etag of the document it describes cannot tell a re-used id: not used.
      if (typeof time === 'number' && typeof etag === 'string') entries.set(id, { time, etag });
    }
    return entries;
  }

  /**
   * Records a committed model's creation time and document etag in the domain's index
   * (`{ "models": { id: ms }, "etags": { id: etag } }`), by compare-and-swap; `remove`
   * drops an id instead. Best effort: the index is only a cache, checked against the
   * listing's etags, so a missed update costs reads, never a wrong answer.
   */
  private async updateIndex(domain: string, change: { add: StoredModel } | { remove: string }): Promise<void> {
    const key = layout.index(domain);
    try {
      for (let attempt = 0; attempt < registryRetries; attempt++) {
        // A damaged index is replaced: it only lists what listing finds anyway.
        const current = await this.readJsonOrDamaged(key);
        const stored = current && !current.damaged && typeof current.value === 'object' && current.value !== null ? (current.value as { models?: unknown; etags?: unknown }) : {};
        // Maps, not objects: a model id may be "__proto__".
        const entries = (value: unknown) => new Map(typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.entries(value) : []);
        const models = entries(stored.models);
        const etags = entries(stored.etags);
        if ('add' in change) {
          const id = change.add.metadata.model.model_id;
          if (etags.get(id) === change.add.info.etag) return;
          models.set(id, modelTime(change.add));
          etags.set(id, change.add.info.etag);
        } else {
          if (!models.has(change.remove) && !etags.has(change.remove)) return;
          models.delete(change.remove);
          etags.delete(change.remove);
        }
        try {
          await this.writeJson(key, { models: Object.fromEntries(models), etags: Object.fromEntries(etags) }, current ? { ifMatch: current.info.etag } : { ifNoneMatch: '*' });
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

  private async addToIndex(domain: string, model: StoredModel): Promise<void> {
    await this.updateIndex(domain, { add: model });
  }

  /** A model's metadata. @throws ModelNotFoundError, ModelDeletedError, DomainNotFoundError */
  async getModelInfo(domain: string, modelId: string): Promise<ModelMetadata> {
    return (await this.modelOrThrow(domain, modelId)).metadata;
  }

  /** A model's committed document. @throws ModelNotFoundError, ModelDeletedError, DomainNotFoundError, IntegrityError */
  private async modelOrThrow(domain: string, modelId: string): Promise<StoredModel> {
    validateDomain(domain);
    validateModelId(modelId);
    const model = await this.readModel(layout.version(domain, modelId));
    if (model) return model;
    if (await this.storage.head(layout.stateVersion(domain, deletedState, modelId))) throw new ModelDeletedError(domain, modelId);
    if (!(await this.storage.head(layout.domain(domain)))) throw new DomainNotFoundError(domain);
    throw new ModelNotFoundError(domain, modelId);
  }

  /** The domain's latest model's committed document (see `getDomain`). */
  private async latestOrThrow(domain: string): Promise<StoredModel> {
    validateDomain(domain);
    const { model, pointer } = await this.latest(domain);
    if (model) return model;
    if (pointer?.damaged) throw new IntegrityError(`"${layout.domain(domain)}" is not valid JSON: it was truncated or written by something else`, { cause: pointer.value });
    throw new DomainNotFoundError(domain);
  }

  /** Whether the model exists and is not deleted. */
  async modelExists(domain: string, modelId: string): Promise<boolean> {
    validateDomain(domain);
    validateModelId(modelId);
    return (await this.storage.head(layout.version(domain, modelId))) !== undefined;
  }

  /** The latest model's metadata, or the newest in `state`. @throws DomainNotFoundError, ModelNotFoundError when the state holds no model */
  async getLatestModel(domain: string, options: { state?: string } = {}): Promise<ModelMetadata> {
    checkOptions('getLatestModel', options, { state: 'string' });
    if (options.state === undefined) return this.getDomain(domain);
    validateDomain(domain);
    const [newest] = await this.inState(domain, options.state);
    if (!newest) throw new ModelNotFoundError(domain, `(latest in state "${options.state}")`);
    return newest.model ? newest.model.metadata : this.getModelInfo(domain, newest.id);
  }

  // ---------------------------------------------------------------- download and load

  /** Downloads and verifies a model into `to`; returns `to`'s absolute path. */
  async download(domain: string, options: DownloadOptions): Promise<string> {
    validateDomain(domain);
    checkOptions('download', options, { modelId: 'string', state: 'string', to: 'string', overwrite: 'boolean', onProgress: 'function', signal: 'signal' }, ['to']);
    const { metadata } = await this.resolveModel(domain, options, 'download');
    return this.extractModel(metadata, path.resolve(options.to), options);
  }

  /** The model `options` name: by id, the newest in a state, or the latest. @throws InvalidOptionError when both `modelId` and `state` are given */
  private async resolveModel(domain: string, options: { modelId?: string; state?: string }, method: string): Promise<StoredModel> {
    if (options.modelId !== undefined && options.state !== undefined) {
      throw new InvalidOptionError('state', `${method}: pass modelId or state, not both (modelId names one model; state picks the newest model in that state)`);
    }
    if (options.modelId !== undefined) return this.modelOrThrow(domain, options.modelId);
    if (options.state === undefined) return this.latestOrThrow(domain);
    const [newest] = await this.inState(domain, options.state);
    if (!newest) throw new ModelNotFoundError(domain, `(latest in state "${options.state}")`);
    return newest.model ?? this.modelOrThrow(domain, newest.id);
  }

  /**
   * Loads a model through its adapter, from the local cache when the same model was
   * loaded before: the latest (default), `modelId`, or the newest model in `state`.
   * @throws InvalidOptionError when both `modelId` and `state` are given
   */
  async load<T = unknown>(domain: string, options: { modelId?: string; state?: string; signal?: AbortSignal } = {}): Promise<T> {
    validateDomain(domain);
    checkOptions('load', options, { modelId: 'string', state: 'string', signal: 'signal' });
    if (options.modelId !== undefined) validateModelId(options.modelId);
    if (options.state !== undefined) validateStateName(options.state);
    // The newest model in a state is found by reading the state (no single pointer names
    // it); the extracted copy is still reused from the cache.
    const pointerKey = options.state !== undefined ? undefined : options.modelId === undefined ? layout.domain(domain) : layout.version(domain, options.modelId);
    // HEADs tell whether the cached copy is still the model asked for: the pointer (the
    // latest's, or the model's own document) unchanged, and — for the latest — the
    // document it named unchanged too (a pointer left naming a deleted or re-uploaded
    // model must not keep answering from the cache).
    const pointer = pointerKey === undefined ? undefined : await this.storage.head(pointerKey);
    const refFile = path.join(this.cacheDir, 'refs', `${this.cacheName(pointerKey ?? '')}.json`);
    const ref = pointer ? await readFile(refFile, 'utf8').then((text) => parseCacheRef(text), () => undefined) : undefined;
    const unchanged = async (cached: CacheRef) => {
      if (cached.etag !== pointer?.etag) return false;
      if (options.modelId !== undefined) return true;
      return (await this.storage.head(layout.version(domain, cached.metadata.model.model_id)))?.etag === cached.versionEtag;
    };
    let metadata: ModelMetadata;
    let directory: string;
    if (ref && pointer && (await unchanged(ref)) && (await readdir(ref.directory).then(() => true, () => false))) {
      metadata = ref.metadata;
      directory = ref.directory;
    } else {
      const model = await this.resolveModel(domain, options, 'load');
      metadata = model.metadata;
      const archiveKey = this.archiveKeyOf(metadata);
      const identity = `${JSON.stringify(this.storage.describe(archiveKey))}\n${metadata.archive?.sha256 ?? (await this.storage.head(archiveKey))?.etag ?? ''}`;
      directory = path.join(this.cacheDir, 'models', this.cacheName(identity));
      if (!(await readdir(directory).then(() => true, () => false))) {
        await this.extractModel(metadata, directory, { ...options, to: directory, overwrite: false, keepExisting: true });
      }
      if (pointer) {
        // Best effort: without the record the next load checks the store again.
        const temporary = `${refFile}.${randomBytes(6).toString('hex')}.tmp`;
        const cached: Omit<CacheRef, 'metadata'> = { etag: pointer.etag, versionEtag: model.info.etag, directory, text: model.text };
        await mkdir(path.dirname(refFile), { recursive: true })
          .then(() => writeFile(temporary, JSON.stringify(cached)))
          .then(() => rename(temporary, refFile))
          .catch(() => rm(temporary, { force: true }).catch(() => undefined));
      }
    }
    const library = metadata.model.model_type.library;
    const adapter = this.adapters.find((candidate) => candidate.library === library);
    if (!adapter) throw new AdapterNotFoundError(`No adapter for library "${library}" is registered: ${installHint(library)}`);
    return (await adapter.load(directory, metadata)) as T;
  }

  /** Removes what killed `load`s left in `cacheDir`; see {@link cleanModelCache}. */
  async cleanCache(): Promise<{ removed: string[] }> {
    return cleanModelCache(this.cacheDir);
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
    const destination = await prepareDestination(to, options);
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
      await extractArchive(body instanceof Readable ? body : Readable.from(body as AsyncIterable<Buffer>), destination.staging, metadata.archive ?? {}).catch((error: unknown) =>
        Promise.reject(localError(error, destination.staging, 'write the model into')),
      );
      if (options.signal?.aborted) throw abortReason(options.signal);
      const placed = await placeVerified(destination, options).catch((error: unknown) => Promise.reject(localError(error, destination.directory, 'move the verified model into')));
      if (!placed) await rm(destination.staging, { recursive: true, force: true });
      return to;
    } catch (error) {
      await rm(destination.staging, { recursive: true, force: true });
      if (destination.createdParent !== undefined) await removeEmptyDirectories(path.dirname(destination.directory), destination.createdParent);
      throw error;
    }
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
    validateDomain(domain);
    validateModelId(modelId);
    if (!(target instanceof ModelStore)) throw new InvalidOptionError('target', `copyModel: target must be a ModelStore (the store to copy into), got ${target === null ? 'null' : typeof target}`);
    checkOptions('copyModel', options, { states: 'string[]', signal: 'signal' });
    for (const state of options.states ?? []) validateStateName(state);
    const { metadata, text } = await this.modelOrThrow(domain, modelId);
    await ensureConditionalWrites(target.storage, target.checkConditionalWrites);
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
      // The source document's bytes with only its `storage` member changed, so every
      // other value (Python's big integers, NaN, 1.0) reaches the target as written.
      const location = target.storage.describe(archiveKey);
      const copyText = replaceMember(text, 'storage', JSON.stringify(location));
      const copy = checkModelMetadata(parseJson(copyText), layout.version(domain, modelId));
      // From here on the commit decides what becomes of the archive.
      written = false;
      const info = await target.commit(copy, copyText, archiveKey);
      await target.announce({ metadata: copy, info, text: copyText });
      for (const state of options.states ?? []) {
        await target.ensureState(state);
        await target.storage.put(layout.stateVersion(domain, state, modelId), copyText, { contentType: 'application/json' });
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
    checkOptions('collectGarbage', options, { olderThan: 'number', dryRun: 'boolean', now: 'date', quiesced: 'boolean' });
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
    if (!options.dryRun) await ensureConditionalWrites(this.storage, this.checkConditionalWrites);
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
    const { metadata, text } = await this.modelOrThrow(domain, modelId);
    await ensureConditionalWrites(this.storage, this.checkConditionalWrites);
    // Ordered so that a crash at any step leaves no state or latest pointer naming a
    // model that is not listed: the model disappears only after both are moved off it.
    await this.ensureState(deletedState);
    // A byte copy of the document, as Python modelstore's delete_model makes.
    await this.storage.put(layout.stateVersion(domain, deletedState, modelId), text, { contentType: 'application/json' });
    for (const state of await this.getModelStates(domain, modelId)) await this.storage.delete(layout.stateVersion(domain, state, modelId));
    await this.retreatDomain(domain, modelId);
    await this.storage.delete(layout.version(domain, modelId));
    const archiveKey = archiveKeyFromLocation(metadata.storage);
    if (archiveKey !== undefined) await this.storage.delete(archiveKey).catch(() => undefined);
    await this.updateIndex(domain, { remove: modelId });
  }

  /** The domain's newest committed model other than `except` (undefined if none, or if it vanished while read), and how many there are. */
  private async newestCommitted(domain: string, except?: string): Promise<{ newest: StoredModel | undefined; count: number }> {
    const objects = (await this.listObjects(layout.versions(domain), '.json')).filter(({ name }) => name !== except);
    const first = sortByTime(await this.timesOf(domain, objects))[0];
    const newest = first === undefined ? undefined : await this.readModel(layout.version(domain, first)).catch(() => undefined);
    return { newest, count: objects.length };
  }

  /** If the domain's latest is `modelId`, points it at the newest remaining model (or removes it if none remain). */
  private async retreatDomain(domain: string, modelId: string): Promise<void> {
    const key = layout.domain(domain);
    for (let attempt = 0; attempt < registryRetries; attempt++) {
      const current = await this.readJsonOrDamaged(key).catch(() => undefined);
      if (!current || current.damaged || !isModelMetadata(current.value) || current.value.model.model_id !== modelId) return;
      const { newest, count } = await this.newestCommitted(domain, modelId);
      try {
        if (newest) await this.storage.put(key, newest.text, { contentType: 'application/json', ifMatch: current.info.etag });
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
    await ensureConditionalWrites(this.storage, this.checkConditionalWrites);
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
    await ensureConditionalWrites(this.storage, this.checkConditionalWrites);
    if (!(await this.storage.delete(layout.state(state)))) throw new StateNotFoundError(state);
  }

  /** Model states, in no particular order. */
  async listModelStates(): Promise<string[]> {
    return (await this.listKeys(layout.states(), '.json')).filter((state) => state !== deletedState);
  }

  /** Puts a model in a state (idempotent). @throws StateNotFoundError, ModelNotFoundError, ModelDeletedError */
  async setModelState(domain: string, modelId: string, state: string): Promise<void> {
    validateStateName(state);
    await ensureConditionalWrites(this.storage, this.checkConditionalWrites);
    await this.requireState(state);
    // A byte copy of the model's document, as Python modelstore's set_model_state makes.
    const { text } = await this.modelOrThrow(domain, modelId);
    await this.storage.put(layout.stateVersion(domain, state, modelId), text, { contentType: 'application/json' });
  }

  /** Takes a model out of a state; nothing happens if it was not in it. @throws StateNotFoundError */
  async removeModelState(domain: string, modelId: string, state: string): Promise<void> {
    validateDomain(domain);
    validateModelId(modelId);
    validateStateName(state);
    await ensureConditionalWrites(this.storage, this.checkConditionalWrites);
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

  /** Objects `<name><suffix>` directly under `prefix` (not in sub-folders), with what the listing says of them. */
  private async listObjects(prefix: string, suffix: string): Promise<{ name: string; info: ObjectInfo }[]> {
    const objects: { name: string; info: ObjectInfo }[] = [];
    for await (const object of this.listAll(prefix)) {
      const rest = object.key.slice(prefix.length);
      if (!rest.includes('/') && rest.endsWith(suffix)) objects.push({ name: rest.slice(0, -suffix.length), info: object });
    }
    return objects;
  }

  /** Names `<name><suffix>` directly under `prefix` (not in sub-folders). */
  private async listKeys(prefix: string, suffix: string): Promise<string[]> {
    return (await this.listObjects(prefix, suffix)).map(({ name }) => name);
  }

  private async readJsonWithInfo<T>(key: string): Promise<{ value: T; info: ObjectInfo } | undefined> {
    const read = await this.readJsonOrDamaged(key);
    if (read?.damaged) throw new IntegrityError(`"${key}" is not valid JSON: it was truncated or written by something else`, { cause: read.value });
    return read as { value: T; info: ObjectInfo } | undefined;
  }

  /**
   * A JSON document, the version read and its exact text; one that does not parse is
   * `damaged` (its `value` the parse error), so a writer can replace that very version.
   * Documents are read in Python's JSON dialect (`NaN`, `Infinity`, integers of any
   * size), since Python modelstore writes every registry document with `json.dumps`.
   */
  private async readJsonOrDamaged(key: string): Promise<StoredDocument | undefined> {
    const object = await this.storage.get(key);
    if (!object) return undefined;
    const text = (await readStream(object.body)).toString('utf8');
    try {
      return { value: parseJson(text), info: object, text, damaged: false };
    } catch (error) {
      return { value: error, info: object, text, damaged: true };
    }
  }

  /** A model's metadata document with its version and exact text; `undefined` when missing. @throws IntegrityError when it is not model metadata */
  private async readModel(key: string): Promise<StoredModel | undefined> {
    const read = await this.readJsonWithInfo<unknown>(key);
    if (read === undefined) return undefined;
    return { metadata: checkModelMetadata(read.value, key), info: read.info, text: (read as StoredDocument).text };
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

// Whatever a public method throws is typed: see typedError.
guardMethods(ModelStore.prototype, 'ModelStore', [
  'upload',
  'listDomains',
  'getDomain',
  'listModels',
  'getModelInfo',
  'modelExists',
  'getLatestModel',
  'download',
  'load',
  'cleanCache',
  'copyModel',
  'collectGarbage',
  'deleteModel',
  'createModelState',
  'deleteModelState',
  'listModelStates',
  'setModelState',
  'removeModelState',
  'getModelStates',
]);

/**
 * Removes what killed `load`s left in a cache folder (`ModelStoreOptions.cacheDir`):
 * staging folders of processes on this host that are gone (never one in use), and cache
 * records half-written more than an hour ago. Cached models themselves are kept. The
 * CLI runs it as `modelstore gc --local`.
 * @returns the paths removed
 */
export async function cleanModelCache(cacheDir: string = defaultCacheDir()): Promise<{ removed: string[] }> {
  const removed = await removeStaleStaging(path.join(cacheDir, 'models'));
  const refs = path.join(cacheDir, 'refs');
  const hourAgo = Date.now() - 60 * 60 * 1000;
  for (const name of await readdir(refs).catch(() => [] as string[])) {
    if (!name.endsWith('.tmp')) continue;
    const file = path.join(refs, name);
    const old = await stat(file).then((info) => info.mtimeMs < hourAgo, () => false);
    if (old && (await rm(file, { force: true }).then(() => true, () => false))) removed.push(file);
  }
  return { removed };
}

/** A JSON document as read; see `readJsonOrDamaged`. */
interface StoredDocument {
  value: unknown;
  info: ObjectInfo;
  text: string;
  damaged: boolean;
}

/** `load`'s record of a cached model: the pointer's etag, the etag of the document it named, the extracted folder, and the document's text. */
interface CacheRef {
  etag: string;
  versionEtag: string;
  directory: string;
  text: string;
  metadata: ModelMetadata;
}

function parseCacheRef(text: string): CacheRef | undefined {
  const ref = JSON.parse(text) as Partial<CacheRef>;
  if (typeof ref.etag !== 'string' || typeof ref.versionEtag !== 'string' || typeof ref.directory !== 'string' || typeof ref.text !== 'string') return undefined;
  const metadata = parseJson(ref.text);
  return isModelMetadata(metadata) ? { ...(ref as CacheRef), metadata } : undefined;
}

/** Ids by time, newest first; ties by id, descending, so every reader agrees. */
function sortByTime(times: Map<string, number>): string[] {
  return [...times.keys()].sort((a, b) => times.get(b)! - times.get(a)! || (a < b ? 1 : a > b ? -1 : 0));
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
