/**
 * An append-only index kept beside the registry (this library's addition; Python
 * modelstore never reads it): a log of small create-only entries, folded now and then
 * into an immutable checkpoint published by compare-and-swap of one small pointer —
 * the shape of Delta Lake's `_delta_log` (JSON commits plus checkpoints and a
 * `_last_checkpoint` file, https://github.com/delta-io/delta/blob/master/PROTOCOL.md)
 * and of Iceberg's manifest lists (a snapshot lists immutable manifests, each with the
 * range of values it holds, and reuses those that did not change,
 * https://iceberg.apache.org/spec/#manifest-lists).
 *
 * One index lives under a root folder `R` (a domain's: `<domain>/modelstore-index/`;
 * the registry's domains: `modelstore-index/domains/`):
 *
 * - `R/log/<time>~<kind>~<tag>~<size>~<library>~<id>.json` — one entry per event,
 *   written create-only, never rewritten. Its KEY alone says everything a reader needs,
 *   so one LIST returns the whole tail without reading an entry: `time` the creation
 *   time in ms (15 digits, zero-padded), `kind` `a` (the object `id` now has this
 *   version) or `r` (the version with this tag is gone: a tombstone), `tag` the first 11
 *   base64url characters of the sha256 of the etag of the object the entry describes
 *   ({@link tagOf}), `size` the archive's bytes in base 36, `library` base64url of the
 *   UTF-8 library name. A key segment longer than 226 bytes (a long id with a long
 *   library name) drops `tag`, `size` and `library` from the key (they stay in the
 *   body, a JSON object `{ id, kind, time, tag, size, library }`, which readers then read).
 * - `R/checkpoint/<generation>-<n>.json` — immutable parts `{ "entries": [[id, time, tag,
 *   size | null, library | null], …] }`, newest first (time descending, ties by id
 *   descending, the order of `listModels`), at most {@link IndexSettings.partSize} entries
 *   each but for splits.
 * - `R/_last_checkpoint` — the pointer, `{ "version": 1, "written": ms, "reconciled": ms |
 *   null, "count": n, "parts": [{ "key", "count", "first": [time, id], "last": [time, id] }] }`,
 *   the parts newest first with the first and last position each holds. Replaced only by
 *   compare-and-swap on the version read.
 *
 * What an index holds is the checkpoint the pointer names, plus every entry listed
 * under `log/`: an `a` entry of the log hides the checkpoint's entry of the same id (the
 * log is newer), an `r` entry hides the entry of that id with the same tag, wherever it
 * is. Entries of one id in the log: the one written last (by the listing's
 * `lastModified`) wins.
 *
 * Compaction ({@link compactIndexLog}) lists the log, then reads the pointer and every
 * part, merges, writes the parts that changed under new keys (create-only), publishes
 * the new pointer by compare-and-swap on the version read, and only then deletes the
 * log entries it folded (tombstones once they are older than
 * {@link IndexSettings.graceMs}, so that an `a` entry landing late for a version
 * already deleted stays hidden) and the parts no pointer names that are older than the
 * grace period. Why a crash or a race at any point loses nothing:
 *
 * - Before the pointer is replaced, nothing a reader uses has changed: new parts are
 *   new keys nobody names yet (a crash leaves them; a later compaction removes them
 *   once older than the grace period, which no compaction in progress reaches).
 * - The pointer moves only from the version this compaction read. So the checkpoints
 *   form one chain, each holding everything its predecessor held plus the log entries
 *   its compaction listed (minus what those entries, or a reconciliation, removed).
 *   Two compactions that read the same pointer cannot both publish; the loser deletes
 *   nothing and gives up.
 * - Log entries are deleted only after the pointer naming a checkpoint that holds them
 *   is published. A crash between the two leaves entries that duplicate the
 *   checkpoint: readers resolve them to the same entry (same id, same tag, same time).
 * - Readers list the log BEFORE reading the pointer: an entry that a compaction deletes
 *   after the listing is in the checkpoint that compaction published before deleting
 *   it, which is the pointer the reader reads (or an older entry of the chain is
 *   replaced by a newer one, never dropped).
 * - A reader whose pointer was replaced meanwhile may find a part removed (only parts
 *   older than the grace period that no current pointer names are removed): it starts
 *   again from the pointer, up to 3 times, then gives up and the caller falls back to
 *   listing the registry.
 *
 * The index is a cache: what it says is always checked or bounded by the registry
 * itself (see `creation-index.ts`), so a missed entry or a failed compaction never gives
 * a wrong answer to the listings that list the registry.
 */
