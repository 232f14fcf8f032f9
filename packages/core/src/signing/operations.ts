/**
 * Model signing on a store: the bundle at `<folder of the archive>/model.sig`, signing
 * a committed model (`signModel`), verifying one (`verifyModel`, and the check
 * `download`/`load` run on an extracted folder before it is moved into place), and
 * reading a signature without checking it (`getSignature`).
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { extractArchive } from '../archive.js';
import { IntegrityError, InvalidOptionError, ModelStoreError, PreconditionFailedError, SignatureError } from '../errors.js';
import type { ModelMetadata } from '../metadata.js';
import type { StoredModel } from '../registry/documents.js';
import type { Storage } from '../storage.js';
import { bundleKeyOf, bundleName, defaultIgnorePaths, manifestOf, type ModelBinding } from './bundle.js';
import { hashFolder } from './files.js';
import { checkBundle, checkFolder, modelPayload, readSignature, refusedUnsigned, type PreparedSigner, type PreparedVerification } from './signature.js';
import type { ModelSignatureInfo } from './types.js';

/** The file every modelstore archive holds beside the model's own files. */
const modelInfoFile = 'model-info.json';

/** Bundles larger than this (64 MiB) are refused: far more than the manifest of any model (about 150 bytes a file). */
const maxBundleBytes = 64 * 1024 * 1024;

/** A bundle as read: its bytes and where it was found (its storage key, or the archive's key for one inside the archive). */
export interface StoredBundle {
  text: Buffer;
  key: string;
}

/** The `<domain>/<model id>` a model's signature must be bound to: the id of the document read (its key), not the id the document claims. */
export function bindingOf(domain: string, model: StoredModel, requestedId: string | undefined): ModelBinding {
  const fromKey = /\/versions\/(?:[^/]+\/)?([^/]+)\.json$/.exec(model.info.key)?.[1];
  return { domain, model_id: requestedId ?? fromKey ?? model.metadata.model.model_id };
}

