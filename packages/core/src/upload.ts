/**
 * An upload: the adapter saves the model, its files stream into a gzipped tar on the
 * storage (create-only), and the model is committed by creating its metadata document.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ModelAdapter } from './adapter.js';
import { packArchive, validateArchivePath, type ArchiveDigest, type CompressionLevel } from './archive.js';
import { abortReason } from './body.js';
import { currentUser, type GitInfo } from './code-info.js';
import { AdapterNotFoundError, CommittedWithErrorsError, InvalidArgumentError, InvalidOptionError, ModelExistsError, PreconditionFailedError, SourceFileError } from './errors.js';
import { checkJsonValue } from './json.js';
import type { ModelMetadata } from './metadata.js';
import { deletedState, validateModelId } from './names.js';
import { createdStamp, layout, registryRoot } from './registry-layout.js';
import { announceModel, commitModel, holdsArchive } from './registry/commit.js';
import { signUpload } from './signing/operations.js';
import { prepareSigner, type PreparedSigner } from './signing/signature.js';
import type { ModelSigner } from './signing/types.js';
import type { Storage } from './storage.js';
import { version } from './version.js';

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
  /**
   * Progress in the model's own bytes (the files' contents, before compression) against
   * their total: `{ phase: 'packing', bytes: 0, totalBytes }` once the adapter has listed
   * the files and each was stat'd, then `phase: 'uploading'` as bytes are read into the
   * archive on its way to the storage, and `{ phase: 'committing', bytes: totalBytes }`
   * once the archive is stored and the metadata is being written. See {@link TransferProgress}.
   */
  onProgress?(progress: TransferProgress): void;
  signal?: AbortSignal;
  /**
   * Sign the model (OpenSSF Model Signing v1.0): the sha256 of every file as it will appear
   * in a downloaded folder (computed while uploading) is signed and the bundle stored at
   * `<folder of the archive>/model.sig` before the commit, so a committed signed model
   * always has its bundle. See {@link ModelSigner}. A model holding a top-level `.git/` or
   * `.github/` (which no model signature covers) is `InvalidOptionError` (option `sign`)
   * before anything is written.
   */
  sign?: ModelSigner;
}

/**
 * What `onProgress` of `upload`, `download` and `load` receives.
 *
 * - upload: `bytes` and `totalBytes` count the model's files (every file of the archive,
 *   `model-info.json` and extra files included) before compression, so a bar reaches 100%
 *   however well the data compresses. Phases: `packing` (once, `bytes: 0`: the files are
 *   listed and stat'd), `uploading` (bytes read and packed; the storage may still be
 *   sending the last part when this reaches `totalBytes`), `committing` (once: the archive
 *   is stored, the metadata is being written).
 * - download and load: `phase: 'downloading'`, `bytes` of the archive (compressed, as
 *   stored) read from the storage, `totalBytes` its size (the metadata's `archive.size`,
 *   else the stored object's size). A `load` served from the local cache reports nothing.
 *
 * Since 0.1 (before: a bare number of archive bytes).
 */
export interface TransferProgress {
  phase: 'packing' | 'uploading' | 'committing' | 'downloading';
  /** Bytes done so far (see the phases). */
  bytes: number;
  /** Bytes in all; `bytes` reaches it when the phase's transfer is complete. */
  totalBytes: number;
}

/** What an upload needs from its `ModelStore`. */
export interface UploadContext {
  storage: Storage;
  adapters: readonly ModelAdapter[];
  compressionLevel: CompressionLevel;
  git(): Promise<GitInfo | undefined>;
}

/** The checks an upload makes before any I/O: the id, the extra files' archive paths, the metadata, the adapter. */
export function planUpload(adapters: readonly ModelAdapter[], options: UploadOptions): { modelId: string; extraPaths: string[]; adapter: ModelAdapter; signer?: PreparedSigner } {
  const modelId = options.modelId === undefined ? randomUUID() : validateModelId(options.modelId);
  const extraPaths = (options.extraFiles ?? []).map((file) => `extras/${path.basename(file)}`);
  for (const extraPath of extraPaths) validateArchivePath(extraPath);
  const seen = new Map<string, string>();
  (options.extraFiles ?? []).forEach((file, index) => {
    const other = seen.get(extraPaths[index]!);
    if (other !== undefined)
      throw new InvalidArgumentError(`upload: extra files ${JSON.stringify(other)} and ${JSON.stringify(file)} would both be stored as ${JSON.stringify(extraPaths[index])}: rename one, or upload a folder`, { argument: 'extraFiles' });
    seen.set(extraPaths[index]!, file);
  });
  // Metadata this library writes stays strict JSON that JSON.parse reads back exactly.
  if (options.extraMetadata !== undefined) checkJsonValue(options.extraMetadata, 'extraMetadata');
  const signer = options.sign === undefined ? undefined : prepareSigner(options.sign, 'upload');
  return { modelId, extraPaths, adapter: adapterFor(adapters, options), ...(signer ? { signer } : {}) };
}

