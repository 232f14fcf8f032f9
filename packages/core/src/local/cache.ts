/**
 * `load`'s local cache: extracted models under `<cacheDir>/models/<hash of the storage,
 * the archive's location and its sha256>`, and under `<cacheDir>/refs/` a record per
 * pointer (`domains/<domain>.json` or `versions/<id>.json`) of the model it named, with
 * the etags that tell whether it still does.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { parseJson } from '../json.js';
import { isModelMetadata, type ModelMetadata } from '../metadata.js';
import { layout, registryRoot } from '../registry-layout.js';
import { resolveModel } from '../registry/models.js';
import type { Storage } from '../storage.js';
import { removeStaleStaging } from './destination.js';
import { archiveKeyOf, extractModel } from './extract.js';

/** `load`'s default cache folder: `$XDG_CACHE_HOME/modelstore`, else the platform's cache folder (`~/.cache/modelstore`, `~/Library/Caches/modelstore`, `%LOCALAPPDATA%\\modelstore\\Cache`). */
export function defaultCacheDir(): string {
  if (process.env.XDG_CACHE_HOME) return path.join(process.env.XDG_CACHE_HOME, 'modelstore');
  if (process.platform === 'darwin') return path.join(homedir(), 'Library', 'Caches', 'modelstore');
  if (process.platform === 'win32' && process.env.LOCALAPPDATA) return path.join(process.env.LOCALAPPDATA, 'modelstore', 'Cache');
  return path.join(homedir(), '.cache', 'modelstore');
}

/** A record of a cached model: the pointer's etag, the etag of the document it named, the extracted folder, and the document's text. */
interface CacheRef {
  etag: string;
  versionEtag: string;
  directory: string;
  text: string;
  metadata: ModelMetadata;
}

/** A cache record, or `undefined` (a miss) when it is damaged in any way. */
function parseCacheRef(text: string): CacheRef | undefined {
  try {
    const ref = JSON.parse(text) as Partial<CacheRef>;
    if (typeof ref !== 'object' || ref === null || typeof ref.etag !== 'string' || typeof ref.versionEtag !== 'string' || typeof ref.directory !== 'string' || typeof ref.text !== 'string') return undefined;
    const metadata = parseJson(ref.text);
    return isModelMetadata(metadata) ? { ...(ref as CacheRef), metadata } : undefined;
  } catch {
    return undefined;
  }
}

const exists = (directory: string) =>
  readdir(directory).then(
    () => true,
    () => false,
  );

/** A name for `identity` within this storage's cache: 40 hex characters. */
function cacheName(storage: Storage, identity: string): string {
  return createHash('sha256')
    .update(JSON.stringify(storage.describe(registryRoot)))
    .update('\n')
    .update(identity)
    .digest('hex')
    .slice(0, 40);
}

/**
 * The local folder holding the model `options` name (the latest, `modelId`, or the
 * newest in `state`), extracted and verified on first use. A repeated call for the
 * latest costs two HEADs (the pointer, and the document it named), for a model id one;
 * the newest in a state is found by reading the state each time.
 */
export async function cachedModel(storage: Storage, cacheDir: string, domain: string, options: { modelId?: string; state?: string; signal?: AbortSignal }): Promise<{ metadata: ModelMetadata; directory: string }> {
  const pointerKey = options.state !== undefined ? undefined : options.modelId === undefined ? layout.domain(domain) : layout.version(domain, options.modelId);
  const pointer = pointerKey === undefined ? undefined : await storage.head(pointerKey);
  const refFile = path.join(cacheDir, 'refs', `${cacheName(storage, pointerKey ?? '')}.json`);
  const ref = pointer ? await readFile(refFile, 'utf8').then(parseCacheRef, () => undefined) : undefined;
  const unchanged = async (cached: CacheRef) => {
    if (cached.etag !== pointer?.etag) return false;
    if (options.modelId !== undefined) return true;
    // A pointer left naming a deleted or re-uploaded model must not keep answering from the cache.
    return (await storage.head(layout.version(domain, cached.metadata.model.model_id)))?.etag === cached.versionEtag;
  };
  if (ref && (await unchanged(ref)) && (await exists(ref.directory))) return { metadata: ref.metadata, directory: ref.directory };

  const model = await resolveModel(storage, domain, options, 'load');
  const { metadata } = model;
  const archiveKey = archiveKeyOf(metadata);
  const identity = `${JSON.stringify(storage.describe(archiveKey))}\n${metadata.archive?.sha256 ?? (await storage.head(archiveKey))?.etag ?? ''}`;
  const directory = path.join(cacheDir, 'models', cacheName(storage, identity));
  if (!(await exists(directory))) await extractModel(storage, metadata, directory, { keepExisting: true, ...(options.signal ? { signal: options.signal } : {}) });
  if (pointer) {
    // Best effort: without the record the next load checks the store again.
    const temporary = `${refFile}.${randomBytes(6).toString('hex')}.tmp`;
    const cached: Omit<CacheRef, 'metadata'> = { etag: pointer.etag, versionEtag: model.info.etag, directory, text: model.text };
    await mkdir(path.dirname(refFile), { recursive: true })
      .then(() => writeFile(temporary, JSON.stringify(cached)))
      .then(() => rename(temporary, refFile))
      .catch(() => rm(temporary, { force: true }).catch(() => undefined));
  }
  return { metadata, directory };
}

/**
 * Removes what killed `load`s left in a cache folder (`ModelStoreOptions.cacheDir`):
 * staging folders of processes on this host that are gone (never one in use), and cache
 * records half-written more than an hour ago. Cached models themselves are kept. The
 * CLI runs it as `modelstore gc --local`.
 * @returns the paths removed
 */
export async function cleanModelCache(cacheDir: string = defaultCacheDir()): Promise<{ removed: string[] }> {
  const removed = await removeStaleStaging(path.join(cacheDir, 'models'));
  const refs = path.join(cacheDir, 'refs');
  const hourAgo = Date.now() - 60 * 60 * 1000;
  for (const name of await readdir(refs).catch(() => [] as string[])) {
    if (!name.endsWith('.tmp')) continue;
    const file = path.join(refs, name);
    const old = await stat(file).then(
      (info) => info.mtimeMs < hourAgo,
      () => false,
    );
    if (
      old &&
      (await rm(file, { force: true }).then(
        () => true,
        () => false,
      ))
    )
      removed.push(file);
  }
  return { removed };
}