import { createHash, randomBytes } from 'node:crypto';
import pMap from 'p-map';
import { PreconditionFailedError } from '../errors.js';
import type { ObjectInfo, Storage } from '../storage.js';
import { validateDomain, validateModelId } from '../names.js';
import { layout } from '../registry-layout.js';
import { listAll, readDocument, writeJson } from './documents.js';

/** One entry of an index: what is known of object `id`. */
export interface IndexEntry {
  /** The model id (or domain name). */
  id: string;
  /** Creation time, ms since the epoch (0 when unknown). */
  time: number;
  /** {@link tagOf} the etag of the object the entry describes; `''` when unknown. */
  tag: string;
  /** The archive's size in bytes, when recorded. */
  size?: number;
  /** `model.model_type.library`, when recorded. */
  library?: string;
}

/** A position in newest-first order: entries after it are older (or as old with a smaller id). */
export interface Position {
  time: number;
  id: string;
}

/** One listed log entry. */
export interface LogRecord extends IndexEntry {
  kind: 'a' | 'r';
  /** The entry's key. */
  key: string;
  /** The entry's `lastModified`, ms (store clock). */
  written: number;
  /** Whether the key carried tag, size and library (else they are in the body). */
  complete: boolean;
}

/** A part as the pointer names it. */
export interface PartRef {
  /** Key relative to the index root (`checkpoint/<generation>-<n>.json`). */
  key: string;
  count: number;
  first: [number, string];
  last: [number, string];
}

/** The pointer (`_last_checkpoint`) as read. */
export interface IndexPointer {
  version: 1;
  /** When it was written, ms (writer's clock). */
  written: number;
  /** When the checkpoint was last reconciled with the registry's listing, ms; null if never. */
  reconciled: number | null;
  count: number;
  parts: PartRef[];
  /** The etag of the pointer as read, for compare-and-swap. */
  etag: string;
}

/** Tunables, read at each call (tests lower them). */
export interface IndexSettings {
  /** Most entries a part is written with, but for splits (default 2,000). */
  partSize: number;
  /** The log length from which compaction is due (default 500). */
  compactAt: number;
  /** The chance that an append lists the log to see whether compaction is due (default 1/16). */
  checkChance: number;
  /** Age after which tombstones are folded and unnamed parts removed, ms (default 15 minutes). */
  graceMs: number;
  /**
   * Age of the last reconciliation after which an automatic compaction reconciles again, ms
   * (default 24 hours). A reconciliation lists the domain's `versions/` (one request per
   * 1,000 models), so it is the one upload-side cost that grows with the domain: once a day.
   */
  reconcileEveryMs: number;
}

/** The settings in force (mutable: tests lower them; production code never changes them). */
export const indexSettings: IndexSettings = {
  partSize: 2000,
  compactAt: 500,
  checkChance: 1 / 16,
  graceMs: 15 * 60 * 1000,
  reconcileEveryMs: 24 * 60 * 60 * 1000,
};

/** The tag of an etag: 11 base64url characters of its sha256 (66 bits). */
export function tagOf(etag: string): string {
  return createHash('sha256').update(etag).digest('base64url').slice(0, 11);
}