function adapterFor(adapters: readonly ModelAdapter[], options: UploadOptions): ModelAdapter {
  const names = adapters.map((adapter) => adapter.library).join(', ') || 'none';
  if (options.adapter !== undefined) {
    const named = adapters.find((adapter) => adapter.library === options.adapter);
    if (!named) throw new AdapterNotFoundError(`No adapter for library "${options.adapter}" is registered (registered: ${names}): pass it in new ModelStore({ adapters })`);
    return named;
  }
  const matching = adapters.filter((adapter) => adapter.matches(options.model));
  if (matching.length === 0) {
    // A path that does not exist is the likely reason: say so, not "register an adapter".
    const paths = typeof options.model === 'string' ? [options.model] : Array.isArray(options.model) && options.model.every((item) => typeof item === 'string') ? (options.model as string[]) : [];
    const missing = paths.find((item) => !existsSync(item));
    if (missing !== undefined) {
      throw new SourceFileError(missing, 'missing', `Cannot store ${JSON.stringify(missing)} in the model: it does not exist. Nothing was uploaded: check the path.`);
    }
    const hint = adapters.some((adapter) => adapter.library === 'model_file') ? '' : '. Register one that does, e.g. new RawAdapter() from @modelstore/adapter-raw for files on disk';
    throw new AdapterNotFoundError(`No registered adapter accepts this model (registered: ${names})${hint}`);
  }
  return matching[0]!;
}

/**
 * A model folder that holds a file-system store (`modelstore --store ./models upload churn .`
 * from a project root) would pack the registry into the model, every upload larger than the
 * last. @throws InvalidArgumentError before anything is written
 */
function refuseStoreInsideModel(storage: Storage, sources: Array<string | Uint8Array>): void {
  const location = storage.describe(registryRoot);
  if (location.type !== 'file_system' || typeof location.root !== 'string') return;
  const root = path.resolve(location.root);
  const inside = sources.find((source) => typeof source === 'string' && (path.resolve(source) === root || path.resolve(source).startsWith(root + path.sep)));
  if (inside !== undefined) {
    throw new InvalidArgumentError(`upload: the model holds the registry's own folder (${root}; ${String(inside)} is in it): upload a folder that does not contain the store, or keep the store elsewhere`, { argument: 'model' });
  }
}

/**
 * A signed upload of a folder holding a top-level `.git/` or `.github/`: a model signature
 * never covers them (model_signing leaves them out), and a verified download would refuse
 * them, so the upload is refused before anything is written. @throws InvalidOptionError
 */
function refuseUnsignable(paths: string[]): void {
  const found = [...new Set(paths.map((name) => name.replace(/^(\.\/)+/, '').split('/')[0]!).filter((top) => top === '.git' || top === '.github'))];
  if (found.length === 0) return;
  throw new InvalidOptionError(
    'sign',
    `upload: the model holds ${found.map((name) => `${name}/`).join(' and ')}, which a model signature cannot cover (model_signing leaves git and GitHub paths out, and git runs commands from .git/config): nothing was uploaded. Remove ${found.map((name) => `${name}/`).join(' and ')} from the model folder (copy the folder without them), or upload without sign.`,
  );
}

/**
 * Runs a planned upload.
 * @returns the committed model's metadata
 * @throws ModelExistsError, SourceFileError, StorageError, the signal's reason; CommittedWithErrorsError when a step after the commit failed
 */
