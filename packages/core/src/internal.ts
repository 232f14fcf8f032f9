/**
 * `@modelstore/core/internal`: what the modelstore packages share with each other and
 * that is not part of the user's API: the registry's key layout, the stamps of archive
 * folders, the archive path check and the file-handle writer, the probe keys of
 * `checkStorage`, and the loader of an adapter's optional runtime.
 *
 * **No stability promise across minor versions** (nor patches): anything here may change
 * or go in any release, with no deprecation. The `@modelstore/*` packages that import it
 * are released together with core; code outside this repository should use the root
 * export (`@modelstore/core`) and `@modelstore/core/storage-kit`, which keep their promises.
 *
 * @packageDocumentation
 */
export { registryRoot, layout, archiveFolder, createdStamp, parseCreatedStamp, archiveKeyFromLocation } from './registry-layout.js';
export { validateArchivePath, fileHandleWriter } from './archive.js';
export { probeKeyPrefix, staleProbeAge, conditionalWritesAdvice } from './check-storage.js';
export { importOptional, isFileWithExtension } from './optional-dependency.js';
export { indexSettings, tagOf, compactIndexLog, readIndexState, readIndexPage, mergedEntries } from './registry/index-log.js';
export type { IndexSettings, IndexEntry, IndexState } from './registry/index-log.js';
export { knownAdapters } from './model-store.js';