/** Newest first: negative when `a` comes before `b` (later time, or same time and greater id). */
export function comparePositions(a: Position, b: Position): number {
  return b.time - a.time || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

const timeDigits = 15;
const maxTime = 10 ** timeDigits - 1;
/** Longest key segment: a file system's 255-byte name less its temporary-file affixes (29 bytes). */
const maxSegmentBytes = 226;

const clampTime = (time: number) => (Number.isFinite(time) && time > 0 ? Math.min(Math.floor(time), maxTime) : 0);

/** The log entry's file name (the last key segment). */
export function logName(kind: 'a' | 'r', entry: IndexEntry): string {
  const time = String(clampTime(entry.time)).padStart(timeDigits, '0');
  const size = entry.size !== undefined && Number.isSafeInteger(entry.size) && entry.size >= 0 ? entry.size.toString(36) : '';
  const library = entry.library !== undefined ? Buffer.from(entry.library, 'utf8').toString('base64url') : '';
  const full = `${time}~${kind}~${entry.tag}~${size}~${library}~${entry.id}.json`;
  return Buffer.byteLength(full, 'utf8') <= maxSegmentBytes ? full : `${time}~${kind}~~~~${entry.id}.json`;
}

/** A log entry's fields from its file name; undefined when it is not one. */
export function parseLogName(name: string): Omit<LogRecord, 'key' | 'written'> | undefined {
  if (!name.endsWith('.json')) return undefined;
  const fields = name.slice(0, -'.json'.length).split('~');
  if (fields.length < 6) return undefined;
  const [time, kind, tag, size, library] = fields as [string, string, string, string, string];
  const id = fields.slice(5).join('~');
  if (!/^\d{15}$/.test(time) || (kind !== 'a' && kind !== 'r') || !/^[A-Za-z0-9_-]*$/.test(tag) || !/^[0-9a-z]*$/.test(size) || !/^[A-Za-z0-9_-]*$/.test(library) || id === '') return undefined;
  const record: Omit<LogRecord, 'key' | 'written'> = { kind, id, time: Number(time), tag, complete: tag !== '' };
  if (size !== '') record.size = Number.parseInt(size, 36);
  if (library !== '') record.library = Buffer.from(library, 'base64url').toString('utf8');
  // Strict: a tag is 11 characters (or absent), and the name is exactly the one this
  // library writes for these fields (no leading zeros, canonical base64url, UTF-8).
  if ((tag !== '' && tag.length !== 11) || (record.size !== undefined && !Number.isSafeInteger(record.size)) || logName(kind, record) !== name) return undefined;
  return record;
}

/** Appends one entry to the log under `root` (create-only; a key already there is the same event). @throws StorageError */
export async function appendLog(storage: Storage, root: string, kind: 'a' | 'r', entry: IndexEntry): Promise<ObjectInfo | undefined> {
  const key = `${root}log/${logName(kind, entry)}`;
  const body = { id: entry.id, kind, time: entry.time, tag: entry.tag, size: entry.size ?? null, library: entry.library ?? null };
  try {
    return await writeJson(storage, key, body, { ifNoneMatch: '*' });
  } catch (error) {
    if (PreconditionFailedError.isInstance(error)) return undefined;
    throw error;
  }
}

/** Whether `id` can be an entry of the index under `root`: a domain name in the registry's index of domains, a model id in a domain's. */
function isValidId(root: string, id: string): boolean {
  try {
    if (root === layout.domainsIndexRoot()) validateDomain(id);
    else validateModelId(id);
    return true;
  } catch {
    return false;
  }
}

/** Every entry listed under `root`'s log (all pages; entries whose key lacks facts are read). Names that do not parse strictly ({@link parseLogName}), or whose id is not a valid id, are ignored. */
export async function readLog(storage: Storage, root: string): Promise<LogRecord[]> {
  const prefix = `${root}log/`;
  const records: LogRecord[] = [];
  for await (const object of listAll(storage, prefix)) {
    const name = object.key.slice(prefix.length);
    if (name.includes('/')) continue;
    const parsed = parseLogName(name);
    if (parsed && isValidId(root, parsed.id)) records.push({ ...parsed, key: object.key, written: object.lastModified.getTime() });
  }
  await pMap(
    records.filter((record) => !record.complete),
    async (record) => {
      const body = (await readDocument(storage, record.key).catch(() => undefined))?.value as Record<string, unknown> | undefined;
      if (typeof body?.tag === 'string') record.tag = body.tag;
      if (typeof body?.size === 'number' && Number.isSafeInteger(body.size) && body.size >= 0) record.size = body.size;
      if (typeof body?.library === 'string') record.library = body.library;
      record.complete = true;
    },
    { concurrency: 16 },
  );
  return records;
}

/** The log resolved: the winning `a` entry of each id, and the tags each id's tombstones remove. */
export interface Tail {
  adds: Map<string, LogRecord>;
  removed: Map<string, Set<string>>;
  records: LogRecord[];
}

/** Resolves listed log entries (see the module comment): per id the `a` entry written last, without those a tombstone removes. */
export function resolveTail(records: LogRecord[]): Tail {
  const adds = new Map<string, LogRecord>();
  const removed = new Map<string, Set<string>>();
  for (const record of records) {
    if (record.kind === 'r') {
      removed.set(record.id, (removed.get(record.id) ?? new Set()).add(record.tag));
      continue;
    }
    const current = adds.get(record.id);
    if (!current || record.written > current.written || (record.written === current.written && comparePositions(record, current) < 0)) adds.set(record.id, record);
  }
  for (const [id, add] of adds) if (removed.get(id)?.has(add.tag)) adds.delete(id);
  return { adds, removed, records };
}

/** Whether the tail hides a checkpoint entry: its id has a newer `a` entry, or a tombstone of its tag. */
export function hiddenBy(tail: Tail, entry: IndexEntry): boolean {
  return tail.adds.has(entry.id) || tail.removed.get(entry.id)?.has(entry.tag) === true;
}

const pointerName = '_last_checkpoint';

const isPosition = (value: unknown): value is [number, string] => Array.isArray(value) && value.length === 2 && typeof value[0] === 'number' && typeof value[1] === 'string';

const positionOf = (at: [number, string]): Position => ({ time: at[0], id: at[1] });

/** Whether the parts agree with the pointer's total `count` (their sum) and with each other (each part's range newest first, each after the one before). */
function consistent(count: unknown, parts: PartRef[]): boolean {
  if (typeof count !== 'number' || count !== parts.reduce((sum, part) => sum + part.count, 0)) return false;
  return parts.every((part, index) => {
    const span = comparePositions(positionOf(part.first), positionOf(part.last));
    if (span > 0 || (span === 0 && part.count !== 1) || (span < 0 && part.count < 2)) return false;
    const previous = parts[index - 1];
    return previous === undefined || comparePositions(positionOf(previous.last), positionOf(part.first)) < 0;
  });
}

/** The pointer under `root`; undefined when missing, not one this library wrote, or inconsistent (its `count` is not the sum of its parts', or their ranges overlap or are out of order) (a damaged pointer is replaced by the next compaction). */
export async function readPointer(storage: Storage, root: string): Promise<{ pointer: IndexPointer | undefined; etag: string | undefined }> {
  const read = await readDocument(storage, `${root}${pointerName}`);
  if (!read) return { pointer: undefined, etag: undefined };
  const value = read.value as Record<string, unknown> | null;
  const parts = value?.parts;
  const valid =
    !read.damaged &&
    typeof value === 'object' &&
    value !== null &&
    value.version === 1 &&
    Array.isArray(parts) &&
    parts.every(
      (part: Record<string, unknown>) =>
        typeof part === 'object' &&
        part !== null &&
        typeof part.key === 'string' &&
        /^checkpoint\/[A-Za-z0-9_-]+\.json$/.test(part.key) &&
        Number.isSafeInteger(part.count) &&
        (part.count as number) > 0 &&
        isPosition(part.first) &&
        isPosition(part.last),
    ) &&
    consistent(value.count, parts as PartRef[]);
  if (!valid) return { pointer: undefined, etag: read.info.etag };
  return {
    pointer: {
      version: 1,
      written: typeof value.written === 'number' ? value.written : 0,
      reconciled: typeof value.reconciled === 'number' ? value.reconciled : null,
      count: typeof value.count === 'number' ? value.count : 0,
      parts: parts as PartRef[],
      etag: read.info.etag,
    },
    etag: read.info.etag,
  };
}

/**
 * Entries of one part; undefined when it is missing, unreadable, or disagrees with what
 * the pointer records of it (its `count`, its first and last positions, entries newest
 * first with no malformed row): a damaged part is treated as a missing one.
 */
export async function readPart(storage: Storage, root: string, part: PartRef): Promise<IndexEntry[] | undefined> {
  const read = await readDocument(storage, `${root}${part.key}`).catch(() => undefined);
  const rows = (read?.value as { entries?: unknown } | undefined)?.entries;
  if (!read || read.damaged || !Array.isArray(rows) || rows.length !== part.count) return undefined;
  const entries: IndexEntry[] = [];
  for (const row of rows) {
    if (!Array.isArray(row) || typeof row[0] !== 'string' || typeof row[1] !== 'number' || typeof row[2] !== 'string') return undefined;
    const previous = entries.at(-1);
    if (previous && comparePositions(previous, { time: row[1], id: row[0] }) >= 0) return undefined;
    const entry: IndexEntry = { id: row[0], time: row[1], tag: row[2] };
    if (typeof row[3] === 'number' && Number.isSafeInteger(row[3]) && row[3] >= 0) entry.size = row[3];
    if (typeof row[4] === 'string') entry.library = row[4];
    entries.push(entry);
  }
  const [first, last] = [entries[0], entries.at(-1)];
  if (!first || !last || first.time !== part.first[0] || first.id !== part.first[1] || last.time !== part.last[0] || last.id !== part.last[1]) return undefined;
  return entries;
}

/** Everything an index holds, read whole. */
export interface IndexState {
  pointer: IndexPointer | undefined;
  /** The pointer's etag as read (also for a pointer that is not valid), for compare-and-swap. */
  pointerEtag: string | undefined;
  tail: Tail;
  /** The checkpoint's entries, newest first, by part. */
  parts: { ref: PartRef; entries: IndexEntry[] }[];
  /** The pointer is there but not valid, or names a part that stayed missing, unreadable or inconsistent with it: the checkpoint could not be read (treated as missing). */
  broken: boolean;
}

/**
 * Reads an index whole: the log (listed first, see the module comment), the pointer,
 * and every part. Storage requests: the log's listing pages, one read of the pointer,
 * one per part. A part gone meanwhile starts it again (3 times); then the checkpoint is
 * treated as missing.
 */
export async function readIndexState(storage: Storage, root: string): Promise<IndexState> {
  for (let attempt = 0; ; attempt++) {
    const tail = resolveTail(await readLog(storage, root));
    const { pointer, etag } = await readPointer(storage, root);
    // A pointer there but not valid (damaged, or inconsistent) is as broken as a part missing.
    if (!pointer) return { pointer: undefined, pointerEtag: etag, tail, parts: [], broken: etag !== undefined };
    const parts = await pMap(pointer.parts, async (ref) => ({ ref, entries: await readPart(storage, root, ref) }), { concurrency: 16 });
    if (parts.every((part) => part.entries !== undefined)) return { pointer, pointerEtag: etag, tail, parts: parts as { ref: PartRef; entries: IndexEntry[] }[], broken: false };
    if (attempt >= 2) return { pointer: undefined, pointerEtag: etag, tail, parts: [], broken: true };
  }
}

/** The entries an index holds by id: the checkpoint's, then the tail applied (see the module comment). */
export function mergedEntries(state: Pick<IndexState, 'tail' | 'parts'>): Map<string, IndexEntry> {
  const entries = new Map<string, IndexEntry>();
  for (const part of state.parts) for (const entry of part.entries) if (!entries.has(entry.id) && !hiddenBy(state.tail, entry)) entries.set(entry.id, entry);
  for (const [id, record] of state.tail.adds) entries.set(id, { id, time: record.time, tag: record.tag, ...(record.size !== undefined ? { size: record.size } : {}), ...(record.library !== undefined ? { library: record.library } : {}) });
  return entries;
}

/** One page of an index, newest first. */
export interface IndexPage {
  entries: IndexEntry[];
  /** Where the next page starts; undefined on the last page. */
  next: Position | undefined;
  pointer: IndexPointer;
  tail: Tail;
}

/**
 * Up to `limit` entries after `after` (from the newest when undefined), merging the
 * checkpoint's parts with the log. Storage requests: the log's listing (one page while
 * the log is shorter than the listing's page), the pointer, and the parts the page
 * spans — one, or two when the page crosses a boundary. `undefined` when the index has
 * no checkpoint (or a part stayed missing after 3 attempts): the caller lists the
 * registry instead. A page may hold fewer than `limit` entries while `next` is defined
 * (entries the log hides); the listing ends when `next` is undefined.
 */
export async function readIndexPage(storage: Storage, root: string, limit: number, after: Position | undefined): Promise<IndexPage | undefined> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const tail = resolveTail(await readLog(storage, root));
    const { pointer } = await readPointer(storage, root);
    if (!pointer) return undefined;
    const isAfter = (position: Position) => after === undefined || comparePositions(after, position) < 0;
    const fromLog = [...tail.adds.values()].filter(isAfter).sort(comparePositions);
    const entries: IndexEntry[] = [];
    let logAt = 0;
    let partAt = pointer.parts.findIndex((part) => isAfter({ time: part.last[0], id: part.last[1] }));
    if (partAt < 0) partAt = pointer.parts.length;
    let buffered: IndexEntry[] = [];
    let missing = false;
    const emittedIds = new Set<string>();
    const take = (entry: IndexEntry) => {
      if (emittedIds.has(entry.id)) return;
      emittedIds.add(entry.id);
      entries.push(entry);
    };
    while (entries.length < limit) {
      if (buffered.length === 0 && partAt < pointer.parts.length) {
        const read = await readPart(storage, root, pointer.parts[partAt]!);
        if (read === undefined) {
          missing = true;
          break;
        }
        buffered = read.filter((entry) => isAfter(entry) && !hiddenBy(tail, entry));
        partAt++;
        continue;
      }
      const fromPart = buffered[0];
      const logged = fromLog[logAt];
      if (fromPart === undefined && logged === undefined) break;
      if (logged === undefined || (fromPart !== undefined && comparePositions(fromPart, logged) < 0)) {
        take(buffered.shift()!);
      } else {
        logAt++;
        take({ id: logged.id, time: logged.time, tag: logged.tag, ...(logged.size !== undefined ? { size: logged.size } : {}), ...(logged.library !== undefined ? { library: logged.library } : {}) });
      }
    }
    if (missing) continue;
    const more = buffered.length > 0 || logAt < fromLog.length || partAt < pointer.parts.length;
    const last = entries.at(-1);
    return { entries, next: more && last ? { time: last.time, id: last.id } : undefined, pointer, tail };
  }
  return undefined;
}

