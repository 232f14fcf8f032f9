/**
 * The commit point of an upload or a copy, and what follows it. A model exists once its
 * `versions/<id>.json` is created (create-only, so a taken id fails and changes
 * nothing); then the index records the model (a log entry), and the latest pointer moves forward.
 */
import type { ArchiveDigest } from '../archive.js';
import { ModelExistsError, PreconditionFailedError } from '../errors.js';
import { isModelMetadata, type ModelMetadata } from '../metadata.js';
import { archiveKeyFromLocation, layout } from '../registry-layout.js';
import { sha256Of } from '../sha256.js';
import type { ObjectInfo, Storage } from '../storage.js';
import { finishRecord, logModel } from './creation-index.js';
import { readDocument, writeText, type StoredModel } from './documents.js';
import { advanceLatest } from './latest.js';

/**
 * Creates `versions/<id>.json` with `text`. When the write fails, the document is read
 * back: a write applied by an attempt whose answer was lost (same text: it carries this
 * upload's random `upload_id`) is a success. The archive is removed only when another
 * model holds the id; when the outcome is unknown it is left to `collectGarbage`, whose
 * grace period covers such late writes.
 * @returns the committed document's version
 * @throws ModelExistsError when another model holds the id; StorageError
 */
export async function commitModel(storage: Storage, metadata: ModelMetadata, text: string, archiveKey: string): Promise<ObjectInfo> {
  const { domain, model_id: modelId } = metadata.model;
  const key = layout.version(domain, modelId);
  try {
    return await writeText(storage, key, text, { ifNoneMatch: '*' });
  } catch (error) {
    const stored = await readDocument(storage, key).catch(() => undefined);
    if (stored && stored.text === text) return stored.info;
    // Another model holds the id, so nothing will reference this archive — unless
    // that model's archive is this very object (same key), which must stay.
    if (stored && !stored.damaged && !(isModelMetadata(stored.value) && archiveKeyFromLocation(stored.value.storage) === archiveKey)) await storage.delete(archiveKey).catch(() => undefined);
    if (PreconditionFailedError.isInstance(error)) throw new ModelExistsError(domain, modelId, { cause: error });
    throw error;
  }
}

/**
 * After a commit: records the model in the domain's append-only index (one create-only
 * log entry, written first, so that a process killed later leaves the model on pages),
 * moves the latest pointer forward if newer (a compare-and-swap loop that may take
 * seconds under many concurrent writers), then records the pointer's version in the
 * registry's index of domains when it moved to this model. The index is best effort.
 * @throws StorageError from moving the pointer (the log entry is written by then)
 */
export async function announceModel(storage: Storage, model: StoredModel): Promise<void> {
  const logged = await logModel(storage, model);
  const pointer = await advanceLatest(storage, model.metadata.model.domain, model);
  if (logged) await finishRecord(storage, model, pointer);
}

/** Whether the object at `key` is the archive described by `digest` (read back and hashed): a create-only write answered "exists" by an SDK retry may be our own. */
export async function holdsArchive(storage: Storage, key: string, digest: Pick<ArchiveDigest, 'sha256' | 'size'>): Promise<boolean> {
  try {
    const object = await storage.get(key);
    if (!object || object.size !== digest.size) {
      (object?.body as { destroy?(): void } | undefined)?.destroy?.();
      return false;
    }
    return (await sha256Of(object.body as AsyncIterable<Uint8Array>, object.size)).sha256 === digest.sha256;
  } catch {
    return false;
  }
}
