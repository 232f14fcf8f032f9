/** Soft delete, as Python modelstore's `delete_model` does it, ordered so that a crash at any step leaves no state or latest pointer naming a model that is not listed. */
import { deletedState } from '../names.js';
import { archiveKeyFromLocation, layout } from '../registry-layout.js';
import type { Storage } from '../storage.js';
import { recordDeletion } from './creation-index.js';
import { writeText } from './documents.js';
import { retreatLatest } from './latest.js';
import { modelOrThrow } from './models.js';
import { ensureState, statesOf } from './states.js';

/**
 * Moves the model's document to `versions/modelstore-deleted/` (a byte copy), takes it
 * out of every state, moves the latest pointer off it, removes its document, writes a
 * tombstone for that version in the domain's index, and removes its archive.
 * @throws ModelNotFoundError, ModelDeletedError, DomainNotFoundError, StorageError
 */
export async function deleteModel(storage: Storage, domain: string, modelId: string): Promise<void> {
  const model = await modelOrThrow(storage, domain, modelId);
  const { metadata, text } = model;
  await ensureState(storage, deletedState);
  await writeText(storage, layout.stateVersion(domain, deletedState, modelId), text);
  for (const state of await statesOf(storage, domain, modelId)) await storage.delete(layout.stateVersion(domain, state, modelId));
  await retreatLatest(storage, domain, modelId);
  await storage.delete(layout.version(domain, modelId));
  await recordDeletion(storage, model);
  const archiveKey = archiveKeyFromLocation(metadata.storage);
  if (archiveKey !== undefined) await storage.delete(archiveKey).catch(() => undefined);
}
