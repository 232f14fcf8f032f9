/**
 * The domain's index (`<domain>/modelstore-index.json`, this library's addition that
 * Python modelstore ignores): `{ "models": { id: ms }, "etags": { id: etag } }`, the
 * creation time of each model and the etag of the `versions/<id>.json` it was taken
 * from. An entry is used only when a listing shows that very version of the document,
 * so a re-used id or a document another writer rewrote is read again. Best effort: the
 * index only saves reads, a missed update never gives a wrong answer.
 */
import { layout } from '../registry-layout.js';
import { PreconditionFailedError } from '../errors.js';
import type { ObjectInfo, Storage } from '../storage.js';
import { backoff, readDocument, readModels, readValidDocument, registryRetries, writeJson, type StoredModel } from './documents.js';
import { modelTime } from './order.js';

/** The domain's index entries; empty when the index is missing or unreadable. */
export async function readIndex(storage: Storage, domain: string): Promise<Map<string, { time: number; etag: string }>> {
  const index = (await readValidDocument(storage, layout.index(domain)).catch(() => undefined))?.value as { models?: unknown; etags?: unknown } | undefined;
  const times = typeof index?.models === 'object' && index.models !== null ? (index.models as Record<string, unknown>) : {};
  const etags = typeof index?.etags === 'object' && index.etags !== null ? (index.etags as Record<string, unknown>) : {};
  const entries = new Map<string, { time: number; etag: string }>();
  for (const [id, time] of Object.entries(times)) {
    const etag = Object.prototype.hasOwnProperty.call(etags, id) ? etags[id] : undefined;
    // An entry without the etag of the document it describes cannot tell a re-used id: not used.
    if (typeof time === 'number' && typeof etag === 'string') entries.set(id, { time, etag });
  }
  return entries;
}

/** Records a committed model (`add`) or drops an id (`remove`), by compare-and-swap. Never throws. */
export async function updateIndex(storage: Storage, domain: string, change: { add: StoredModel } | { remove: string }): Promise<void> {
  const key = layout.index(domain);
  try {
    for (let attempt = 0; attempt < registryRetries; attempt++) {
      // A damaged index is replaced: it only lists what listing finds anyway.
      const current = await readDocument(storage, key);
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
        await writeJson(storage, key, { models: Object.fromEntries(models), etags: Object.fromEntries(etags) }, current ? { ifMatch: current.info.etag } : { ifNoneMatch: '*' });
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

/**
 * Creation times of the listed `versions/<id>.json` documents: from the index when it
 * recorded that very version (same etag), else from the document (written by Python
 * modelstore, by an upload that died before indexing, or re-uploaded under a re-used
 * id). Documents deleted since the listing are left out; a damaged one counts as oldest.
 */
export async function timesOf(storage: Storage, domain: string, objects: { name: string; info: ObjectInfo }[]): Promise<Map<string, number>> {
  const index = await readIndex(storage, domain);
  const times = new Map<string, number>();
  const unknown: { name: string; info: ObjectInfo }[] = [];
  for (const object of objects) {
    const entry = index.get(object.name);
    if (entry && entry.etag === object.info.etag) times.set(object.name, entry.time);
    else unknown.push(object);
  }
  const models = await readModels(
    storage,
    unknown.map(({ name }) => layout.version(domain, name)),
  );
  unknown.forEach(({ name }, position) => {
    const model = models[position];
    if (model !== undefined) times.set(name, model ? modelTime(model) : 0);
  });
  return times;
}
