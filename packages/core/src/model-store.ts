/**
 * `ModelStore`: the API (DESIGN §5) over the registry modules. It checks arguments,
 * runs the conditional-writes guard before writes, and delegates each operation to the
 * module that owns it: `upload.ts`; `registry/` — documents, order, the creation index,
 * the latest pointer, the commit, states, delete, copy, garbage collection; `local/` —
 * extraction, destinations and the load cache.
 */
import path from 'node:path';
import type { ModelAdapter } from './adapter.js';
import type { CompressionLevel } from './archive.js';
import { checkOptions, guardMethods } from './arguments.js';
import { ensureConditionalWrites } from './check-storage.js';
import { readGitInfo, type GitInfo } from './code-info.js';
import { AdapterNotFoundError, DomainNotFoundError, IncompatibleContractError, InvalidOptionError, StateNotFoundError } from './errors.js';
import { version } from './version.js';
import { cachedModel, cleanModelCache, defaultCacheDir, pruneCache } from './local/cache.js';
import { checkDestination } from './local/destination.js';
import { archiveKeyOf, extractModel } from './local/extract.js';
import type { ModelMetadata } from './metadata.js';
import { deletedState, validateDomain, validateModelId, validateStateName } from './names.js';
import { copyModel } from './registry/copy.js';
import { deleteModel } from './registry/delete.js';
import { listNames, listObjects, writeText } from './registry/documents.js';
import { checkPageOptions, compactDomainIndex, timesOf, type CompactionReport } from './registry/creation-index.js';
import { listDomains } from './registry/domains.js';
import { modelPage, summaryPage, type ModelPage, type ModelSummaryPage } from './registry/pages.js';
import { listSummaries, type ModelSummary } from './registry/summaries.js';
import { collectGarbage, type GarbageOptions, type GarbageReport } from './registry/gc.js';
import { latestOrThrow } from './registry/latest.js';
import { modelOrThrow, resolveModel } from './registry/models.js';
import { sortByTime } from './registry/order.js';
import { ensureState, modelsInState, newestInState, requireState, statesOf } from './registry/states.js';
import { layout, registryRoot } from './registry-layout.js';
import type { StoredModel } from './registry/documents.js';
import { bindingOf, checkExtracted, prepareFolderCheck, readModelSignature, signStoredModel, verifyStoredModel } from './signing/operations.js';
import { prepareSigner, prepareVerification, type PreparedVerification } from './signing/signature.js';
import type { ModelSignatureInfo, ModelSigner, ModelVerification } from './signing/types.js';
import type { Storage } from './storage.js';
import { planUpload, runUpload, type TransferProgress, type UploadOptions } from './upload.js';

export { createdTime } from './registry/order.js';
export { defaultGarbageAge, minimumGarbageAge } from './registry/gc.js';
export { cleanModelCache, defaultCacheDir, listCache, pruneCache } from './local/cache.js';
export type { CacheEntry, PruneCacheOptions, PruneCacheReport } from './local/cache.js';
export type { TransferProgress, UploadOptions } from './upload.js';
export type { CompactionReport } from './registry/creation-index.js';
export type { ModelPage, ModelSummaryPage } from './registry/pages.js';
export type { ModelSigner, ModelVerification, ModelSignatureInfo, SignatureReason } from './signing/types.js';

export interface ModelStoreOptions {
  /** Where the registry lives. */
  storage: Storage;
  /** Adapters for `upload` (first match wins) and `load` (by the stored library). */
  adapters?: ModelAdapter[];
  /** Where `load` keeps extracted models. Default: `$XDG_CACHE_HOME/modelstore` or the platform's cache folder. */
  cacheDir?: string;
  /**
   * A size limit for `cacheDir`, in bytes (the sizes of the extracted files). After each
   * `load` that extracts a model, the least recently used models are removed until the
   * cache fits (as `pruneCache(cacheDir, { maxBytes })`); models a running load holds —
   * the one just loaded included — are kept, so the cache may exceed the limit by them.
   * Default: no limit.
   */
  cacheMaxBytes?: number;
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
  /**
   * The signature check of every `download` and `load` that does not pass its own `verify`
   * (OpenSSF Model Signing): an unsigned, tampered or foreign-signed model is refused with
   * `SignatureError` before anything is written. Default: no check.
   */
  verify?: ModelVerification;
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
  /** Archive bytes read against the archive's size: `{ phase: 'downloading', bytes, totalBytes }` (see {@link TransferProgress}). */
  onProgress?(progress: TransferProgress): void;
  signal?: AbortSignal;
  /**
   * Check the model's signature before anything is written to `to`: the bundle's signature,
   * then every extracted file against the signed manifest. `false` skips the store-wide
   * `verify` default. @throws SignatureError
   */
  verify?: ModelVerification | false;
}