/** What `ModelStore.compactIndex` did. */
export interface CompactionReport {
  /** Whether it published a new checkpoint (false: another writer's compaction won the compare-and-swap, or there was nothing to do). */
  published: boolean;
  /** Entries (models) in the checkpoint it published, or in the current one. */
  entries: number;
  /** Log entries folded into the checkpoint. */
  folded: number;
  /** Parts of the checkpoint (at most 2,000 entries each but for splits). */
  parts: number;
  /** Parts written anew (the others were reused as they were). */
  written: number;
  /** Folded log entries, and parts no pointer names, removed afterwards. */
  removed: number;
  /** Whether it reconciled the index with the listing of the domain's `versions/`. */
  reconciled: boolean;
}

/**
 * Folds the log under `root` into a new checkpoint (see the module comment for why a
 * crash or a concurrent writer at any step loses nothing). `reconcile`, when given,
 * receives the merged entries and returns the entries the checkpoint should hold (the
 * registry's listing is the truth; it runs after the log was listed) — always, or with
 * `reconcileWhen: 'broken'` only when the checkpoint cannot be read (a part missing). Parts whose
 * entries did not change are reused; the others are written under new keys.
 * @throws StorageError when the storage fails before the pointer is published (nothing changed then)
 */
export async function compactIndexLog(
  storage: Storage,
  root: string,
  options: { reconcile?: (merged: Map<string, IndexEntry>) => Promise<Map<string, IndexEntry>>; reconcileWhen?: 'always' | 'broken'; now?: () => number } = {},
): Promise<CompactionReport> {
  const now = options.now ?? Date.now;
  const state = await readIndexState(storage, root);
  let merged = mergedEntries(state);
  // A checkpoint that cannot be read is rebuilt from the registry when a reconciliation is
  // at hand; else (an index of pure cache entries, such as the domains') the new checkpoint
  // holds what the log holds, and readers ask the registry for the rest.
  const reconcile = options.reconcile && (options.reconcileWhen !== 'broken' || state.broken) ? options.reconcile : undefined;
  if (reconcile) merged = await reconcile(merged);
  const sorted = [...merged.values()].sort(comparePositions);
  const { partSize } = indexSettings;

  // Bucket the entries by the old parts' ranges (each old part keeps what falls at or
  // before its last position), so that a part nothing changed in is reused as it is.
  const old = state.parts;
  const buckets: IndexEntry[][] = old.map(() => []);
  if (old.length === 0) buckets.push([]);
  let at = 0;
  for (const entry of sorted) {
    while (at < old.length - 1 && comparePositions(entry, { time: old[at]!.ref.last[0], id: old[at]!.ref.last[1] }) > 0) at++;
    buckets[at]!.push(entry);
  }
  const same = (a: IndexEntry[], b: IndexEntry[]) =>
    a.length === b.length && a.every((entry, i) => entry.id === b[i]!.id && entry.time === b[i]!.time && entry.tag === b[i]!.tag && entry.size === b[i]!.size && entry.library === b[i]!.library);
  const generation = `${now().toString(36)}${randomBytes(4).toString('hex')}`;
  const parts: PartRef[] = [];
  const toWrite: { ref: PartRef; entries: IndexEntry[] }[] = [];
  buckets.forEach((bucket, index) => {
    const previous = old[index];
    if (previous && same(previous.entries, bucket)) {
      parts.push(previous.ref);
      return;
    }
    // Split from the oldest end: full parts stay full, the newest holds the remainder.
    const chunks: IndexEntry[][] = [];
    for (let end = bucket.length; end > 0; end -= partSize) chunks.unshift(bucket.slice(Math.max(0, end - partSize), end));
    for (const chunk of chunks) {
      const ref: PartRef = { key: `checkpoint/${generation}-${toWrite.length}.json`, count: chunk.length, first: [chunk[0]!.time, chunk[0]!.id], last: [chunk.at(-1)!.time, chunk.at(-1)!.id] };
      parts.push(ref);
      toWrite.push({ ref, entries: chunk });
    }
  });
  const unchanged = toWrite.length === 0 && state.pointer !== undefined && parts.length === state.pointer.parts.length && state.tail.records.length === 0 && !reconcile;
  if (unchanged) return { published: false, entries: sorted.length, folded: 0, parts: parts.length, written: 0, removed: await removeStrayParts(storage, root, parts, now() - indexSettings.graceMs), reconciled: false };

  await pMap(toWrite, ({ ref, entries }) => writeJson(storage, `${root}${ref.key}`, { entries: entries.map((entry) => [entry.id, entry.time, entry.tag, entry.size ?? null, entry.library ?? null]) }, { ifNoneMatch: '*' }), {
    concurrency: 8,
  });
  const written = now();
  const document = { version: 1, written, reconciled: reconcile ? written : (state.pointer?.reconciled ?? null), count: sorted.length, parts };
  try {
    await writeJson(storage, `${root}${pointerName}`, document, state.pointerEtag !== undefined ? { ifMatch: state.pointerEtag } : { ifNoneMatch: '*' });
  } catch (error) {
    if (!PreconditionFailedError.isInstance(error)) throw error;
    // Another compaction published first: ours holds nothing theirs lacks for good
    // (the log entries we listed are still there, or in theirs). Our new parts are
    // named by no pointer; the next compaction removes them once old.
    return { published: false, entries: sorted.length, folded: 0, parts: parts.length, written: toWrite.length, removed: 0, reconciled: false };
  }

  // Published: what it folded can go. Best effort; a leftover is resolved by readers and
  // removed by the next compaction.
  const cutoff = now() - indexSettings.graceMs;
  const folded = state.tail.records.filter((record) => record.kind === 'a' || record.written <= cutoff);
  let removed = 0;
  await pMap(
    folded,
    (record) =>
      storage.delete(record.key).then(
        (gone) => void (gone && removed++),
        () => undefined,
      ),
    { concurrency: 16 },
  );
  removed += await removeStrayParts(storage, root, parts, cutoff);
  return { published: true, entries: sorted.length, folded: folded.length, parts: parts.length, written: toWrite.length, removed, reconciled: reconcile !== undefined };
}

