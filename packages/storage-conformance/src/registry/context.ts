import type { ModelStore, Storage } from '@modelstore/core';
import type { ConformanceContext, ConformanceTestApi } from '../test-api.js';

/** Test groups of the registry suite; each can be switched off with `skip`. */
export type RegistryConformanceGroup = 'round trips' | 'states' | 'names' | 'listing' | 'races' | 'failures' | 'archives' | 'copy' | 'garbage collection' | 'cache' | 'python fixture';

export interface RegistryConformanceOptions<S extends Storage = Storage> {
  /** Shown in the test names. */
  name: string;
  /** A fresh, empty store for each test. */
  createStorage(): S | Promise<S>;
  /** Called after each test with the store `createStorage` returned. */
  destroyStorage?(storage: S): void | Promise<void>;
  /**
   * The `python-modelstore` fixture folder (a registry written by Python modelstore
   * and its `expected.json`). Its files are copied into the store with `put`.
   */
  pythonFixture?: string;
  /** Milliseconds for each test (default 60 000). */
  timeout?: number;
  /** Groups to leave out, for a documented limitation of a third-party server. Not for real backends. */
  skip?: RegistryConformanceGroup[];
  /**
   * The test runner's functions (default: `@jest/globals`, loaded only when this is
   * omitted). Pass vitest's to run the suite under vitest.
   */
  test?: ConformanceTestApi;
  /**
   * Registers the backend's own tests inside the suite's `describe`, after its groups.
   * They get the same fresh store, model files and `ModelStore` per test through `context`.
   */
  additionalTests?(context: RegistryConformanceContext<S>): void;
}

/** What `upload` takes besides the model: `ModelStore.upload`'s second argument. */
export type RegistryUploadOptions = Parameters<ModelStore['upload']>[1];

/**
 * What a group of the registry suite registers its tests with. Everything but
 * `options`, `test`, `timeout` and the functions is only valid inside a running test
 * (it is set in `beforeEach`).
 */
export interface RegistryConformanceContext<S extends Storage = Storage> extends ConformanceContext<RegistryConformanceOptions<S>, S> {
  /** Milliseconds for each test. */
  readonly timeout: number;
  /** A `ModelStore` with the `RawAdapter` on `storage`, caching under `work`. */
  readonly store: ModelStore;
  /** The current test's own temporary folder (removed after the test). */
  readonly work: string;
  /** A 70,000-byte model file in `work`. */
  readonly modelFile: string;
  /** Two small extra files in `work`: `README.txt` and `labels.json`. */
  readonly extraFiles: string[];
  /** A new `ModelStore` with the `RawAdapter` on `inner` (default `storage`), caching under `work`. */
  open(inner?: Storage): ModelStore;
  /** Uploads `modelFile` with `extraFiles` and `{ accuracy: 0.9 }` to `domain`, overridden by `extra`. */
  upload(domain: string, extra?: Partial<RegistryUploadOptions>): ReturnType<ModelStore['upload']>;
}
