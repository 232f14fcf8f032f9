/**
 * The domain's latest pointer (`domains/<domain>.json`): a byte copy of the latest
 * model's document, as Python modelstore writes it. It moves forward by
 * compare-and-swap, and is trusted only while it names a live model: a pointer naming
 * a deleted model (Python's `delete_model` leaves it so), a re-upload of its id,
 * another domain's model, or a damaged or missing pointer is read as missing — the
 * newest committed model is the latest, and the pointer is repaired.
 */
import { DomainNotFoundError, IntegrityError, PreconditionFailedError, StorageError } from '../errors.js';
import { isModelMetadata } from '../metadata.js';
import { validateModelId } from '../names.js';
import { layout } from '../registry-layout.js';
import type { ObjectInfo, Storage } from '../storage.js';
import { recordDomain, timesOf } from './creation-index.js';
import { backoff, listObjects, readDocument, readModel, registryRetries, writeText, type StoredDocument, type StoredModel } from './documents.js';
import { newestFirst, sameModel, sortByTime } from './order.js';

/** The domain's newest committed model other than `except` whose document can be read (undefined if none), and how many there are. */
export async function newestCommitted(storage: Storage, domain: string, except?: string): Promise<{ newest: StoredModel | undefined; count: number }> {
  const objects = (await listObjects(storage, layout.versions(domain), '.json', 'model id')).filter(({ name }) => name !== except);
  // The newest whose document can be read: a damaged one cannot be the latest.
  for (const id of sortByTime(await timesOf(storage, domain, objects))) {
    const newest = await readModel(storage, layout.version(domain, id)).catch((error: unknown) => (IntegrityError.isInstance(error) ? undefined : Promise.reject(error)));
    if (newest) return { newest, count: objects.length };
  }
  return { newest: undefined, count: objects.length };
}

/**
 * The live model a pointer document names: its current `versions/<id>.json`, when that
 * exists and is the same upload as the pointer's copy; else `undefined`.
 */
export async function liveModelOf(storage: Storage, domain: string, pointer: StoredDocument): Promise<StoredModel | undefined> {
  if (pointer.damaged || !isModelMetadata(pointer.value) || pointer.value.model.domain !== domain) return undefined;
  let modelId: string;
  try {
    modelId = validateModelId(pointer.value.model.model_id);
  } catch {
    return undefined;
  }
  const live = await readModel(storage, layout.version(domain, modelId)).catch((error: unknown) => (IntegrityError.isInstance(error) ? undefined : Promise.reject(error)));
  return live && sameModel(pointer.value, live.metadata) ? live : undefined;
}

/**
 * The domain's latest model: the one its pointer names when that is live, else the
 * newest committed model (the pointer is then repaired by compare-and-swap, best
 * effort: a reader without write access still gets the right answer).
 * @returns `model` undefined when the domain has no live model, and the pointer as read
 */
export async function latest(storage: Storage, domain: string): Promise<{ model: StoredModel | undefined; pointer: StoredDocument | undefined }> {
  const key = layout.domain(domain);
  for (let attempt = 0; ; attempt++) {
    const pointer = await readDocument(storage, key);
    const live = pointer ? await liveModelOf(storage, domain, pointer) : undefined;
    if (live) return { model: live, pointer };
    const { newest } = await newestCommitted(storage, domain);
    if (!newest) return { model: undefined, pointer };
    const repaired = await writeText(storage, key, newest.text, pointer ? { ifMatch: pointer.info.etag } : { ifNoneMatch: '*' }).then(
      () => true,
      (error: unknown) => !PreconditionFailedError.isInstance(error),
    );
    // Lost the race to another writer: read what it wrote (a newer upload, or the same repair).
    if (repaired || attempt >= 3) return { model: newest, pointer };
    await backoff(attempt);
  }
}

