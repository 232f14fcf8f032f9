/**
 * Garbage collection: archives that no model's metadata references, left by uploads
 * that died between writing the archive and committing.
 */
import { InvalidOptionError } from '../errors.js';
import { deletedState } from '../names.js';
import { archiveKeyFromLocation, layout, registryRoot } from '../registry-layout.js';
import { bundleName } from '../signing/bundle.js';
import type { ObjectInfo, Storage } from '../storage.js';
import { listAll, readMetadata } from './documents.js';

/** `collectGarbage`'s default grace period: one hour, in ms. */
export const defaultGarbageAge = 60 * 60 * 1000;

/**
 * The shortest grace period `collectGarbage` accepts without `quiesced`: 15 minutes,
 * in ms — twice the longest a commit request can stay in flight with the backends'
 * retry settings (about 7 minutes), leaving room for clock skew.
 */
export const minimumGarbageAge = 15 * 60 * 1000;

/** What `collectGarbage` removed (or would remove), kept, and could not read. */
export interface GarbageReport {
  /** Unreferenced archives older than `olderThan`, and what unfinished writes left (a killed upload's temporary file), removed (with `dryRun`: that would be). */
  removed: ObjectInfo[];
  /** Unreferenced archives kept because they are younger than `olderThan`. */
  kept: ObjectInfo[];
  /** Keys of metadata documents that could not be read (their archives are kept). */
  unreadable: string[];
  /** Whether this was a dry run (nothing removed). */
  dryRun: boolean;
}

/** Options of `collectGarbage`. */
export interface GarbageOptions {
  /** Grace period in milliseconds, by the archive's `lastModified` (default {@link defaultGarbageAge}, at least {@link minimumGarbageAge} unless `quiesced`). */
  olderThan?: number;
  /** Report what would be removed without removing it (default `false`). */
  dryRun?: boolean;
  /** The current time to measure ages against (default: now; not ahead of this machine's clock unless `quiesced`). */
  now?: Date;
  /** No upload is running and none was interrupted recently: allows an `olderThan` below the minimum (default `false`). */
  quiesced?: boolean;
}

/** Checks `collectGarbage`'s options. @throws InvalidOptionError */
export function checkGarbageOptions(options: GarbageOptions): number {
  const olderThan = options.olderThan ?? defaultGarbageAge;
  if (typeof olderThan !== 'number' || !Number.isFinite(olderThan) || olderThan < 0) {
    throw new InvalidOptionError('olderThan', `collectGarbage: olderThan must be a number of milliseconds, at least 0 (got ${String(olderThan)})`);
  }
  if (olderThan < minimumGarbageAge && options.quiesced !== true) {
    throw new InvalidOptionError(
      'olderThan',
      `collectGarbage: olderThan ${olderThan} ms is below the minimum of ${minimumGarbageAge} ms (15 minutes): a commit still in flight could land after its archive was removed. ` +
        'Pass quiesced: true only when no upload is running and the store has applied every request of those that stopped',
    );
  }
  // A clock set ahead shortens the grace period as surely as a small olderThan.
  if (options.now !== undefined && options.now.getTime() > Date.now() + 60_000 && options.quiesced !== true) {
    throw new InvalidOptionError('now', `collectGarbage: now (${options.now.toISOString()}) is ahead of this machine's clock, which would shorten the grace period below its minimum; pass quiesced: true only when no upload is running`);
  }
  return olderThan;
}

/**
 * Removes archives that no model's metadata references — left by uploads that
 * died between writing the archive and committing — once they are older than
 * `olderThan` milliseconds by the archive's `lastModified` (the store's clock).
 * Committed and soft-deleted models are never touched.
 *
 * The grace period protects a late commit: an upload's commit request can still
 * be applied minutes after its process died or gave up (a request the store had
 * already received, or an SDK retry in flight), and an archive removed before
 * that lands leaves a listed model that cannot be downloaded. The bound is the
 * backends' retry settings (5 attempts of at most 60 s each plus backoff: about
 * 7 minutes at worst, see RELIABILITY.md) plus clock skew between this host and
 * the store, so `olderThan` defaults to one hour and may not be less than
 * `minimumGarbageAge` (15 minutes) unless `quiesced` is true. A store that dates
 * an object by the start of its upload rather than its end needs the longest
 * archive upload added to the grace period.
 *
 * Before each removal the model's metadata is read again, so a commit that landed
 * while the registry was listed keeps its archive. An archive is only removed when
 * it is proven an orphan: a model whose metadata document exists but cannot be read
 * (a failed read, or a document this library cannot parse) keeps its archive, and
 * the document is reported in `unreadable`.
 *
 * @param options.olderThan grace period in ms (default 3 600 000; at least 900 000 unless `quiesced`)
 * @param options.dryRun report what would be removed, remove nothing
 * @param options.now the clock to measure ages against (default: now)
 * @param options.quiesced the caller guarantees that no upload is running on this
 *   registry and that every request of one that stopped has been applied (all
 *   writers stopped and the store idle, e.g. in a test); only then may `olderThan`
 *   be below the minimum
 * @returns the orphan archives removed (or that would be), those kept as too young,
 *   and the keys of metadata documents that could not be read (their archives kept)
 * @throws InvalidOptionError when `olderThan` is negative, not a number, or below the minimum without `quiesced`
 * @throws StorageError when the storage fails
 */
