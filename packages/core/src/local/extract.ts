/** Extracting a model's archive from a storage into a local folder, verified before it appears. */
import { rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { extractArchive, validateArchivePath } from '../archive.js';
import { abortReason } from '../body.js';
import { IntegrityError } from '../errors.js';
import type { ModelMetadata } from '../metadata.js';
import { archiveKeyFromLocation } from '../registry-layout.js';
import type { Storage } from '../storage.js';
import type { TransferProgress } from '../upload.js';
import { localError, placeVerified, prepareDestination } from './destination.js';

/** What `extractModel` does with the destination and the transfer. */
export interface ExtractOptions {
  /** Replace a non-empty destination. */
  overwrite?: boolean;
  /** A non-empty destination is kept as it is (another process filled the cache entry with the same model). */
  keepExisting?: boolean;
  /** `phase: 'downloading'`: archive bytes read against the archive's size (see `TransferProgress`). */
  onProgress?(progress: TransferProgress): void;
  signal?: AbortSignal;
  /** Runs on the extracted, digest-checked staging folder before it is moved into place (the signature check); an error leaves nothing at the destination. */
  check?(staging: string): Promise<unknown>;
}

/** The archive's key from the model's metadata. @throws IntegrityError when it names nothing inside the registry */
export function archiveKeyOf(metadata: ModelMetadata): string {
  const key = archiveKeyFromLocation(metadata.storage);
  try {
    if (key === undefined) throw new Error('no archive location');
    validateArchivePath(key);
  } catch {
    throw new IntegrityError(`The metadata of model "${metadata.model?.model_id}" does not name an archive inside the registry (storage: ${JSON.stringify(metadata.storage)})`);
  }
  return key;
}

/**
 * Streams the model's archive into a staging folder beside (or, for a mount point,
 * inside) `to`, verifies every digest the metadata recorded, and moves it into place.
 * @returns `to`
 * @throws DestinationExistsError, LocalFileError, IntegrityError, UnsafeArchiveError, StorageError
 */
export async function extractModel(storage: Storage, metadata: ModelMetadata, to: string, options: ExtractOptions): Promise<string> {
  const archiveKey = archiveKeyOf(metadata);
  const destination = await prepareDestination(to, options);
  try {
    const object = await storage.get(archiveKey, options.signal ? { signal: options.signal } : {});
    if (!object) throw new IntegrityError(`The archive of model "${metadata.model.model_id}" is missing from storage (${archiveKey})`);
    let read = 0;
    const { onProgress } = options;
    const totalBytes = typeof metadata.archive?.size === 'number' ? metadata.archive.size : object.size;
    onProgress?.({ phase: 'downloading', bytes: 0, totalBytes });
    const body = onProgress
      ? (async function* () {
          for await (const chunk of object.body as AsyncIterable<Buffer>) {
            read += chunk.length;
            onProgress({ phase: 'downloading', bytes: read, totalBytes });
            yield chunk;
          }
        })()
      : object.body;
    await extractArchive(body instanceof Readable ? body : Readable.from(body as AsyncIterable<Buffer>), destination.staging, metadata.archive ?? {}).catch((error: unknown) =>
      Promise.reject(localError(error, destination.staging, 'write the model into')),
    );
    if (options.signal?.aborted) throw abortReason(options.signal);
    if (options.check) await options.check(destination.staging);
    const placed = await placeVerified(destination, options).catch((error: unknown) => Promise.reject(localError(error, destination.directory, 'move the verified model into')));
    if (!placed) await removeTree(destination.staging);
    return to;
  } catch (error) {
    await removeTree(destination.staging);
    if (destination.createdParent !== undefined) await removeEmptyDirectories(path.dirname(destination.directory), destination.createdParent);
    throw error;
  }
}

async function removeTree(directory: string): Promise<void> {
  await rm(directory, { recursive: true, force: true });
}

/** Removes `directory` and its parents up to and including `top`, while they are empty. */
async function removeEmptyDirectories(directory: string, top: string): Promise<void> {
  for (let current = directory; current.startsWith(top); current = path.dirname(current)) {
    if (
      !(await rmdir(current).then(
        () => true,
        () => false,
      ))
    )
      return;
    if (current === top) return;
  }
}