/** The bundle stored beside the archive, or undefined. @throws SignatureError `malformed` when it is too large; StorageError */
export async function readStoredBundle(storage: Storage, archiveKey: string, signal?: AbortSignal): Promise<StoredBundle | undefined> {
  const key = bundleKeyOf(archiveKey);
  const object = await storage.get(key, signal ? { signal } : {});
  if (!object) return undefined;
  if (object.size > maxBundleBytes) {
    (object.body as Readable).destroy?.();
    throw new SignatureError('malformed', `The signature bundle ${key} is ${object.size} bytes, more than the ${maxBundleBytes} a bundle may have`);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of object.body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
  return { text: Buffer.concat(chunks), key };
}

/**
 * Where a bundle may sit inside a model's archive, first match wins: at the top (a folder
 * signed with model_signing, then uploaded by this library), or under `extras/` (Python
 * modelstore stores a folder's other files, the bundle among them, as extra files).
 */
const bundlesInArchive = [bundleName, `extras/${bundleName}`];

/** A bundle inside an extracted model (a folder signed with model_signing, then uploaded). */
async function bundleInFolder(directory: string, archiveKey: string): Promise<(StoredBundle & { name: string }) | undefined> {
  for (const name of bundlesInArchive) {
    const text = await readFile(path.join(directory, ...name.split('/'))).catch(() => undefined);
    if (text) return { text, key: archiveKey, name };
  }
  return undefined;
}

/** What `download` and `load` check on the folder they extracted, before it is moved into place. */
export interface FolderCheck {
  /** The verification; undefined: no check (the stored bundle is still written when `writeBundle`). */
  verification: PreparedVerification | undefined;
  binding: ModelBinding;
  archiveKey: string;
  /** The stored bundle, read (and its signature checked) before the archive was downloaded; undefined: none stored. */
  stored: StoredBundle | undefined;
  /** Write the stored bundle into the folder as `model.sig` (download does; the load cache does not). */
  writeBundle: boolean;
  signal?: AbortSignal;
}

/**
 * Reads the stored bundle and, with a verification, checks its signature and binding
 * before anything is downloaded (a foreign key fails at once, not after gigabytes).
 */
export async function prepareFolderCheck(storage: Storage, archiveKey: string, binding: ModelBinding, verification: PreparedVerification | undefined, options: { writeBundle: boolean; signal?: AbortSignal }): Promise<FolderCheck> {
  const stored = await readStoredBundle(storage, archiveKey, options.signal);
  if (stored && verification) checkBundle(stored.text, stored.key, verification, binding);
  return { verification, binding, archiveKey, stored, writeBundle: options.writeBundle, ...(options.signal ? { signal: options.signal } : {}) };
}

/**
 * Checks an extracted folder: the bundle (stored, else one inside the archive) must verify
 * and the files, hashed as they are on disk, must be exactly its manifest. Then writes the
 * stored bundle into the folder when asked.
 * @throws SignatureError
 */
export async function checkExtracted(directory: string, check: FolderCheck): Promise<ModelSignatureInfo | undefined> {
  let info: ModelSignatureInfo | undefined;
  if (check.verification) {
    const inside = check.stored ? undefined : await bundleInFolder(directory, check.archiveKey);
    const bundle = check.stored ?? inside;
    if (!bundle)
      throw new SignatureError(
        'unsigned',
        `Model "${check.binding.model_id}" of domain "${check.binding.domain}" is not signed (no ${bundleKeyOf(check.archiveKey)}, no ${bundlesInArchive.join(' or ')} in its archive). Nothing was written. ` +
          `If this model was signed before, its signature was removed: do not use it; re-upload it from a trusted source. ` +
          `Only a model whose files you know (you checked them, or uploaded them yourself) should be signed now: signModel("${check.binding.domain}", "${check.binding.model_id}", signer).`,
      );
    const checked = checkBundle(bundle.text, bundle.key, check.verification, check.binding);
    // A bundle inside the archive signed a folder before it was uploaded: the upload added
    // model-info.json (modelstore's own record of the library), which it cannot have signed,
    // and the bundle itself may sit where the signer did not declare it ignored.
    const unsigned = await checkFolder(directory, checked.statement, check.signal, inside ? [modelInfoFile, inside.name] : []);
    info = { ...checked.info, verified: true, key: bundle.key, ...(unsigned.length > 0 ? { unsigned } : {}) };
  }
  if (check.writeBundle && check.stored) await writeFile(path.join(directory, bundleName), check.stored.text);
  return info;
}

/**
 * Extracts a model's archive into a temporary folder (checked against the digests its
 * metadata recorded), runs `use` on it, and removes it.
 */
async function withExtracted<T>(storage: Storage, metadata: ModelMetadata, archiveKey: string, signal: AbortSignal | undefined, use: (directory: string) => Promise<T>): Promise<T> {
  const directory = await mkdtemp(path.join(tmpdir(), 'modelstore-signing-'));
  try {
    const object = await storage.get(archiveKey, signal ? { signal } : {});
    if (!object) throw new IntegrityError(`The archive of model "${metadata.model.model_id}" is missing from storage (${archiveKey})`);
    await extractArchive(object.body instanceof Readable ? object.body : Readable.from(object.body as AsyncIterable<Buffer>), directory, metadata.archive ?? {});
    return await use(directory);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/**
 * Signs a committed model: its archive is read and checked against the recorded digests,
 * its files hashed as a download writes them, and the bundle stored create-only (or,
 * with `overwrite`, replacing the one read).
 * @throws PreconditionFailedError when the model is signed (a bundle beside its archive, or a `model.sig` inside it) and `overwrite` is not set; SignatureError; IntegrityError; StorageError
 */
export async function signStoredModel(storage: Storage, model: StoredModel, binding: ModelBinding, archiveKey: string, signer: PreparedSigner, options: { overwrite?: boolean; signal?: AbortSignal }): Promise<ModelSignatureInfo> {
  const key = bundleKeyOf(archiveKey);
  const existing = await storage.head(key);
  if (existing && !options.overwrite) throw new PreconditionFailedError(key, `Model "${binding.model_id}" of domain "${binding.domain}" is already signed (${key}): pass overwrite: true to replace its signature (e.g. to rotate keys)`);
  const files = await withExtracted(storage, model.metadata, archiveKey, options.signal, async (directory) => {
    const top = await readdir(directory);
    const unsignable = refusedUnsigned.filter((name) => top.includes(name));
    if (unsignable.length > 0) {
      throw new InvalidOptionError(
        'signer',
        `signModel: model "${binding.model_id}" of domain "${binding.domain}" holds ${unsignable.map((name) => `${name}/`).join(' and ')}, which a model signature cannot cover (model_signing leaves git and GitHub paths out, and a verified download refuses them): nothing was written. Upload the model again without them, then sign it.`,
      );
    }
    if (!existing && !options.overwrite) {
      const inside = await bundleInFolder(directory, archiveKey);
      if (inside)
        throw new PreconditionFailedError(
          archiveKey,
          `Model "${binding.model_id}" of domain "${binding.domain}" is already signed by the ${inside.name} inside its archive (a folder signed before it was uploaded): pass overwrite: true to replace that signature with one bound to this model (check its files first)`,
        );
    }
    return hashFolder(directory, defaultIgnorePaths, options.signal);
  });
  options.signal?.throwIfAborted();
  const text = await signer.bundle(modelPayload(manifestOf(files), binding));
  const conditional = storage.capabilities.conditionalWrites;
  await storage.put(key, text, {
    contentType: 'application/json',
    ...(conditional ? (existing ? { ifMatch: existing.etag } : { ifNoneMatch: '*' as const }) : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return readSignature(text, key);
}

/** Signs the files an upload packed (their digests as the archive recorded them) and stores the bundle. Called before the commit. */
export async function signUpload(storage: Storage, archiveKey: string, files: Record<string, { sha256: string }>, binding: ModelBinding, signer: PreparedSigner, signal?: AbortSignal): Promise<string> {
  const key = bundleKeyOf(archiveKey);
  const manifest = manifestOf(Object.entries(files).map(([name, digest]) => [name, digest.sha256]));
  const text = await signer.bundle(modelPayload(manifest, binding));
  try {
    await storage.put(key, text, {
      contentType: 'application/json',
      ...(storage.capabilities.conditionalWrites ? { ifNoneMatch: '*' as const } : {}),
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    // "Already exists" from an SDK's retry of a write that was applied: ours if it signs this very manifest.
    if (!PreconditionFailedError.isInstance(error)) throw error;
    const stored = await readStoredBundle(storage, archiveKey, signal).catch(() => undefined);
    const info = stored
      ? (() => {
          try {
            return readSignature(stored.text, key);
          } catch {
            return undefined;
          }
        })()
      : undefined;
    if (!info || JSON.stringify(info.files) !== JSON.stringify(manifest)) throw error;
  }
  return key;
}

/** Verifies a stored model: the bundle, then the archive extracted into a temporary folder against its manifest. @throws SignatureError */
export async function verifyStoredModel(storage: Storage, model: StoredModel, binding: ModelBinding, archiveKey: string, verification: PreparedVerification, signal?: AbortSignal): Promise<ModelSignatureInfo> {
  const check = await prepareFolderCheck(storage, archiveKey, binding, verification, { writeBundle: false, ...(signal ? { signal } : {}) });
  return withExtracted(storage, model.metadata, archiveKey, signal, async (directory) => (await checkExtracted(directory, check))!);
}

/**
 * A model's signature, parsed but not checked: the stored bundle, else a `model.sig`
 * inside the archive, at the top or under `extras/` (found by streaming the archive,
 * nothing written; not read when `recordedFiles`, the archive's recorded file list, names
 * no such file).
 * @throws SignatureError `malformed`, `unsupported`
 */
export async function readModelSignature(storage: Storage, archiveKey: string, recordedFiles?: Record<string, unknown>): Promise<ModelSignatureInfo | undefined> {
  const stored = await readStoredBundle(storage, archiveKey);
  if (stored) return readSignature(stored.text, stored.key);
  // The archive's recorded file list (this library's uploads) tells whether a bundle is inside it without reading it.
  if (recordedFiles && !bundlesInArchive.some((name) => Object.hasOwn(recordedFiles, name))) return undefined;
  const inside = await bundleInArchive(storage, archiveKey);
  return inside ? readSignature(inside, archiveKey) : undefined;
}

/** The bytes of a `model.sig` in the archive (at the top, else under `extras/`), read as the archive streams by. */
async function bundleInArchive(storage: Storage, archiveKey: string): Promise<Buffer | undefined> {
  const object = await storage.get(archiveKey);
  if (!object) return undefined;
  const extract = tar.extract();
  const source = object.body as Readable;
  const gunzip = createGunzip();
  source.on('error', (error) => extract.destroy(error));
  gunzip.on('error', (error) => extract.destroy(error));
  source.pipe(gunzip).pipe(extract as unknown as NodeJS.WritableStream);
  const found = new Map<string, Buffer>();
  try {
    for await (const entry of extract) {
      const name = entry.header.name.replace(/^(\.\/)+/, '');
      if (bundlesInArchive.includes(name) && entry.header.type === 'file' && (entry.header.size ?? 0) <= maxBundleBytes) {
        const chunks: Buffer[] = [];
        for await (const chunk of entry) chunks.push(chunk as Buffer);
        found.set(name, Buffer.concat(chunks));
        if (name === bundlesInArchive[0]) break;
      } else entry.resume();
    }
    return bundlesInArchive.map((name) => found.get(name)).find((text) => text !== undefined);
  } catch (error) {
    if (ModelStoreError.isInstance(error)) throw error;
    throw new IntegrityError('The model archive is corrupt or truncated: it could not be read to look for a signature', { cause: error });
  } finally {
    extract.destroy();
    source.destroy?.();
  }
}
