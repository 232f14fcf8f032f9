/**
 * The domain's index of its models (this library's addition, which Python modelstore
 * ignores): for each model its creation time, the etag of the `versions/<id>.json` it was
 * taken from (as a {@link tagOf} tag), its archive's size and its library — so that a
 * listing of the domain needs no read per model, and a page of the newest models needs
 * neither a read per model nor a listing of the domain.
 *
 * Since 0.x it is the append-only index of `index-log.ts` under
 * `<domain>/modelstore-index/`: each upload, after its commit point, creates one small
 * log entry (no read, no retry loop over a document that grows with the domain), each
 * delete a tombstone, and compaction folds the log into checkpoint parts. The first
 * index, one document `<domain>/modelstore-index.json` (`{ "models": { id: ms }, "etags":
 * { id: etag }, "sizes": { id: bytes }, "libraries": { id: library } }`), is still read
 * until a compaction has reconciled the domain, and no longer written.
 *
 * Two ways of reading it:
 * - {@link factsOf} (the unlimited `listModels`, `listModelSummaries`, states, the latest
 *   pointer's repair): the registry's listing of `versions/` is the truth, and an entry is
 *   used only for a listed document with that very etag. A missed entry costs a read,
 *   never a wrong answer.
 * - {@link listModelPage} (`listModels` with `limit`): the index alone, newest first.
 *   What a page can miss, and for how long, is said there.
 */
import pMap from 'p-map';
import { DomainNotFoundError, InvalidOptionError } from '../errors.js';
import { archiveKeyFromLocation, layout } from '../registry-layout.js';
import type { ObjectInfo, Storage } from '../storage.js';
import { listObjects, readModels, readValidDocument, type StoredModel } from './documents.js';
import { appendLog, compactIfDue, compactIndexLog, comparePositions, type CompactionReport, type IndexEntry, indexSettings, mergedEntries, type Position, readIndexPage, readIndexState, readPointer, tagOf } from './index-log.js';
import { modelTime } from './order.js';

/** One entry of the first index (`modelstore-index.json`). */
export interface LegacyEntry {
  /** Creation time, ms since the epoch ({@link modelTime}). */
  time: number;
  /** The etag of the `versions/<id>.json` the entry was taken from. */
  etag: string;
  /** The archive's size in bytes, when recorded. */
  size?: number;
  /** `model.model_type.library`, when recorded. */
  library?: string;
}

/** The first index's entries (`<domain>/modelstore-index.json`); empty when it is missing or unreadable. */
export async function readLegacyIndex(storage: Storage, domain: string): Promise<Map<string, LegacyEntry>> {
  const index = (await readValidDocument(storage, layout.index(domain)).catch(() => undefined))?.value as Record<string, unknown> | undefined;
  const member = (name: string) => (typeof index?.[name] === 'object' && index[name] !== null ? (index[name] as Record<string, unknown>) : {});
  const own = (record: Record<string, unknown>, id: string) => (Object.hasOwn(record, id) ? record[id] : undefined);
  const [times, etags, sizes, libraries] = [member('models'), member('etags'), member('sizes'), member('libraries')];
  const entries = new Map<string, LegacyEntry>();
  for (const [id, time] of Object.entries(times)) {
    const etag = own(etags, id);
    // An entry without the etag of the document it describes cannot tell a re-used id: not used.
    if (typeof time !== 'number' || typeof etag !== 'string') continue;
    const entry: LegacyEntry = { time, etag };
    const size = own(sizes, id);
    const library = own(libraries, id);
    if (typeof size === 'number' && Number.isSafeInteger(size) && size >= 0) entry.size = size;
    if (typeof library === 'string') entry.library = library;
    entries.set(id, entry);
  }
  return entries;
}

/** The index entry of a committed model. */
export function entryOf(model: StoredModel): IndexEntry {
  const { metadata, info } = model;
  const entry: IndexEntry = { id: metadata.model.model_id, time: modelTime(model), tag: tagOf(info.etag) };
  const size = metadata.archive?.size;
  const library = metadata.model.model_type?.library;
  if (typeof size === 'number' && Number.isSafeInteger(size) && size >= 0) entry.size = size;
  if (typeof library === 'string') entry.library = library;
  return entry;
}

