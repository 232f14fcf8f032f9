/**
 * The order of models: one creation time per model, the same rule for every reader
 * (listings, the latest pointer, states, the index), ties broken by model id.
 */
import type { ModelMetadata } from '../metadata.js';
import { archiveKeyFromLocation, parseCreatedStamp } from '../registry-layout.js';
import type { StoredModel } from './documents.js';

/** The widest UTC offsets in use: UTC−12:00 to UTC+14:00, in ms. */
const westmostOffset = -12 * 3600_000;
const eastmostOffset = 14 * 3600_000;
/** Every UTC offset in use is a whole number of quarter hours. */
const quarterHour = 15 * 60_000;

/**
 * The creation time this library orders a model by, in ms since the epoch (0 when
 * nothing is known):
 * - `code.created_at` (ISO-8601 UTC, written by this library) when present;
 * - else Python modelstore's `code.created`, which is the uploading machine's *local*
 *   time with no zone, converted to UTC with the writer's offset inferred from
 *   `documentTime`, the storage's own last-modified time of the model's
 *   `versions/<id>.json`: the stamp read as UTC minus that time, rounded to the
 *   nearest quarter hour (every zone's offset is a multiple of 15 minutes; the upload
 *   itself takes seconds). So a model uploaded from Tokyo (UTC+9) two seconds before one
 *   from Node is older, as it really is, instead of nine hours newer;
 * - when the inferred offset is not one in use (−12 h to +14 h) — the document was
 *   copied or rewritten long after it was made, so its storage time says nothing of
 *   the writer's zone — or no storage time is known, the stamp read as UTC, which
 *   orders Python's models among themselves as Python modelstore does.
 */
export function createdTime(metadata: ModelMetadata, documentTime?: Date): number {
  const precise = Date.parse(typeof metadata.code?.created_at === 'string' ? metadata.code.created_at : '');
  if (!Number.isNaN(precise)) return precise;
  const stamp = parseCreatedStamp(typeof metadata.code?.created === 'string' ? metadata.code.created : undefined);
  if (Number.isNaN(stamp)) return documentTime?.getTime() || 0;
  const stored = documentTime?.getTime();
  if (stored === undefined || Number.isNaN(stored)) return stamp;
  const offset = Math.round((stamp - stored) / quarterHour) * quarterHour;
  return offset >= westmostOffset && offset <= eastmostOffset ? stamp - offset : stamp;
}

/** A committed model's time: {@link createdTime} with its document's storage time. */
export const modelTime = (model: StoredModel): number => createdTime(model.metadata, model.info.lastModified);

/** Newest first; ties by model id (descending), so every reader agrees. */
export function newestFirst(a: StoredModel, b: StoredModel): number {
  const difference = modelTime(b) - modelTime(a);
  const x = a.metadata.model.model_id;
  const y = b.metadata.model.model_id;
  return difference !== 0 ? difference : x < y ? 1 : x > y ? -1 : 0;
}

/** Ids by time, newest first; ties by id, descending, as {@link newestFirst}. */
export function sortByTime(times: Map<string, number>): string[] {
  return [...times.keys()].sort((a, b) => times.get(b)! - times.get(a)! || (a < b ? 1 : a > b ? -1 : 0));
}

/** Whether two documents describe the same upload of a model (a re-used id is another model). */
export function sameModel(a: ModelMetadata, b: ModelMetadata): boolean {
  if (a.model.model_id !== b.model.model_id || a.model.domain !== b.model.domain) return false;
  const ours = a.archive?.upload_id;
  const theirs = b.archive?.upload_id;
  if (typeof ours === 'string' || typeof theirs === 'string') return ours === theirs;
  const key = archiveKeyFromLocation(a.storage);
  return key !== undefined && key === archiveKeyFromLocation(b.storage);
}