export interface LoadOptions {
  /** Default: the domain's latest model. */
  modelId?: string;
  /** The newest model in this state (e.g. `production`) instead of the latest; not with `modelId`. */
  state?: string;
  /** Archive bytes read when the model is not in the local cache: `{ phase: 'downloading', bytes, totalBytes }`; nothing on a cache hit. */
  onProgress?(progress: TransferProgress): void;
  signal?: AbortSignal;
  /**
   * Check the model's signature before the cache entry appears; a cache hit re-hashes the
   * cached files against a freshly read bundle. `false` skips the store-wide `verify`
   * default. @throws SignatureError
   */
  verify?: ModelVerification | false;
}

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
  /** `ModelStoreOptions.cacheMaxBytes`: undefined for no limit. */
  readonly cacheMaxBytes: number | undefined;
  private readonly compressionLevel: CompressionLevel;
  private readonly checkConditionalWrites: boolean;
  private gitInfo: Promise<GitInfo | undefined> | undefined;
  /** `ModelStoreOptions.verify`. */
  private readonly verification: ModelVerification | undefined;

  constructor(options: ModelStoreOptions) {
    checkOptions('new ModelStore', options, { storage: 'object', cacheDir: 'string', cacheMaxBytes: 'number' }, ['storage']);
    if (options.cacheDir !== undefined && options.cacheDir.trim() === '') throw new InvalidOptionError('cacheDir', 'new ModelStore: cacheDir is empty: give a folder for the load cache, or omit it for the default');
    if (options.cacheMaxBytes !== undefined && !(Number.isFinite(options.cacheMaxBytes) && options.cacheMaxBytes >= 0)) {
      throw new InvalidOptionError('cacheMaxBytes', `new ModelStore: cacheMaxBytes must be a number of bytes, 0 or more, got ${String(options.cacheMaxBytes)}`);
    }
    const storageMethods = ['put', 'get', 'head', 'list', 'delete', 'describe'] as const;
    const missing = storageMethods.filter((method) => typeof (options.storage as unknown as Record<string, unknown>)[method] !== 'function');
    if (missing.length > 0 || typeof options.storage.capabilities !== 'object' || options.storage.capabilities === null) {
      throw new InvalidOptionError(
        'storage',
        `new ModelStore: storage must implement the Storage contract (missing: ${[...missing, ...(typeof options.storage.capabilities === 'object' && options.storage.capabilities !== null ? [] : ['capabilities'])].join(', ')}), e.g. new FileSystemStorage({ root })`,
      );
    }
    if (
      options.adapters !== undefined &&
      !(Array.isArray(options.adapters) && options.adapters.every((adapter) => typeof adapter?.library === 'string' && typeof adapter.matches === 'function' && typeof adapter.save === 'function' && typeof adapter.load === 'function'))
    ) {
      throw new InvalidOptionError('adapters', 'new ModelStore: adapters must be an array of ModelAdapter objects (library, matches, save, load), e.g. [new RawAdapter()]');
    }
    const level = options.compressionLevel;
    if (level !== undefined && level !== 'auto' && !(Number.isInteger(level) && level >= 0 && level <= 9)) {
      throw new InvalidOptionError('compressionLevel', `new ModelStore: compressionLevel must be 'auto' or an integer from 0 to 9, got ${String(level)}`);
    }
    checkContracts(options.storage, options.adapters ?? []);
    this.storage = options.storage;
    this.adapters = [...(options.adapters ?? [])];
    this.cacheDir = path.resolve(options.cacheDir ?? defaultCacheDir());
    this.cacheMaxBytes = options.cacheMaxBytes;
    this.compressionLevel = options.compressionLevel ?? 'auto';
    this.checkConditionalWrites = options.checkConditionalWrites ?? true;
    if (options.verify !== undefined) {
      prepareVerification(options.verify, 'new ModelStore');
      this.verification = options.verify;
    }
  }

  /** The verification a download or load runs: its own `verify`, else the store's; `false` none. */
  private verificationFor(verify: ModelVerification | false | undefined, method: string): PreparedVerification | undefined {
    if (verify === false) return undefined;
    if (verify !== undefined) return prepareVerification(verify, method);
    return this.verification === undefined ? undefined : prepareVerification(this.verification, 'new ModelStore');
  }

  /** The conditional-writes guard, once per storage object, before the first write. */
  private guard(storage: Storage = this.storage, check = this.checkConditionalWrites): Promise<void> {
    return ensureConditionalWrites(storage, check);
  }

  // ---------------------------------------------------------------- upload

  /** Archives and uploads a model; returns its metadata once it is committed and listed. */
  async upload(domain: string, options: UploadOptions): Promise<ModelMetadata> {
    validateDomain(domain);
    checkOptions('upload', options, { modelId: 'string', adapter: 'string', extraFiles: 'string[]', extraMetadata: 'object', onProgress: 'function', signal: 'signal', sign: 'object' }, ['model']);
    const plan = planUpload(this.adapters, options);
    options.signal?.throwIfAborted();
    await this.guard();
    return runUpload({ storage: this.storage, adapters: this.adapters, compressionLevel: this.compressionLevel, git: () => (this.gitInfo ??= readGitInfo()) }, domain, plan, options);
  }

  // ---------------------------------------------------------------- reading

  /**
   * Domains, the one with the newest latest model first (model times as in
   * {@link createdTime}). A domain whose pointer cannot be read, or names no live
   * model while none remains, is listed last. Storage requests: one listing page per
   * 1,000 domains, plus the registry's index of domains (its log listing, pointer and
   * parts: 17 requests in all at 10,000 domains this library wrote), plus two reads per
   * domain the index does not describe (one Python modelstore wrote).
   */
  async listDomains(): Promise<string[]> {
    return listDomains(this.storage);
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
    validateDomain(domain);
    return (await latestOrThrow(this.storage, domain)).metadata;
  }

  /**
   * Model ids of the domain, newest first (model times as in {@link createdTime}; ties
   * by id); only those in `state` if given. Deleted models are never listed, even when a
   * state still holds a copy of one.
   *
   * Without `limit`: every id, from a listing of the domain's documents and its index
   * (one listing page per 1,000 models, the index's parts, one per 2,000 models).
   *
   * With `limit` (1 to 1,000): one page, `{ models, cursor }`; pass `cursor` back for the
   * next page (absent on the last). Served by the domain's append-only index: 3 to 4
   * storage requests per page at any domain size. A page may lack models Python
   * modelstore wrote (or still show models it deleted) until the index is next
   * reconciled — a daily automatic compaction, or {@link ModelStore.compactIndex}; a
   * domain whose index has no checkpoint yet is listed whole and sliced. With `state`,
   * pages are slices of the state's whole listing.
   * @throws DomainNotFoundError, StateNotFoundError, InvalidNameError
   * @throws InvalidOptionError for a `limit` out of range, a `cursor` without `limit`, or a cursor that is not one a previous page of this listing returned
   */
  async listModels(domain: string, options?: { state?: string }): Promise<string[]>;
  async listModels(domain: string, options: { state?: string; limit: number; cursor?: string }): Promise<ModelPage>;
  async listModels(domain: string, options: { state?: string; limit?: number; cursor?: string } = {}): Promise<string[] | ModelPage> {
    validateDomain(domain);
    checkOptions('listModels', options, { state: 'string', limit: 'number', cursor: 'string' });
    checkPageOptions('listModels', options);
    if (options.state !== undefined) validateStateName(options.state);
    if (options.limit !== undefined) return modelPage(this.storage, domain, { ...options, limit: options.limit });
    if (options.state !== undefined) return modelsInState(this.storage, domain, options.state);
    const objects = await listObjects(this.storage, layout.versions(domain), '.json', 'model id');
    if (objects.length === 0 && !(await this.storage.head(layout.domain(domain)))) throw new DomainNotFoundError(domain);
    return sortByTime(await timesOf(this.storage, domain, objects));
  }

  /**
   * The domain's models newest first (the order of {@link ModelStore.listModels}), each
   * with its creation time, archive size, library and states; only those in `state` if
   * given. Answered from the listing of the domain's documents, the domain's index and
   * the list of states: on 10,000 models this library wrote, about a dozen storage
   * requests. A model the index does not describe (written by Python modelstore) costs
   * one read of its document and one `head` of its archive.
   *
   * With `limit` (1 to 1,000): one page, `{ models, cursor }`, as `listModels` pages
   * (same index, same gaps), plus one listing of the states and one of each state's
   * copies of the domain.
   * @throws DomainNotFoundError, StateNotFoundError, InvalidNameError
   * @throws InvalidOptionError for a `limit` out of range, a `cursor` without `limit`, or a cursor that is not one a previous page of this listing returned
   */
  async listModelSummaries(domain: string, options?: { state?: string }): Promise<ModelSummary[]>;
  async listModelSummaries(domain: string, options: { state?: string; limit: number; cursor?: string }): Promise<ModelSummaryPage>;
  async listModelSummaries(domain: string, options: { state?: string; limit?: number; cursor?: string } = {}): Promise<ModelSummary[] | ModelSummaryPage> {
    validateDomain(domain);
    checkOptions('listModelSummaries', options, { state: 'string', limit: 'number', cursor: 'string' });
    checkPageOptions('listModelSummaries', options);
    if (options.state !== undefined) validateStateName(options.state);
    if (options.limit !== undefined) return summaryPage(this.storage, domain, { ...options, limit: options.limit });
    return listSummaries(this.storage, domain, options);
  }

  /**
   * Compacts the domain's append-only index (`<domain>/modelstore-index/`, this
   * library's addition that Python modelstore ignores) and reconciles it with the
   * registry: folds the log of uploads and deletes into a new checkpoint, adds the models
   * Python modelstore wrote and drops those it deleted, migrates the first index
   * (`modelstore-index.json`), and removes the log entries folded. Uploads do this on
   * their own when the log grows long; run it for a domain grown by Python modelstore
   * before paging it, or after Python wrote to it. Safe while others upload, delete or
   * compact, and if killed at any point.
   * @returns what it did: entries in the checkpoint, log entries folded, parts (written anew), removed objects, whether it published (false when another compaction won the race)
   * @throws StorageError when the storage fails before the new checkpoint is published (nothing changed then)
   */
  async compactIndex(domain: string): Promise<CompactionReport> {
    validateDomain(domain);
    await this.guard();
    return compactDomainIndex(this.storage, domain);
  }

  /** A model's metadata. @throws ModelNotFoundError, ModelDeletedError, DomainNotFoundError, IntegrityError */
  async getModelInfo(domain: string, modelId: string): Promise<ModelMetadata> {
    validateDomain(domain);
    validateModelId(modelId);
    return (await modelOrThrow(this.storage, domain, modelId)).metadata;
  }

  /** Whether the model exists and is not deleted. */
  async modelExists(domain: string, modelId: string): Promise<boolean> {
    validateDomain(domain);
    validateModelId(modelId);
    return (await this.storage.head(layout.version(domain, modelId))) !== undefined;
  }

  /** The latest model's metadata, or the newest in `state`. @throws DomainNotFoundError, StateNotFoundError, ModelNotFoundError when the state holds no model */
  async getLatestModel(domain: string, options: { state?: string } = {}): Promise<ModelMetadata> {
    validateDomain(domain);
    checkOptions('getLatestModel', options, { state: 'string' });
    if (options.state === undefined) return this.getDomain(domain);
    validateStateName(options.state);
    const newest = await newestInState(this.storage, domain, options.state);
    return newest.model ? newest.model.metadata : (await modelOrThrow(this.storage, domain, newest.id)).metadata;
  }

  // ---------------------------------------------------------------- download and load

  /** Downloads and verifies a model into `to` — the latest, `modelId`, or the newest in `state`; returns `to`'s absolute path. */
  async download(domain: string, options: DownloadOptions): Promise<string> {
    validateDomain(domain);
    checkOptions('download', options, { modelId: 'string', state: 'string', to: 'string', overwrite: 'boolean', onProgress: 'function', signal: 'signal' }, ['to']);
    if (options.modelId !== undefined) validateModelId(options.modelId);
    if (options.state !== undefined) validateStateName(options.state);
    const verification = this.verificationFor(options.verify, 'download');
    const location = this.storage.describe(registryRoot);
    await checkDestination(options.to, { method: 'download', ...(options.overwrite ? { overwrite: true } : {}), storeRoot: location.type === 'file_system' && typeof location.root === 'string' ? location.root : undefined });
    const model = await resolveModel(this.storage, domain, options, 'download');
    const { metadata } = model;
    const to = path.resolve(options.to);
    const archiveKey = archiveKeyOf(metadata);
    const check = await prepareFolderCheck(this.storage, archiveKey, bindingOf(domain, model, options.modelId), verification, { writeBundle: true, ...(options.signal ? { signal: options.signal } : {}) });
    return extractModel(this.storage, metadata, to, {
      check: (staging) => checkExtracted(staging, check),
      ...(options.overwrite ? { overwrite: true } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /**
   * Loads a model through its adapter, from the local cache when the same model was
   * loaded before: the latest (default), `modelId`, or the newest model in `state`.
   * The cached folder is held while the adapter loads it, so `pruneCache` (and
   * `cacheMaxBytes`) never removes it meanwhile; after each extraction the cache is
   * brought under `cacheMaxBytes` when set.
   * @throws InvalidOptionError when both `modelId` and `state` are given
   * @throws LocalFileError when the cache folder cannot be written; the message says how to choose another
   *   (the `cacheDir` option, `XDG_CACHE_HOME`, or the CLI's `--cache-dir`)
   */
  async load<T = unknown>(domain: string, options: LoadOptions = {}): Promise<T> {
    validateDomain(domain);
    checkOptions('load', options, { modelId: 'string', state: 'string', onProgress: 'function', signal: 'signal' });
    if (options.modelId !== undefined) validateModelId(options.modelId);
    if (options.state !== undefined) validateStateName(options.state);
    const verification = this.verificationFor(options.verify, 'load');
    const signal = options.signal ? { signal: options.signal } : {};
    const { metadata, directory, extracted, release } = await cachedModel(this.storage, this.cacheDir, domain, {
      ...options,
      ...(verification
        ? {
            check: async (model: StoredModel) => {
              const folderCheck = await prepareFolderCheck(this.storage, archiveKeyOf(model.metadata), bindingOf(domain, model, options.modelId), verification, { writeBundle: false, ...signal });
              return (folder: string) => checkExtracted(folder, folderCheck);
            },
          }
        : {}),
    });
    try {
      if (extracted && this.cacheMaxBytes !== undefined) {
        // Best effort: the model is loaded whether or not older ones could be removed.
        await pruneCache(this.cacheDir, { maxBytes: this.cacheMaxBytes }).catch(() => undefined);
      }
      const library = metadata.model.model_type.library;
      const adapter = this.adapters.find((candidate) => candidate.library === library);
      if (!adapter) throw new AdapterNotFoundError(`No adapter for library "${library}" is registered: ${installHint(library)}`);
      return (await adapter.load(directory, metadata)) as T;
    } finally {
      await release();
    }
  }

  /** Removes what killed `load`s left in `cacheDir`; see {@link cleanModelCache}. */
  async cleanCache(): Promise<{ removed: string[] }> {
    return cleanModelCache(this.cacheDir);
  }

  // ---------------------------------------------------------------- signing

  /**
   * Signs a committed model (OpenSSF Model Signing v1.0) and stores the bundle at
   * `<folder of the archive>/model.sig`. What is signed is what is stored: the archive is
   * read and checked against its recorded digests, and its files are hashed as a download
   * would write them. `overwrite: true` replaces an existing bundle (key rotation).
   * A model uploaded by Python modelstore (no recorded per-file digests) is signed the same way.
   * @returns the new signature (`verified: false`: it was made, not checked)
   * @throws SignatureError (`malformed`: a key or certificate that cannot be read; `unsupported`: a key type, RSA below
   *   2048 bits; `signing-failed`: a `sign` callback threw), InvalidOptionError (a `certificateChain` that does not fit
   *   the key or cannot sign now; a model holding a top-level `.git/` or `.github/`),
   *   PreconditionFailedError when the model is already signed (a bundle beside its archive or a `model.sig` inside it) and `overwrite` is not set,
   *   ModelNotFoundError, ModelDeletedError, IntegrityError (the archive differs from its recorded digests), StorageError
   */
  async signModel(domain: string, modelId: string, signer: ModelSigner, options: { overwrite?: boolean; signal?: AbortSignal } = {}): Promise<ModelSignatureInfo> {
    validateDomain(domain);
    validateModelId(modelId);
    checkOptions('signModel', options, { overwrite: 'boolean', signal: 'signal' });
    const prepared = prepareSigner(signer, 'signModel', 'signer');
    await this.guard();
    const model = await modelOrThrow(this.storage, domain, modelId);
    return signStoredModel(this.storage, model, bindingOf(domain, model, modelId), archiveKeyOf(model.metadata), prepared, options);
  }

  /**
   * Verifies a model's signature — `modelId`, or (undefined) the latest or the newest in
   * `state` — by reading its bundle and hashing its files as extracted in a temporary
   * folder (removed afterwards). Writes nothing to the store.
   * @returns the signature, `verified: true`, with `bound` and the files it does not cover (`unsigned`)
   * @throws SignatureError (`unsigned`, `unbound` without `allowUnbound`, `tampered`, `wrong-key`, `untrusted-certificate`, `identity`, `malformed`, `unsupported`),
   *   InvalidOptionError (a private key as `publicKey`, both `publicKey` and `certificate`), ModelNotFoundError, IntegrityError
   */
  async verifyModel(domain: string, modelId: string | undefined, verification: ModelVerification, options: { state?: string; signal?: AbortSignal } = {}): Promise<ModelSignatureInfo> {
    validateDomain(domain);
    if (modelId !== undefined) validateModelId(modelId);
    checkOptions('verifyModel', options, { state: 'string', signal: 'signal' });
    if (options.state !== undefined) validateStateName(options.state);
    const prepared = prepareVerification(verification, 'verifyModel', 'verification');
    const model = await resolveModel(this.storage, domain, { ...(modelId === undefined ? {} : { modelId }), ...(options.state === undefined ? {} : { state: options.state }) }, 'verifyModel');
    return verifyStoredModel(this.storage, model, bindingOf(domain, model, modelId), archiveKeyOf(model.metadata), prepared, options.signal);
  }

  /**
   * The model's signature, parsed but NOT verified (`verified: false`): the bundle stored
   * beside its archive, else a `model.sig` at the top of its archive or under `extras/`.
   * A model this library uploaded records its archive's files, so one request answers; for
   * a model without that list (uploaded by Python modelstore) with no bundle beside it, the
   * archive is streamed (not written) to look inside. Undefined when the model is unsigned.
   * @throws SignatureError (`malformed`, `unsupported`), ModelNotFoundError, ModelDeletedError
   */
  async getSignature(domain: string, modelId: string): Promise<ModelSignatureInfo | undefined> {
    validateDomain(domain);
    validateModelId(modelId);
    const model = await modelOrThrow(this.storage, domain, modelId);
    return readModelSignature(this.storage, archiveKeyOf(model.metadata), model.metadata.archive?.files);
  }

  // ---------------------------------------------------------------- copy and garbage collection

  /**
   * Copies a model into another store (any pair of backends), streaming its archive
   * and checking its sha256 on the way; the copy's metadata names the target's
   * location and is committed create-only, then the target's latest pointer moves
   * forward if the copy is newer. `states` are set on the copy (created if needed).
   * `targetModelId` copies it under another id (the target may then be this very store):
   * the archive gets its own key and the document's `model.model_id` the new id; every
   * other value is kept.
   * @throws ModelExistsError when the target already has this model id (or `targetModelId`).
   */
  async copyModel(domain: string, modelId: string, target: ModelStore, options: { states?: string[]; signal?: AbortSignal; targetModelId?: string } = {}): Promise<ModelMetadata> {
    validateDomain(domain);
    validateModelId(modelId);
    if (!(target instanceof ModelStore)) throw new InvalidOptionError('target', `copyModel: target must be a ModelStore (the store to copy into), got ${target === null ? 'null' : typeof target}`);
    checkOptions('copyModel', options, { states: 'string[]', signal: 'signal', targetModelId: 'string' });
    if (options.targetModelId !== undefined) validateModelId(options.targetModelId);
    for (const state of options.states ?? []) validateStateName(state);
    const model = await modelOrThrow(this.storage, domain, modelId);
    await this.guard(target.storage, target.checkConditionalWrites);
    return copyModel(this.storage, target.storage, model, archiveKeyOf(model.metadata), options);
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
  async collectGarbage(options: GarbageOptions = {}): Promise<GarbageReport> {
    checkOptions('collectGarbage', options, { olderThan: 'number', dryRun: 'boolean', now: 'date', quiesced: 'boolean' });
    if (!options.dryRun) await this.guard();
    return collectGarbage(this.storage, options);
  }

  // ---------------------------------------------------------------- delete

  /**
   * Soft-deletes a model as Python modelstore does: its metadata moves to
   * `versions/modelstore-deleted/`, it leaves every state, its archive is removed,
   * and the domain's latest pointer moves to the newest remaining model.
   */
  async deleteModel(domain: string, modelId: string): Promise<void> {
    validateDomain(domain);
    validateModelId(modelId);
    await this.guard();
    await deleteModel(this.storage, domain, modelId);
  }

  // ---------------------------------------------------------------- states

  /** Creates a model state (idempotent). */
  async createModelState(state: string): Promise<void> {
    validateStateName(state);
    await this.guard();
    await ensureState(this.storage, state);
  }

  /** Deletes a model state. Models keep their copies, but the state can no longer be listed or set. @throws StateNotFoundError */
  async deleteModelState(state: string): Promise<void> {
    validateStateName(state);
    await this.guard();
    if (!(await this.storage.delete(layout.state(state)))) throw new StateNotFoundError(state);
  }

  /** Model states, in no particular order. */
  async listModelStates(): Promise<string[]> {
    return (await listNames(this.storage, layout.states(), '.json', 'state')).filter((state) => state !== deletedState);
  }

  /** What setting or removing a model's state checks first: the names, the conditional-writes guard, the state's existence. @throws StateNotFoundError */
  private async beforeStateChange(domain: string, modelId: string, state: string): Promise<void> {
    validateDomain(domain);
    validateModelId(modelId);
    validateStateName(state);
    await this.guard();
    await requireState(this.storage, state);
  }

  /** Puts a model in a state (idempotent): a byte copy of its document, as Python modelstore's set_model_state makes. @throws StateNotFoundError, ModelNotFoundError, ModelDeletedError */
  async setModelState(domain: string, modelId: string, state: string): Promise<void> {
    await this.beforeStateChange(domain, modelId, state);
    const { text } = await modelOrThrow(this.storage, domain, modelId);
    await writeText(this.storage, layout.stateVersion(domain, state, modelId), text);
  }

  /** Takes a model out of a state; nothing happens if it was not in it. @throws StateNotFoundError */
  async removeModelState(domain: string, modelId: string, state: string): Promise<void> {
    await this.beforeStateChange(domain, modelId, state);
    await this.storage.delete(layout.stateVersion(domain, state, modelId));
  }

  /** The states a model is in: those whose state exists (a deleted state's copies are left in place, as Python modelstore leaves them, but no longer count). */
  async getModelStates(domain: string, modelId: string): Promise<string[]> {
    validateDomain(domain);
    validateModelId(modelId);
    const [copies, defined] = await Promise.all([statesOf(this.storage, domain, modelId), this.listModelStates()]);
    const states = new Set(defined);
    return copies.filter((state) => states.has(state));
  }
}

/** The contract versions this core implements. */
const contractVersion = 'v1';

/** How a contract check speaks of the plugin it refuses. */
interface ContractWords {
  /** The plugin, first word of the message: `S3Storage`, `The adapter for "onnx"`. */
  subject: string;
  /** What to upgrade when the plugin implements an older contract. */
  upgradePlugin: string;
  /** Appended to the message of a plugin with another version. */
  suffix: string;
  /** The rule a plugin with no version breaks, up to the contract's name. */
  rule: string;
  /** The last advice to a plugin with no version. */
  own: string;
}

/**
 * Refuses a plugin (a storage or an adapter) that implements another version of its
 * contract than this core, or declares none, naming what to upgrade. @throws IncompatibleContractError
 */
function checkContract(contract: 'Storage' | 'ModelAdapter', plugin: object, words: ContractWords): void {
  const found = (plugin as { specificationVersion?: unknown }).specificationVersion;
  if (found === contractVersion) return;
  throw new IncompatibleContractError(
    contract,
    contractVersion,
    typeof found === 'string' ? found : undefined,
    typeof found === 'string'
      ? `${words.subject} implements the ${contract} contract ${found}, but this @modelstore/core (${version}) implements ${contractVersion}: ${found > contractVersion ? 'upgrade @modelstore/core' : words.upgradePlugin}${words.suffix}`
      : `${words.subject} declares no specificationVersion: ${words.rule} of this @modelstore/core, ${version}); upgrade its package, or ${words.own}`,
  );
}

/** The storage's and every adapter's contract version. @throws IncompatibleContractError */
function checkContracts(storage: Storage, adapters: readonly ModelAdapter[]): void {
  const name = storage.constructor?.name ?? 'the storage';
  checkContract('Storage', storage, {
    subject: name,
    upgradePlugin: `upgrade the package of ${name}`,
    suffix: ' so that both speak the same version',
    rule: `a Storage must declare specificationVersion: '${contractVersion}' (the contract`,
    own: 'add the field to your own storage after checking it with @modelstore/storage-conformance',
  });
  for (const adapter of adapters) {
    checkContract('ModelAdapter', adapter, {
      subject: `The adapter for "${adapter.library}"`,
      upgradePlugin: 'upgrade the adapter package',
      suffix: '',
      rule: `an adapter must declare specificationVersion: '${contractVersion}' (the ModelAdapter contract`,
      own: 'add the field to your own adapter',
    });
  }
}

// Whatever a public method throws is typed: see typedError.
guardMethods(ModelStore.prototype, 'ModelStore', [
  'upload',
  'listDomains',
  'getDomain',
  'listModels',
  'listModelSummaries',
  'compactIndex',
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
  'signModel',
  'verifyModel',
  'getSignature',
]);

/**
 * The adapters of this repository by the `model_type.library` they write and load: the npm
 * package that holds each and the class to pass in `new ModelStore({ adapters })`. Used for
 * the install hint of `AdapterNotFoundError` and, through `@modelstore/core/internal`, by
 * the CLI for the code it prints.
 */
export const knownAdapters: Readonly<Record<string, { readonly package: string; readonly className: string }>> = {
  model_file: { package: '@modelstore/adapter-raw', className: 'RawAdapter' },
  onnx: { package: '@modelstore/adapter-onnx', className: 'OnnxAdapter' },
  tensorflowjs: { package: '@modelstore/adapter-tfjs', className: 'TfjsAdapter' },
  'transformers.js': { package: '@modelstore/adapter-transformers', className: 'TransformersAdapter' },
  safetensors: { package: '@modelstore/adapter-safetensors', className: 'SafetensorsAdapter' },
  gguf: { package: '@modelstore/adapter-gguf', className: 'GgufAdapter' },
};

function installHint(library: string): string {
  const known = Object.hasOwn(knownAdapters, library) ? knownAdapters[library] : undefined;
  return known ? `install ${known.package} and pass new ${known.className}()` : `register an adapter whose library is "${library}" in new ModelStore({ adapters })`;
}
