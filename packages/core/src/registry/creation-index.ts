/**
 * The domain's index (`<domain>/modelstore-index.json`, this library's addition that
 * Python modelstore ignores): `{ "models": { id: ms }, "etags": { id: etag },
 * "sizes": { id: bytes }, "libraries": { id: library } }`, the creation time of each
 * model, the etag of the `versions/<id>.json` it was taken from, and the archive's size
 * and the model's library (`model.model_type.library`), so that a listing of the domain
 * with those needs no read per model. `sizes` and `libraries` may lack an entry (an
 * index written before they were recorded). An entry is used only when a listing shows that very version of the document,
 * so a re-used id or a document another writer rewrote is read again. Best effort: the
 * index only saves reads, a missed update never gives a wrong answer.
 */
import pMap from 'p-map';
import { archiveKeyFromLocation, layout } from '../registry-layout.js';
import { PreconditionFailedError } from '../errors.js';
import type { ObjectInfo, Storage } from '../storage.js';
import { backoff, readDocument, readModels, readValidDocument, registryRetries, writeJson, type StoredModel } from './documents.js';
import { modelTime } from './order.js';

/** One model's entry in the index. */
export interface IndexEntry {
  /** Creation time, ms since the epoch ({@link modelTime}). */
  time: number;
  /** The etag of the `versions/<id>.json` the entry was taken from. */
  etag: string;
  /** The archive's size in bytes, when recorded. */
  size?: number;
  /** `model.model_type.library`, when recorded. */
  library?: string;
}

/** The domain's index entries; empty when the index is missing or unreadable. */
export async function readIndex(storage: Storage, domain: string): Promise<Map<string, IndexEntry>> {
  const index = (await readValidDocument(storage, layout.index(domain)).catch(() => undefined))?.value as Record<string, unknown> | undefined;
  const member = (name: string) => (typeof index?.[name] === 'object' && index[name] !== null ? (index[name] as Record<string, unknown>) : {});
  const own = (record: Record<string, unknown>, id: string) => (Object.hasOwn(record, id) ? record[id] : undefined);
  const [times, etags, sizes, libraries] = [member('models'), member('etags'), member('sizes'), member('libraries')];
  const entries = new Map<string, IndexEntry>();
  for (const [id, time] of Object.entries(times)) {
    const etag = own(etags, id);
    // An entry without the etag of the document it describes cannot tell a re-used id: not used.
    if (typeof time !== 'number' || typeof etag !== 'string') continue;
    const entry: IndexEntry = { time, etag };
    const size = own(sizes, id);
    const library = own(libraries, id);
    if (typeof size === 'number' && Number.isSafeInteger(size) && size >= 0) entry.size = size;
    if (typeof library === 'string') entry.library = library;
    entries.set(id, entry);
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
      const stored = current && !current.damaged && typeof current.value === 'object' && current.value !== null ? (current.value as { models?: unknown; etags?: unknown; sizes?: unknown; libraries?: unknown }) : {};
      // Maps, not objects: a model id may be "__proto__".
      const entries = (value: unknown) => new Map(typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.entries(value) : []);
      const members = { models: entries(stored.models), etags: entries(stored.etags), sizes: entries(stored.sizes), libraries: entries(stored.libraries) };
      if ('add' in change) {
        const { metadata, info } = change.add;
        const id = metadata.model.model_id;
        if (members.etags.get(id) === info.etag) return;
        members.models.set(id, modelTime(change.add));
        members.etags.set(id, info.etag);
        const size = metadata.archive?.size;
        const library = metadata.model.model_type?.library;
        if (typeof size === 'number') members.sizes.set(id, size);
        else members.sizes.delete(id);
        if (typeof library === 'string') members.libraries.set(id, library);
        else members.libraries.delete(id);
      } else {
        if (!members.models.has(change.remove) && !members.etags.has(change.remove)) return;
        for (const member of Object.values(members)) member.delete(change.remove);
      }
      try {
        const document = Object.fromEntries(Object.entries(members).map(([name, member]) => [name, Object.fromEntries(member)]));
        await writeJson(storage, key, document, current ? { ifMatch: current.info.etag } : { ifNoneMatch: '*' });
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

/** What a listing of a domain tells of one model: its time, and with `details` its archive's size and library. */
export interface ModelFacts {
  time: number;
  size?: number;
  library?: string;
}

/**
 * Facts of the listed `versions/<id>.json` documents: from the index when it recorded
 * that very version (same etag) — and, with `details`, its archive's size — else from
 * the document (written by Python modelstore, by an upload that died before indexing, or
 * re-uploaded under a re-used id); with `details`, a document that records no archive
 * size (Python's) costs a `head` of its archive. Documents deleted since the listing are
 * left out; a damaged one counts as oldest, with no size or library.
 */
export async function factsOf(storage: Storage, domain: string, objects: { name: string; info: ObjectInfo }[], details = false): Promise<Map<string, ModelFacts>> {
  const index = await readIndex(storage, domain);
  const facts = new Map<string, ModelFacts>();
  const unknown: { name: string; info: ObjectInfo }[] = [];
  for (const object of objects) {
    const entry = index.get(object.name);
    if (entry && entry.etag === object.info.etag && (!details || entry.size !== undefined)) facts.set(object.name, { time: entry.time, size: entry.size, library: entry.library });
    else unknown.push(object);
  }
  const models = await readModels(
    storage,
    unknown.map(({ name }) => layout.version(domain, name)),
  );
  await pMap(
    unknown,
    async ({ name }, position) => {
      const model = models[position];
      if (model === undefined) return;
      if (model === null) {
        facts.set(name, { time: 0 });
        return;
      }
      const { metadata } = model;
      let size = metadata.archive?.size;
      if (details && typeof size !== 'number') {
        const archiveKey = archiveKeyFromLocation(metadata.storage);
        size = archiveKey === undefined ? undefined : (await storage.head(archiveKey).catch(() => undefined))?.size;
      }
      facts.set(name, { time: modelTime(model), size: typeof size === 'number' ? size : undefined, library: metadata.model.model_type?.library });
    },
    { concurrency: 16 },
  );
  return facts;
}

/** Creation times of the listed `versions/<id>.json` documents ({@link factsOf} without details). */
export async function timesOf(storage: Storage, domain: string, objects: { name: string; info: ObjectInfo }[]): Promise<Map<string, number>> {
  const facts = await factsOf(storage, domain, objects);
  return new Map([...facts].map(([name, { time }]) => [name, time]));
}