/** The domain's latest model. @throws DomainNotFoundError when it has none, IntegrityError when the pointer cannot be read and nothing replaces it */
export async function latestOrThrow(storage: Storage, domain: string): Promise<StoredModel> {
  const { model, pointer } = await latest(storage, domain);
  if (model) return model;
  if (pointer?.damaged) throw new IntegrityError(`"${layout.domain(domain)}" is not valid JSON: it was truncated or written by something else`, { cause: pointer.value });
  throw new DomainNotFoundError(domain);
}

/**
 * Moves the pointer to `candidate` by compare-and-swap, unless it already names a live
 * model that is as new. A pointer naming no live model is replaced by the newest of
 * `candidate` and the listing's newest.
 * @returns the pointer's new version when it now is a copy of `candidate`, else undefined
 * @throws StorageError (retryable) when 50 attempts lose to other writers, or when the storage fails
 */
export async function advanceLatest(storage: Storage, domain: string, candidate: StoredModel): Promise<ObjectInfo | undefined> {
  const key = layout.domain(domain);
  let readFailures = 0;
  for (let attempt = 0; attempt < registryRetries; attempt++) {
    const retry: unique symbol = Symbol('retry');
    const current = await (async () => {
      const pointer = await readDocument(storage, key);
      return { pointer, live: pointer ? await liveModelOf(storage, domain, pointer) : undefined };
    })().catch((error: unknown): typeof retry => {
      // A read that broke off (the pointer may have moved meanwhile) is read again.
      if (StorageError.isInstance(error) && (error as StorageError).retryable && ++readFailures <= 3) return retry;
      throw error;
    });
    if (current === retry) {
      await backoff(attempt);
      continue;
    }
    if (current.live && newestFirst(current.live, candidate) <= 0) return undefined;
    // A pointer naming no live model says nothing about what is newest: ask the listing.
    const target = current.live ? candidate : await newestCommitted(storage, domain).then(({ newest }) => (newest && newestFirst(newest, candidate) < 0 ? newest : candidate));
    try {
      // Conditional on exactly the version read: what it was compared with (or its absence).
      const written = await writeText(storage, key, target.text, current.pointer ? { ifMatch: current.pointer.info.etag } : { ifNoneMatch: '*' });
      // The version written, when it is a copy of the candidate (the domains index records it).
      return target === candidate ? written : undefined;
    } catch (error) {
      if (!PreconditionFailedError.isInstance(error)) throw error;
      await backoff(attempt);
    }
  }
  // Contention, not damage: the same call succeeds once the other writers are done.
  throw new StorageError(`Could not update the latest model of domain "${domain}" after ${registryRetries} compare-and-swap attempts: too many concurrent writers; retry`, { retryable: true });
}

/** If the pointer names `modelId` (being deleted), points it at the newest remaining model, or removes it when none remain. */
export async function retreatLatest(storage: Storage, domain: string, modelId: string): Promise<void> {
  const key = layout.domain(domain);
  for (let attempt = 0; attempt < registryRetries; attempt++) {
    // A read that fails fails the delete, before the model's document is removed: the
    // pointer must not be left naming a model that is no longer listed.
    const current = await readDocument(storage, key);
    if (!current || current.damaged || !isModelMetadata(current.value) || current.value.model.model_id !== modelId) return;
    const { newest } = await newestCommitted(storage, domain, modelId);
    try {
      if (newest) {
        const written = await writeText(storage, key, newest.text, { ifMatch: current.info.etag });
        // The registry's index of domains learns the pointer's new version (best effort).
        await recordDomain(storage, newest, written);
      } else {
        // No readable model remains (none at all, or only damaged documents). A delete has
        // no condition: an upload that committed and moved the pointer meanwhile lost it.
        // Its model is listed by now, so the pointer is restored.
        await storage.delete(key);
        const restored = (await newestCommitted(storage, domain, modelId)).newest;
        if (restored) await advanceLatest(storage, domain, restored);
      }
      return;
    } catch (error) {
      if (!PreconditionFailedError.isInstance(error)) throw error;
      await backoff(attempt);
    }
  }
}
