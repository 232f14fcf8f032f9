import { InvalidArgumentError, type Storage, type StorageCapabilities } from '@modelstore/core';
import { randomBytes } from 'node:crypto';
import { storageAbortTests } from './storage/abort.js';
import { storageConcurrencyTests } from './storage/concurrency.js';
import { storageConditionalWriteTests } from './storage/conditional.js';
import type { ConformanceGroup, StorageConformanceContext, StorageConformanceOptions } from './storage/context.js';
import { storageDeleteTests } from './storage/delete.js';
import { storageHeadTests } from './storage/head.js';
import { storageKeyTests } from './storage/keys.js';
import { storageLargeObjectTests } from './storage/large-objects.js';
import { storageListTests } from './storage/list.js';
import { storageRangeReadTests } from './storage/range-reads.js';
import { storageRoundTripTests } from './storage/round-trips.js';
import { conformanceGroups, registerGroups } from './groups.js';
import { resolveTestApi } from './test-api.js';

export type { ConformanceGroup, StorageConformanceContext, StorageConformanceOptions } from './storage/context.js';
export { invalidKeys } from './storage/keys.js';

function probeCapabilities<S extends Storage>(options: StorageConformanceOptions<S>): StorageCapabilities {
  const storage = options.createStorage();
  if (typeof (storage as Partial<PromiseLike<S>>).then === 'function') {
    throw new InvalidArgumentError(`createStorage() of ${options.name} is asynchronous: pass its capabilities to describeStorageConformance({ capabilities })`, { argument: 'capabilities' });
  }
  const { conditionalWrites, rangeReads } = (storage as S).capabilities;
  void options.destroyStorage?.(storage as S);
  return { conditionalWrites, rangeReads };
}

/**
 * The groups of the storage suite in the order they are registered, each with the
 * capability it needs (`undefined`: every store) and the function that registers it.
 */
export const storageConformanceGroups: ReadonlyArray<{
  name: ConformanceGroup;
  requires?: keyof StorageCapabilities;
  register<S extends Storage>(ctx: StorageConformanceContext<S>): void;
}> = conformanceGroups<ConformanceGroup, <S extends Storage>(ctx: StorageConformanceContext<S>) => void>(
  {
    'round trips': storageRoundTripTests,
    'large objects': storageLargeObjectTests,
    head: storageHeadTests,
    list: storageListTests,
    delete: storageDeleteTests,
    keys: storageKeyTests,
    'range reads': storageRangeReadTests,
    'conditional writes': storageConditionalWriteTests,
    concurrency: storageConcurrencyTests,
    abort: storageAbortTests,
  },
  { 'range reads': 'rangeReads', 'conditional writes': 'conditionalWrites' },
);

/**
 * Registers the Storage conformance suite with the test runner (jest's
 * `@jest/globals` unless `options.test` names another). Call it at the top level
 * of a test file; add your backend's own cases after it, or through
 * `options.additionalTests` to share its fresh store per test.
 *
 * ```ts
 * describeStorageConformance({ name: 'MyStorage', createStorage: () => new MyStorage(...) });
 * ```
 *
 * @throws Error while registering when `createStorage()` is asynchronous and
 *   `capabilities` is not given, or when no `test` is given and `@jest/globals` cannot be loaded.
 */
export function describeStorageConformance<S extends Storage>(options: StorageConformanceOptions<S>): void {
  const test = resolveTestApi(options.test);
  const { describe, it, expect, beforeEach, afterEach } = test;
  const capabilities = options.capabilities ?? probeCapabilities(options);

  let storage: S | undefined;
  let prefix: string | undefined;
  const current = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`The conformance context's ${what} is only set inside a running test`);
    return value;
  };
  const ctx: StorageConformanceContext<S> = {
    options,
    test,
    capabilities,
    slowTestTimeout: options.slowTestTimeout ?? 120_000,
    get storage() {
      return current(storage, 'storage');
    },
    get prefix() {
      return current(prefix, 'prefix');
    },
    key: (name) => `${current(prefix, 'prefix')}${name}`,
  };

  describe(`Storage conformance: ${options.name}`, () => {
    beforeEach(async () => {
      storage = await options.createStorage();
      prefix = `conformance-${randomBytes(6).toString('hex')}/`;
    });
    afterEach(async () => {
      const used = storage;
      storage = undefined;
      prefix = undefined;
      if (used !== undefined) await options.destroyStorage?.(used);
    });

    it('declares the v1 contract and the expected capabilities', () => {
      expect(ctx.storage.specificationVersion).toBe('v1');
      expect({ ...ctx.storage.capabilities }).toEqual({ ...capabilities });
      expect(typeof ctx.storage.describe('a/b').type).toBe('string');
    });

    registerGroups(storageConformanceGroups, ctx, { skip: options.skip, capabilities, describe });

    options.additionalTests?.(ctx);
  });
}
