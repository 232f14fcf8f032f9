import type { Storage, StorageCapabilities } from '@modelstore/core';
import type { ConformanceContext, ConformanceTestApi } from '../test-api.js';

/** Test groups of the storage suite; each can be switched off with `skip`. */
export type ConformanceGroup = 'round trips' | 'large objects' | 'head' | 'list' | 'delete' | 'keys' | 'range reads' | 'conditional writes' | 'concurrency' | 'abort';

export interface StorageConformanceOptions<S extends Storage = Storage> {
  /** Shown in the test names. */
  name: string;
  /** A fresh store for each test. Tests also use a random key prefix, so stores may share a bucket. */
  createStorage(): S | Promise<S>;
  /** Called after each test with the store `createStorage` returned. */
  destroyStorage?(storage: S): void | Promise<void>;
  /**
   * The capabilities the store declares. Groups that need one it lacks (`range
   * reads`, `conditional writes`) are not registered. When omitted, the suite calls
   * `createStorage()` once while registering, which must then return synchronously.
   * Every test checks that the store it gets declares exactly these.
   */
  capabilities?: StorageCapabilities;
  /**
   * Groups to leave out, for a documented limitation of a third-party server
   * (a test double that ignores conditional headers, say). Not for real backends.
   */
  skip?: ConformanceGroup[];
  /**
   * The store keeps objects in this process's memory (like `MemoryStorage`), so
   * the check that a 64 MiB put is streamed rather than gathered does not apply.
   */
  holdsObjectsInMemory?: boolean;
  /**
   * Most bytes the store may hold in memory while streaming the 64 MiB object
   * (default 40 MiB). A multipart uploader holds about `partSize * (queueSize + 1)`.
   */
  streamingBudget?: number;
  /** Milliseconds allowed for each large-object and concurrency test (default 120 000). */
  slowTestTimeout?: number;
  /**
   * The test runner's functions (default: `@jest/globals`, loaded only when this is
   * omitted). Pass vitest's to run the suite under vitest.
   */
  test?: ConformanceTestApi;
  /**
   * Registers the backend's own tests inside the suite's `describe`, after its groups.
   * They get a fresh store and key prefix per test through `context`, like the suite's.
   */
  additionalTests?(context: StorageConformanceContext<S>): void;
}

/**
 * What a group of the storage suite registers its tests with. `storage`, `prefix`
 * and `key` are only valid inside a running test (they are set in `beforeEach`).
 */
export interface StorageConformanceContext<S extends Storage = Storage> extends ConformanceContext<StorageConformanceOptions<S>, S> {
  /** The capabilities every store must declare. */
  readonly capabilities: StorageCapabilities;
  /** Milliseconds for large-object and concurrency tests. */
  readonly slowTestTimeout: number;
  /** The current test's private key prefix, ending in `/`. */
  readonly prefix: string;
  /** A key inside the current test's prefix. */
  key(name: string): string;
}
