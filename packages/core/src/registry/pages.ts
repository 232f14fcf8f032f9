/**
 * Pages of a domain's models (`listModels` and `listModelSummaries` with `limit`), newest
 * first, with an opaque cursor: from the domain's append-only index when it has a
 * checkpoint ({@link listModelPage}), so that a page costs the same few requests at any
 * domain size; a page of a state's models is a slice of the state's whole listing.
 */
import pMap from 'p-map';
import { deletedState } from '../names.js';
import { archiveKeyFromLocation, layout } from '../registry-layout.js';
import type { Storage } from '../storage.js';
import { decodeCursor, encodeCursor, listModelPage, type PageOfEntries, slicePage, timesOf } from './creation-index.js';
import { listNames, listVersions, readModels } from './documents.js';
import type { IndexEntry, Position } from './index-log.js';
import { requireState } from './states.js';
import { listSummaries, type ModelSummary } from './summaries.js';

/** A page of model ids, newest first. */
export interface ModelPage {
  /** Model ids, newest first (ties by id, descending). */
  models: string[];
  /** Pass it back as `cursor` for the next page; absent on the last page. */
  cursor?: string;
}

/** A page of model summaries, newest first. */
export interface ModelSummaryPage {
  /** The models of the page, newest first (ties by id, descending). */
  models: ModelSummary[];
  /** Pass it back as `cursor` for the next page; absent on the last page. */
  cursor?: string;
}

/** Options of a page. */
export interface PageOptions {
  state?: string;
  limit: number;
  cursor?: string;
}

const cursorOf = (domain: string, state: string | undefined, next: Position | undefined) => (next ? { cursor: encodeCursor({ domain, state, after: next }) } : {});

/**
 * A page of the domain's model ids (see {@link listModelPage} for the requests and what a
 * page may miss). With `state`: a slice of the state's whole listing.
 * @throws InvalidOptionError for a bad cursor; DomainNotFoundError; StateNotFoundError
 */
export async function modelPage(storage: Storage, domain: string, options: PageOptions): Promise<ModelPage> {
  const after = options.cursor === undefined ? undefined : decodeCursor('listModels', options.cursor, domain, options.state);
  let page: PageOfEntries;
  if (options.state !== undefined) {
    // As modelsInState: the live documents that the state holds a copy of.
    await requireState(storage, options.state);
    const { documents, copies } = await listVersions(storage, domain);
    const times = await timesOf(
      storage,
      domain,
      documents.filter(({ name }) => copies.get(name)?.includes(options.state!)),
    );
    page = slicePage(
      [...times].map(([id, time]) => ({ id, time, tag: '' })),
      options.limit,
      after,
    );
  } else page = await listModelPage(storage, domain, options.limit, after);
  return { models: page.entries.map((entry) => entry.id), ...cursorOf(domain, options.state, page.next) };
}

/**
 * A page of the domain's model summaries. Without `state`: the page of
 * {@link modelPage}, plus one listing of the states and one of each defined state's
 * copies (`versions/<state>/`), plus a read (and a `head`) per model of the page whose
 * size or library the index lacks. With `state`: a slice of `listSummaries`.
 * @throws InvalidOptionError for a bad cursor; DomainNotFoundError; StateNotFoundError
 */
export async function summaryPage(storage: Storage, domain: string, options: PageOptions): Promise<ModelSummaryPage> {
  const after = options.cursor === undefined ? undefined : decodeCursor('listModelSummaries', options.cursor, domain, options.state);
  if (options.state !== undefined) {
    const all = await listSummaries(storage, domain, { state: options.state });
    const timeOf = (summary: ModelSummary) => (summary.createdAt === null ? 0 : Date.parse(summary.createdAt));
    const byId = new Map(all.map((summary) => [summary.modelId, summary]));
    const page = slicePage(
      all.map((summary) => ({ id: summary.modelId, time: timeOf(summary), tag: '' })),
      options.limit,
      after,
    );
    return { models: page.entries.map((entry) => byId.get(entry.id)!), ...cursorOf(domain, options.state, page.next) };
  }
  const [page, defined] = await Promise.all([listModelPage(storage, domain, options.limit, after, true), listNames(storage, layout.states(), '.json', 'state').then((names) => names.filter((name) => name !== deletedState))]);
  const members = await pMap(defined, async (state) => ({ state, ids: new Set(await listNames(storage, layout.stateVersions(domain, state), '.json', 'model id')) }), { concurrency: 8 });
  const completed = await complete(storage, domain, page.entries);
  return {
    models: completed.map((entry) => ({
      modelId: entry.id,
      createdAt: entry.time > 0 && Number.isFinite(entry.time) ? new Date(entry.time).toISOString() : null,
      size: entry.size ?? null,
      library: entry.library ?? null,
      states: members
        .filter(({ ids }) => ids.has(entry.id))
        .map(({ state }) => state)
        .sort(),
    })),
    ...cursorOf(domain, undefined, page.next),
  };
}

/** Entries with their size and library: those the index lacks are read from the document (and its archive's `head`). A document gone meanwhile keeps what the index said. */
async function complete(storage: Storage, domain: string, entries: IndexEntry[]): Promise<IndexEntry[]> {
  const lacking = entries.filter((entry) => entry.size === undefined || entry.library === undefined);
  if (lacking.length === 0) return entries;
  const models = await readModels(
    storage,
    lacking.map((entry) => layout.version(domain, entry.id)),
  );
  const found = new Map<string, IndexEntry>();
  await pMap(
    lacking,
    async (entry, position) => {
      const model = models[position];
      if (!model) return;
      let size = entry.size ?? model.metadata.archive?.size;
      if (typeof size !== 'number') {
        const key = archiveKeyFromLocation(model.metadata.storage);
        size = key === undefined ? undefined : (await storage.head(key).catch(() => undefined))?.size;
      }
      const library = entry.library ?? model.metadata.model.model_type?.library;
      found.set(entry.id, { ...entry, ...(typeof size === 'number' ? { size } : {}), ...(typeof library === 'string' ? { library } : {}) });
    },
    { concurrency: 16 },
  );
  return entries.map((entry) => found.get(entry.id) ?? entry);
}