export async function runUpload(context: UploadContext, domain: string, plan: ReturnType<typeof planUpload>, options: UploadOptions): Promise<ModelMetadata> {
  const { storage } = context;
  const { modelId, extraPaths, adapter } = plan;
  // Fail before streaming gigabytes when the id is visibly taken.
  if (await storage.head(layout.version(domain, modelId))) throw new ModelExistsError(domain, modelId);
  if (await storage.head(layout.stateVersion(domain, deletedState, modelId))) throw new ModelExistsError(domain, modelId, { deleted: true });
  const saved = await adapter.save(options.model);
  refuseStoreInsideModel(storage, [...saved.files.map((entry) => entry.source), ...(options.extraFiles ?? [])]);
  if (plan.signer) refuseUnsignable(saved.files.map((entry) => entry.path));
  const modelInfo = { library: adapter.library, ...(saved.type === undefined ? {} : { type: saved.type }) };
  const created = new Date();
  const entries = [{ path: 'model-info.json', source: Buffer.from(JSON.stringify(modelInfo)) }, ...saved.files, ...(options.extraFiles ?? []).map((file, index) => ({ path: extraPaths[index]!, source: file }))];
  const archiveKey = layout.archive(domain, created, modelId);
  const { onProgress } = options;
  let sourceTotal: number | undefined;
  const { stream, digest } = packArchive(entries, {
    mtime: created,
    compressionLevel: context.compressionLevel,
    ...(onProgress
      ? {
          onSourceBytes: (bytes: number, totalBytes: number) => {
            const phase = sourceTotal === undefined ? 'packing' : 'uploading';
            sourceTotal = totalBytes;
            onProgress({ phase, bytes, totalBytes });
          },
        }
      : {}),
  });
  let packed: ArchiveDigest | undefined;
  void digest.then(
    (value) => (packed = value),
    () => undefined,
  );
  try {
    await storage.put(archiveKey, stream, {
      contentType: 'application/gzip',
      ...(storage.capabilities.conditionalWrites ? { ifNoneMatch: '*' as const } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    stream.destroy();
    // A model file that could not be read fails the upload as itself (SOURCE_FILE, not retryable), however the backend wrapped the body's error.
    const sourceError = await digest.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    if (SourceFileError.isInstance(sourceError)) throw sourceError;
    // A create-only write whose first attempt was applied but whose answer was lost
    // comes back as "already exists" from the SDK's retry: it is ours if it has our bytes.
    const ours = PreconditionFailedError.isInstance(error) && packed !== undefined && (await holdsArchive(storage, archiveKey, packed));
    if (!ours) {
      if (PreconditionFailedError.isInstance(error) && (error as PreconditionFailedError).key === archiveKey) throw new ModelExistsError(domain, modelId, { cause: error });
      throw error;
    }
  }
  const archive = await digest;
  if (options.signal?.aborted) {
    await storage.delete(archiveKey).catch(() => undefined);
    throw abortReason(options.signal);
  }
  // The signature is stored before the commit: a committed signed model always has its bundle.
  let bundleKey: string | undefined;
  if (plan.signer) {
    bundleKey = await signUpload(storage, archiveKey, archive.files, { domain, model_id: modelId }, plan.signer, options.signal).catch(async (error: unknown) => {
      await storage.delete(archiveKey).catch(() => undefined);
      throw error;
    });
  }
  if (onProgress && sourceTotal !== undefined) onProgress({ phase: 'committing', bytes: sourceTotal, totalBytes: sourceTotal });
  const git = await context.git();
  const metadata: ModelMetadata = {
    model: { domain, model_id: modelId, model_type: modelInfo, parameters: saved.parameters ?? {} },
    storage: storage.describe(archiveKey),
    modelstore: version,
    code: {
      runtime: `node:${process.versions.node}`,
      user: currentUser(),
      created: createdStamp(created),
      created_at: created.toISOString(),
      dependencies: { '@modelstore/core': version, ...saved.dependencies },
      ...(git ? { git } : {}),
    },
    ...(options.extraMetadata === undefined ? {} : { extra: options.extraMetadata }),
    archive: { ...archive, upload_id: randomUUID() },
  };
  const text = JSON.stringify(metadata);
  const info = await commitModel(storage, metadata, text, archiveKey).catch(async (error: unknown) => {
    // The id was taken: the archive was removed, and its bundle goes with it.
    if (bundleKey !== undefined && ModelExistsError.isInstance(error) && !(await storage.head(archiveKey).catch(() => true))) await storage.delete(bundleKey).catch(() => undefined);
    throw error;
  });
  // The commit is the last step that may fail the upload: the model is listed from here on.
  await announceModel(storage, { metadata, info, text }).catch((error: unknown) => {
    throw new CommittedWithErrorsError(
      `Model "${modelId}" was committed to domain "${domain}" (it is listed and can be downloaded by id), but moving the domain's latest pointer to it failed: ${(error as Error).message}. ` +
        `Do not upload it again: until the next upload to "${domain}" moves the pointer, getDomain("${domain}") may name an older model`,
      metadata,
      { cause: error },
    );
  });
  return metadata;
}
