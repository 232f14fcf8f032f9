/**
 * The registry's domains, the one with the newest latest model first: from the listing
 * of `domains/` (the truth: which domains exist, and the version of each pointer) and the
 * registry's append-only index of domains (`modelstore-index/domains/`, see
 * `index-log.ts`), which records the time of the model each upload moved a pointer to,
 * with the version of the pointer it wrote. A pointer whose listed version the index
 * recorded costs no read; any other (written by Python modelstore, repaired, moved back by
 * a delete, or whose log entry was lost) is read as before, with its live model.
 */
import pMap from 'p-map';
import { IntegrityError } from '../errors.js';
import { layout } from '../registry-layout.js';
import type { Storage } from '../storage.js';
import { listObjects } from './documents.js';
import { type IndexEntry, mergedEntries, readIndexState, tagOf } from './index-log.js';
import { latest } from './latest.js';
import { modelTime } from './order.js';

/**
 * Domains, newest latest model first (ties by name). A domain whose pointer cannot be
 * read, or names no live model while none remains, is listed last; one whose pointer was
 * removed since the listing is left out. Storage requests: the listing's pages of
 * `domains/` (one per 1,000 domains), the index's log listing, pointer and parts (one per
 * 2,000 domains), and two reads per domain the index does not describe.
 */
export async function listDomains(storage: Storage): Promise<string[]> {
  const [objects, known] = await Promise.all([
    listObjects(storage, layout.domains(), '.json', 'domain'),
    readIndexState(storage, layout.domainsIndexRoot()).then(
      (state) => mergedEntries(state),
      () => new Map<string, IndexEntry>(),
    ),
  ]);
  const times = new Map<string, number | undefined>();
  const unknown: string[] = [];
  for (const { name, info } of objects) {
    const entry = known.get(name);
    if (entry && entry.tag === tagOf(info.etag)) times.set(name, entry.time);
    else unknown.push(name);
  }
  const read = await pMap<string, number | undefined>(
    unknown,
    (name) =>
      latest(storage, name).then(
        ({ model, pointer }) => (pointer === undefined && model === undefined ? undefined : model ? modelTime(model) : 0),
        (error: unknown) => (IntegrityError.isInstance(error) ? 0 : Promise.reject(error)),
      ),
    { concurrency: 16 },
  );
  unknown.forEach((name, index) => times.set(name, read[index]));
  const names = objects.map(({ name }) => name);
  // Pointers deleted since the listing (undefined) are left out.
  return names.filter((name) => times.get(name) !== undefined).sort((a, b) => times.get(b)! - times.get(a)! || (a < b ? -1 : a > b ? 1 : 0));
}
