/**
 * A domain's models with what a listing shows of each (time, size, library, states),
 * from one listing of `<domain>/versions/` (the documents and every state's copies),
 * the domain's index and the list of states: no read per model that this library wrote.
 */
import { DomainNotFoundError, StateNotFoundError } from '../errors.js';
import { deletedState } from '../names.js';
import { layout } from '../registry-layout.js';
import type { Storage } from '../storage.js';
import { factsOf } from './creation-index.js';
import { listNames, listVersions } from './documents.js';
import { sortByTime } from './order.js';

/** One model of a domain, as `ModelStore.listModelSummaries` gives it. */
export interface ModelSummary {
  /** The model id. */
  modelId: string;
  /** When the model was made (`createdTime`), ISO 8601 in UTC; `null` for a damaged document or one that records no time. */
  createdAt: string | null;
  /** The archive's size in bytes; `null` when neither the metadata nor the storage tells it. */
  size: number | null;
  /** `model.model_type.library` (`"sklearn"`, `"onnx"`, `"model_file"`, …); `null` when not recorded. */
  library: string | null;
  /** The states the model is in (defined states only; never the deleted state), sorted. */
  states: string[];
}

/**
 * The domain's live models newest first (ties by id, descending, as `listModels`), or
 * only those in `state`. Storage requests: the listing's pages of `<domain>/versions/`,
 * one read of the index, one listing of the states, and one read (plus, for a document
 * that records no archive size, one `head`) per model the index does not describe.
 * @throws DomainNotFoundError when the domain has no model and no latest pointer; StateNotFoundError when `state` is not a defined state
 */
export async function listSummaries(storage: Storage, domain: string, options: { state?: string } = {}): Promise<ModelSummary[]> {
  const [{ documents, copies }, defined] = await Promise.all([listVersions(storage, domain), listNames(storage, layout.states(), '.json', 'state').then((names) => new Set(names.filter((name) => name !== deletedState)))]);
  if (options.state !== undefined && !defined.has(options.state)) throw new StateNotFoundError(options.state);
  if (documents.length === 0 && !(await storage.head(layout.domain(domain)))) throw new DomainNotFoundError(domain);
  const statesOf = (id: string) => (copies.get(id) ?? []).filter((state) => defined.has(state)).sort();
  const members = options.state === undefined ? documents : documents.filter(({ name }) => statesOf(name).includes(options.state!));
  const facts = await factsOf(storage, domain, members, true);
  return sortByTime(new Map([...facts].map(([id, { time }]) => [id, time]))).map((modelId) => {
    const { time, size, library } = facts.get(modelId)!;
    return {
      modelId,
      createdAt: time > 0 && Number.isFinite(time) ? new Date(time).toISOString() : null,
      size: size ?? null,
      library: library ?? null,
      states: statesOf(modelId),
    };
  });
}