/**
 * Records a committed model: one create-only log entry in its domain's index, and, when
 * the upload moved the domain's latest pointer (`pointer`, the version it wrote), one
 * in the registry's index of domains; then, now and then, compacts either log
 * ({@link compactIfDue}). Never throws: the index only saves requests. An upload calls
 * {@link logModel} right after its commit point and {@link finishRecord} once the
 * pointer moved; this is the two in one.
 */
export async function recordModel(storage: Storage, model: StoredModel, pointer?: ObjectInfo): Promise<void> {
  if (await logModel(storage, model)) await finishRecord(storage, model, pointer);
}

/** Appends the model's log entry to its domain's index (create-only, one request). Never throws. @returns whether it was written (or already there) */
export async function logModel(storage: Storage, model: StoredModel): Promise<boolean> {
  return appendLog(storage, layout.indexRoot(model.metadata.model.domain), 'a', entryOf(model)).then(
    () => true,
    () => false,
  );
}

/**
 * After {@link logModel} and the latest pointer's move: records the domain's pointer
 * (`pointer`, the version the upload wrote, when it moved) in the registry's index of
 * domains, then, now and then, compacts either log: when it is long, or, for the
 * domain's, when its checkpoint was last reconciled more than
 * {@link indexSettings}`.reconcileEveryMs` ago ({@link compactIfDue}). Never throws.
 */
export async function finishRecord(storage: Storage, model: StoredModel, pointer?: ObjectInfo): Promise<void> {
  const domain = model.metadata.model.domain;
  if (pointer) {
    try {
      await appendLog(storage, layout.domainsIndexRoot(), 'a', { id: domain, time: modelTime(model), tag: tagOf(pointer.etag) });
    } catch {
      return;
    }
  }
  await compactIfDue(storage, layout.indexRoot(domain), () => compactDomainIndex(storage, domain, { automatic: true }), Math.random, indexSettings.reconcileEveryMs);
  if (pointer) await compactIfDue(storage, layout.domainsIndexRoot(), () => compactIndexLog(storage, layout.domainsIndexRoot()));
}

/** Records in the registry's index of domains that the domain's pointer, at version `pointer`, is a copy of `model`. Never throws. */
export async function recordDomain(storage: Storage, model: StoredModel, pointer: ObjectInfo): Promise<void> {
  await appendLog(storage, layout.domainsIndexRoot(), 'a', { id: model.metadata.model.domain, time: modelTime(model), tag: tagOf(pointer.etag) }).catch(() => undefined);
}

/** Records a deleted model (a tombstone for that very version of its document). Never throws. */
export async function recordDeletion(storage: Storage, model: StoredModel): Promise<void> {
  await appendLog(storage, layout.indexRoot(model.metadata.model.domain), 'r', entryOf(model)).catch(() => undefined);
}