export async function collectGarbage(storage: Storage, options: GarbageOptions): Promise<GarbageReport> {
  const olderThan = checkGarbageOptions(options);
  const cutoff = (options.now ?? new Date()).getTime() - olderThan;
  const referenced = new Set<string>();
  // Models (`<domain>/<model_id>`) with a metadata document that could not be read:
  // their archives are kept whatever their age, since nothing proves them orphans.
  const unreadableModels = new Set<string>();
  const unreadable: string[] = [];
  const archives: ObjectInfo[] = [];
  /** Signature bundles (`<folder of the archive>/model.sig`). */
  const bundles: ObjectInfo[] = [];
  for await (const object of listAll(storage, `${registryRoot}/`)) {
    const parts = object.key.split('/');
    // operatorai-model-store/<domain>/versions[/<state>]/<id>.json; a soft-deleted model's
    // archive is garbage too (deleteModel removes it last, so a crash can leave it).
    if (parts.length >= 4 && parts[2] === 'versions' && object.key.endsWith('.json') && !(parts.length === 5 && parts[3] === deletedState)) {
      const metadata = await readMetadata(storage, object.key).catch(() => null);
      if (metadata === null) {
        unreadable.push(object.key);
        unreadableModels.add(`${parts[1]}/${parts[parts.length - 1]!.slice(0, -'.json'.length)}`);
        continue;
      }
      const key = metadata ? archiveKeyFromLocation(metadata.storage) : undefined;
      if (key !== undefined) referenced.add(key);
    } else if (parts.length === 5 && parts[4] === 'artifacts.tar.gz') {
      archives.push(object);
    } else if (parts.length === 5 && parts[4] === bundleName) {
      bundles.push(object);
    }
  }
  // operatorai-model-store/<domain>/<stamp>/<model_id>/artifacts.tar.gz
  const modelOf = (key: string) => {
    const [, domain, , modelId] = key.split('/');
    return { domain: domain!, modelId: modelId! };
  };
  const orphans = archives.filter((object) => {
    const { domain, modelId } = modelOf(object.key);
    return !referenced.has(object.key) && !unreadableModels.has(`${domain}/${modelId}`);
  });
  const old = orphans.filter((object) => object.lastModified.getTime() <= cutoff);
  const kept = orphans.filter((object) => object.lastModified.getTime() > cutoff);
  const removed: ObjectInfo[] = [];
  for (const object of old) {
    // A commit of this model that landed since the listing references it now; a
    // document that cannot be read keeps the archive.
    const { domain, modelId } = modelOf(object.key);
    const versionKey = layout.version(domain, modelId);
    const committed = await readMetadata(storage, versionKey).catch(() => null);
    if (committed === null) {
      unreadable.push(versionKey);
      continue;
    }
    if (committed && archiveKeyFromLocation(committed.storage) === object.key) continue;
    if (!options.dryRun) await storage.delete(object.key);
    removed.push(object);
  }
  // Bundles beside the archives removed, and bundles whose archive is gone (an upload that
  // died between the two, a model deleted before deletes removed its bundle), once as old.
  const archiveKeys = new Set(archives.map((object) => object.key));
  const removedKeys = new Set(removed.map((object) => object.key));
  for (const bundle of bundles) {
    const archiveKey = `${bundle.key.slice(0, -bundleName.length)}artifacts.tar.gz`;
    const orphan = removedKeys.has(archiveKey) || (!archiveKeys.has(archiveKey) && !referenced.has(archiveKey) && bundle.lastModified.getTime() <= cutoff);
    if (!orphan || (!removedKeys.has(archiveKey) && (await storage.head(archiveKey)))) continue;
    if (!options.dryRun) await storage.delete(bundle.key);
    removed.push(bundle);
  }
  // What writes that never finished left (a killed upload's temporary file on a folder store).
  if (storage.removeAbandonedWrites) removed.push(...(await storage.removeAbandonedWrites({ before: new Date(cutoff), dryRun: options.dryRun ?? false })));
  return { removed, kept, unreadable, dryRun: options.dryRun ?? false };
}
