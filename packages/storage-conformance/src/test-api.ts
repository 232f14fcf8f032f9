import { MissingDependencyError, type Storage } from '@modelstore/core';
import { createRequire } from 'node:module';

/**
 * The matchers the conformance suites use: a subset that jest's `expect`
 * (`@jest/globals`) and vitest's `expect` both provide with the same meaning.
 * Results are typed `unknown`: after `.rejects` a matcher returns a promise to await.
 */
export interface ConformanceMatchers extends ConformanceAssertions {
  readonly not: ConformanceAssertions;
  readonly rejects: ConformanceAssertions;
}

/** The matchers themselves, as `.not` and `.rejects` give them. */
export interface ConformanceAssertions {
  toBe(expected: unknown): unknown;
  toBeDefined(): unknown;
  toBeGreaterThanOrEqual(expected: number): unknown;
  toBeInstanceOf(expected: unknown): unknown;
  toBeLessThan(expected: number): unknown;
  toBeLessThanOrEqual(expected: number): unknown;
  toBeUndefined(): unknown;
  toContain(expected: unknown): unknown;
  toEqual(expected: unknown): unknown;
  toHaveLength(expected: number): unknown;
  toMatch(expected: RegExp | string): unknown;
  toMatchObject(expected: object): unknown;
  toThrow(expected?: unknown): unknown;
}

/** jest's or vitest's `expect`, as far as the suites use it. */
export interface ConformanceExpect {
  (actual: unknown): ConformanceMatchers;
  objectContaining(expected: Record<string, unknown>): unknown;
  stringMatching(expected: RegExp | string): unknown;
}

/** A test body: synchronous, or returning a promise that settles when the test is done. */
// biome-ignore lint/suspicious/noConfusingVoidType: a synchronous body returns void, as jest's and vitest's test functions type it
export type ConformanceTestBody = () => void | Promise<unknown>;

/**
 * The test functions the suites register with. Pass vitest's (or any runner's with
 * the same calls) as `test`; by default the suites use `@jest/globals`.
 *
 * ```ts
 * import { afterEach, beforeEach, describe, expect, it } from 'vitest';
 * describeStorageConformance({ name: 'MyStorage', createStorage, test: { describe, it, expect, beforeEach, afterEach } });
 * ```
 *
 * `it(name, body, timeout)` takes the timeout in milliseconds as its third argument,
 * as jest and vitest both do.
 */
export interface ConformanceTestApi {
  describe(name: string, body: () => void): unknown;
  it(name: string, body: ConformanceTestBody, timeout?: number): unknown;
  expect: ConformanceExpect;
  beforeEach(body: ConformanceTestBody): unknown;
  afterEach(body: ConformanceTestBody): unknown;
}

/**
 * The given test functions, or jest's from `@jest/globals`, loaded only then (it is an
 * optional peer dependency: a vitest user does not need jest installed).
 *
 * @throws MissingDependencyError (`packageName` `@jest/globals`), naming the `test` option, when `@jest/globals` cannot be loaded.
 */
export function resolveTestApi(api: ConformanceTestApi | undefined): ConformanceTestApi {
  if (api) return api;
  let globals: ConformanceTestApi;
  try {
    globals = createRequire(import.meta.url)('@jest/globals') as ConformanceTestApi;
  } catch (error) {
    throw new MissingDependencyError(
      '@jest/globals',
      `The conformance suites register with @jest/globals by default, which could not be loaded (${(error as Error).message}). Run them under jest with @jest/globals installed, or pass your runner's functions as the test option: { test: { describe, it, expect, beforeEach, afterEach } }.`,
      { cause: error },
    );
  }
  const { describe, it, expect, beforeEach, afterEach } = globals;
  return { describe, it, expect, beforeEach, afterEach };
}

/** Registers one test per row, named `title(row)`: what `it.each` does, in any runner. */
// biome-ignore lint/suspicious/noConfusingVoidType: a synchronous body returns void, as in ConformanceTestBody
export function eachCase<T extends readonly unknown[]>(api: ConformanceTestApi, rows: ReadonlyArray<T>, title: (row: NoInfer<T>) => string, body: (row: NoInfer<T>) => void | Promise<unknown>, timeout?: number): void {
  for (const row of rows) api.it(title(row), () => body(row), timeout);
}

/**
 * What the groups of either suite register their tests with: the suite's options, the
 * test functions, and the current test's fresh store (`storage` is only valid inside a
 * running test). Extended by `StorageConformanceContext` and `RegistryConformanceContext`.
 */
export interface ConformanceContext<O, S extends Storage = Storage> {
  /** The options the suite was called with. */
  readonly options: O;
  /** The test functions in use. */
  readonly test: ConformanceTestApi;
  /** The current test's fresh store. */
  readonly storage: S;
}