/** What the index knows by id: its entries (checkpoint and log) and, until a compaction reconciled the domain, the first index's. */
async function knownEntries(storage: Storage, domain: string): Promise<Map<string, IndexEntry>> {
  const state = await readIndexState(storage, layout.indexRoot(domain)).catch(() => undefined);
  const entries = state ? mergedEntries(state) : new Map<string, IndexEntry>();
  if (!state?.pointer?.reconciled) {
    for (const [id, legacy] of await readLegacyIndex(storage, domain)) {
      if (entries.has(id)) continue;
      entries.set(id, { id, time: legacy.time, tag: tagOf(legacy.etag), ...(legacy.size !== undefined ? { size: legacy.size } : {}), ...(legacy.library !== undefined ? { library: legacy.library } : {}) });
    }
  }
  return entries;
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
 * Storage requests: the index's (its log listing, its pointer, its parts; the first
 * index's document until a compaction reconciled the domain), and one read (and `head`)
 * per document it does not describe.
 */
export async function factsOf(storage: Storage, domain: string, objects: { name: string; info: ObjectInfo }[], details = false, known?: Map<string, IndexEntry>): Promise<Map<string, ModelFacts>> {
  const index = known ?? (await knownEntries(storage, domain));
  const facts = new Map<string, ModelFacts>();
  const unknown: { name: string; info: ObjectInfo }[] = [];
  for (const object of objects) {
    const entry = index.get(object.name);
    if (entry && entry.tag === tagOf(object.info.etag) && (!details || entry.size !== undefined)) facts.set(object.name, { time: entry.time, size: entry.size, library: entry.library });
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

export type { CompactionReport } from './index-log.js';

/**
 * Compacts the domain's index (see `index-log.ts`). Reconciles it with the registry —
 * lists `versions/` after the log, so that models Python modelstore wrote or deleted
 * (which never touch the index), uploads that died before their log entry, and the
 * first index's entries (migrated here) are folded in — always when called explicitly,
 * and on an automatic compaction when the checkpoint was never reconciled or not for
 * {@link indexSettings}`.reconcileEveryMs` (24 hours). Reconciling reads each listed
 * document the index does not describe (and `head`s its archive when the document
 * records no size): once, for a domain grown by Python modelstore.
 * @throws StorageError when the storage fails before the new checkpoint is published
 */
export async function compactDomainIndex(storage: Storage, domain: string, options: { automatic?: boolean } = {}): Promise<CompactionReport> {
  const root = layout.indexRoot(domain);
  let always = !options.automatic;
  if (!always) {
    const { pointer } = await readPointer(storage, root);
    always = !pointer?.reconciled || Date.now() - pointer.reconciled > indexSettings.reconcileEveryMs;
  }
  // A checkpoint that cannot be read (a part missing) is rebuilt from the registry, never dropped.
  return compactIndexLog(storage, root, { reconcile: (merged) => reconciled(storage, domain, merged), reconcileWhen: always ? 'always' : 'broken' });
}

/** The entries the checkpoint should hold: one per listed document, from `merged` (or the first index) when it recorded that very version, else from the document. */
async function reconciled(storage: Storage, domain: string, merged: Map<string, IndexEntry>): Promise<Map<string, IndexEntry>> {
  const objects = await listObjects(storage, layout.versions(domain), '.json', 'model id');
  const legacy = await readLegacyIndex(storage, domain);
  // Per listed document, the entry that recorded that very version, with its size when one does.
  const known = new Map<string, IndexEntry>();
  for (const { name, info } of objects) {
    const tag = tagOf(info.etag);
    const old = legacy.get(name);
    const candidates = [merged.get(name), old && { id: name, time: old.time, tag: tagOf(old.etag), ...(old.size !== undefined ? { size: old.size } : {}), ...(old.library !== undefined ? { library: old.library } : {}) }].filter(
      (entry): entry is IndexEntry => entry?.tag === tag,
    );
    const chosen = candidates.find((entry) => entry.size !== undefined) ?? candidates[0];
    if (chosen) known.set(name, chosen);
  }
  const facts = await factsOf(storage, domain, objects, true, known);
  const result = new Map<string, IndexEntry>();
  for (const { name, info } of objects) {
    const fact = facts.get(name);
    if (!fact) continue;
    result.set(name, { id: name, time: fact.time, tag: tagOf(info.etag), ...(fact.size !== undefined ? { size: fact.size } : {}), ...(fact.library !== undefined ? { library: fact.library } : {}) });
  }
  return result;
}

// ------------------------------------------------------------------ pages

/** Most ids one page may ask for. */
export const maxPageSize = 1000;

/** The decoded cursor of a page: where the next page starts, for which domain and state. */
interface Cursor {
  domain: string;
  state: string | undefined;
  after: Position;
}

/** An opaque cursor (base64url of a small JSON object). */
export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify({ v: 1, d: cursor.domain, ...(cursor.state !== undefined ? { s: cursor.state } : {}), t: cursor.after.time, i: cursor.after.id }), 'utf8').toString('base64url');
}

/** @throws InvalidOptionError when `text` is not a cursor this library gave for `domain` and `state` */
export function decodeCursor(method: string, text: string, domain: string, state: string | undefined): Position {
  const bad = (why: string) => new InvalidOptionError('cursor', `${method}: cursor ${JSON.stringify(text.slice(0, 40))} ${why}: pass the cursor a previous page of the same listing returned, or omit it for the first page`);
  if (!/^[A-Za-z0-9_-]+$/.test(text)) throw bad('is not base64url');
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw bad('is not a cursor of this library');
  }
  if (typeof value !== 'object' || value === null || value.v !== 1 || typeof value.t !== 'number' || !Number.isFinite(value.t) || typeof value.i !== 'string' || typeof value.d !== 'string') throw bad('is not a cursor of this library');
  if (value.d !== domain || (value.s ?? undefined) !== state) throw bad(`belongs to another listing (domain "${String(value.d)}"${typeof value.s === 'string' ? `, state "${value.s}"` : ''})`);
  return { time: value.t, id: value.i };
}