/** Removes the parts under `root` that `parts` does not name and that were written at or before `cutoff` (ms); best effort. @returns how many */
async function removeStrayParts(storage: Storage, root: string, parts: PartRef[], cutoff: number): Promise<number> {
  const named = new Set(parts.map((part) => `${root}${part.key}`));
  const stale: ObjectInfo[] = [];
  try {
    for await (const object of listAll(storage, `${root}checkpoint/`)) if (!named.has(object.key) && object.lastModified.getTime() <= cutoff) stale.push(object);
  } catch {
    return 0;
  }
  let removed = 0;
  await pMap(
    stale,
    (object) =>
      storage.delete(object.key).then(
        (gone) => void (gone && removed++),
        () => undefined,
      ),
    { concurrency: 16 },
  );
  return removed;
}

/**
 * After an append: with probability {@link IndexSettings.checkChance}, lists the log and
 * compacts it when it holds {@link IndexSettings.compactAt} entries or more — or, when
 * `reconcileEveryMs` is given, reads the pointer too and compacts when its checkpoint
 * was last reconciled more than `reconcileEveryMs` ago (or never), whatever the log's
 * length. The appends that do not check (15 in 16) make no request here; a check costs
 * the log's listing and, for a short log, one read of the pointer. Never throws: the
 * index only saves requests.
 */
export async function compactIfDue(storage: Storage, root: string, compact: () => Promise<unknown>, random: () => number = Math.random, reconcileEveryMs?: number): Promise<boolean> {
  if (random() >= indexSettings.checkChance) return false;
  try {
    let count = 0;
    for await (const _ of listAll(storage, `${root}log/`)) if (++count >= indexSettings.compactAt) break;
    if (count < indexSettings.compactAt) {
      if (reconcileEveryMs === undefined) return false;
      const { pointer } = await readPointer(storage, root);
      if (!pointer || (pointer.reconciled !== null && Date.now() - pointer.reconciled <= reconcileEveryMs)) return false;
    }
    await compact();
    return true;
  } catch {
    return false;
  }
}
