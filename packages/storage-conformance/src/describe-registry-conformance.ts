import { RawAdapter } from '@modelstore/adapter-raw';
import { ModelStore, type Storage } from '@modelstore/core';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { registryArchiveTests } from './registry/archives.js';
import { registryCacheTests } from './registry/cache.js';
import type { RegistryConformanceContext, RegistryConformanceGroup, RegistryConformanceOptions } from './registry/context.js';
import { registryCopyTests } from './registry/copy.js';
import { registryFailureTests } from './registry/failures.js';
import { registryGarbageCollectionTests } from './registry/garbage-collection.js';
import { registryListingTests } from './registry/listing.js';
import { registryNameTests } from './registry/names.js';
import { registryPythonFixtureTests } from './registry/python-fixture.js';
import { registryRaceTests } from './registry/races.js';
import { registryRoundTripTests } from './registry/round-trip.js';
import { registryStateTests } from './registry/states.js';
import { conformanceGroups, registerGroups } from './groups.js';
import { resolveTestApi } from './test-api.js';

export type { RegistryConformanceContext, RegistryConformanceGroup, RegistryConformanceOptions, RegistryUploadOptions } from './registry/context.js';

/** The groups of the registry suite in the order they are registered, each with the function that registers it. */
export const registryConformanceGroups: ReadonlyArray<{
  name: RegistryConformanceGroup;
  register<S extends Storage>(ctx: RegistryConformanceContext<S>): void;
}> = conformanceGroups<RegistryConformanceGroup, <S extends Storage>(ctx: RegistryConformanceContext<S>) => void>({
  'round trips': registryRoundTripTests,
  states: registryStateTests,
  names: registryNameTests,
  listing: registryListingTests,
  races: registryRaceTests,
  failures: registryFailureTests,
  archives: registryArchiveTests,
  copy: registryCopyTests,
  'garbage collection': registryGarbageCollectionTests,
  cache: registryCacheTests,
  'python fixture': registryPythonFixtureTests,
});

/**
 * Registers the registry suite with the test runner (jest's `@jest/globals` unless
 * `options.test` names another): `ModelStore` end to end on a store (upload, list,
 * states, download, load, delete, races, hostile and corrupt archives, and the
 * Python modelstore fixture when given). Each test gets a fresh store from
 * `createStorage` and its own temporary folder.
 *
 * @throws Error while registering when no `test` is given and `@jest/globals` cannot be loaded.
 */
export function describeRegistryConformance<S extends Storage>(options: RegistryConformanceOptions<S>): void {
  const test = resolveTestApi(options.test);
  const { describe, beforeEach, afterEach } = test;

  let current: { storage: S; work: string; store: ModelStore; modelFile: string; extraFiles: string[] } | undefined;
  const now = () => {
    if (current === undefined) throw new Error('The registry conformance context is only set inside a running test');
    return current;
  };
  const open = (inner: Storage = now().storage) => new ModelStore({ storage: inner, adapters: [new RawAdapter()], cacheDir: path.join(now().work, 'cache') });
  const ctx: RegistryConformanceContext<S> = {
    options,
    test,
    timeout: options.timeout ?? 60_000,
    get storage() {
      return now().storage;
    },
    get store() {
      return now().store;
    },
    get work() {
      return now().work;
    },
    get modelFile() {
      return now().modelFile;
    },
    get extraFiles() {
      return now().extraFiles;
    },
    open,
    upload: (domain, extra = {}) => now().store.upload(domain, { model: now().modelFile, extraFiles: now().extraFiles, extraMetadata: { accuracy: 0.9 }, ...extra }),
  };

  describe(`Registry conformance: ${options.name}`, () => {
    beforeEach(async () => {
      const storage = await options.createStorage();
      const work = mkdtempSync(path.join(tmpdir(), 'modelstore-registry-'));
      const modelFile = path.join(work, 'model.bin');
      writeFileSync(modelFile, Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256)));
      const extraFiles = [path.join(work, 'README.txt'), path.join(work, 'labels.json')];
      writeFileSync(extraFiles[0]!, 'A churn model.\n');
      writeFileSync(extraFiles[1]!, JSON.stringify(['stay', 'leave']));
      current = { storage, work, modelFile, extraFiles, store: undefined as unknown as ModelStore };
      current.store = open(storage);
    });
    afterEach(async () => {
      const done = current;
      current = undefined;
      if (done === undefined) return;
      rmSync(done.work, { recursive: true, force: true });
      await options.destroyStorage?.(done.storage);
    });

    registerGroups(registryConformanceGroups, ctx, { skip: options.skip });

    options.additionalTests?.(ctx);
  });
}