/** Checks `limit` (an integer from 1 to {@link maxPageSize}) and that `cursor` comes with it. @throws InvalidOptionError */
export function checkPageOptions(method: string, options: { limit?: number; cursor?: string }): void {
  if (options.limit !== undefined && !(Number.isInteger(options.limit) && options.limit >= 1 && options.limit <= maxPageSize)) {
    throw new InvalidOptionError('limit', `${method}: limit must be an integer from 1 to ${maxPageSize}, got ${String(options.limit)}`);
  }
  if (options.cursor !== undefined && options.limit === undefined) throw new InvalidOptionError('cursor', `${method}: cursor needs limit (the page size): pass the same limit as for the first page`);
}

/** One page of a domain's models. */
export interface PageOfEntries {
  entries: IndexEntry[];
  /** Where the next page starts; undefined on the last page. */
  next: Position | undefined;
}

/**
 * Up to `limit` of the domain's live models after `after`, newest first (the order of
 * `listModels`). From the index when it has a checkpoint: the log's listing, the
 * pointer, and the one or two parts the page spans (3 or 4 storage requests, at any
 * domain size). Without a checkpoint (a domain with fewer uploads than compaction waits
 * for, or grown by Python modelstore and never compacted), from the full listing of the
 * domain, sliced.
 *
 * What an indexed page can miss, and for how long: models Python modelstore uploaded,
 * and models whose upload died between its commit and its log entry, appear from the
 * next reconciling compaction (an explicit `compactIndex`, or an automatic one when the
 * last reconciliation is a day old); models Python modelstore deleted (which write no
 * tombstone) stay listed until then. Models this library uploads or deletes show at
 * once. The unlimited listing lists the registry and has none of these gaps.
 * @throws DomainNotFoundError when the domain has no model and no latest pointer
 */
export async function listModelPage(storage: Storage, domain: string, limit: number, after: Position | undefined, details = false): Promise<PageOfEntries> {
  const indexed = await readIndexPage(storage, layout.indexRoot(domain), limit, after).catch(() => undefined);
  if (indexed) {
    if (indexed.entries.length === 0 && after === undefined && !(await storage.head(layout.domain(domain)))) throw new DomainNotFoundError(domain);
    return { entries: indexed.entries, next: indexed.next };
  }
  const objects = await listObjects(storage, layout.versions(domain), '.json', 'model id');
  if (objects.length === 0 && !(await storage.head(layout.domain(domain)))) throw new DomainNotFoundError(domain);
  // Order first (creation times only), then the details of the page's models alone: a
  // domain Python grew costs one read per model here, not a read and a head.
  const known = await knownEntries(storage, domain);
  const times = await factsOf(storage, domain, objects, false, known);
  const page = slicePage(
    [...times].map(([id, fact]) => ({ id, time: fact.time, tag: '' })),
    limit,
    after,
  );
  if (!details || page.entries.length === 0) return page;
  const onPage = new Set(page.entries.map((entry) => entry.id));
  const facts = await factsOf(
    storage,
    domain,
    objects.filter((object) => onPage.has(object.name)),
    true,
    known,
  );
  const entries = page.entries.map((entry) => {
    const fact = facts.get(entry.id);
    return { ...entry, ...(fact?.size !== undefined ? { size: fact.size } : {}), ...(fact?.library !== undefined ? { library: fact.library } : {}) };
  });
  return { entries, next: page.next };
}

/** A page of entries already known whole: sorted newest first, those after `after`, `limit` of them. */
export function slicePage(entries: IndexEntry[], limit: number, after: Position | undefined): PageOfEntries {
  const sorted = entries.filter((entry) => after === undefined || comparePositions(after, entry) < 0).sort(comparePositions);
  const page = sorted.slice(0, limit);
  const last = page.at(-1);
  return { entries: page, next: sorted.length > limit && last ? { time: last.time, id: last.id } : undefined };
}
