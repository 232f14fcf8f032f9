import { MemoryStorage, MissingDependencyError } from '@modelstore/core';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeRegistryConformance, describeStorageConformance } from '../src/index.js';

// Both suites under vitest: jest is never loaded (the test option replaces @jest/globals).
const test = { describe, it, expect, beforeEach, afterEach };

describeStorageConformance({
  name: 'MemoryStorage under vitest',
  createStorage: () => new MemoryStorage(),
  holdsObjectsInMemory: true,
  test,
  additionalTests(ctx) {
    it('gives additional tests the fresh store and key prefix of each test', async () => {
      expect(ctx.key('x')).toBe(`${ctx.prefix}x`);
      expect(ctx.prefix).toMatch(/^conformance-[0-9a-f]{12}\/$/);
      expect((await ctx.storage.list('')).objects).toEqual([]);
      await ctx.storage.put(ctx.key('mine'), 'one');
      expect((await ctx.storage.list('')).objects.map((object) => object.key)).toEqual([ctx.key('mine')]);
    });
  },
});

describeRegistryConformance({
  name: 'MemoryStorage under vitest',
  createStorage: () => new MemoryStorage(),
  pythonFixture: path.resolve(import.meta.dirname, '../../../python/fixtures/python-modelstore'),
  test,
  additionalTests(ctx) {
    it('gives additional tests the store, model files and upload of each test', async () => {
      const metadata = await ctx.upload('extra');
      expect(await ctx.store.listModels('extra')).toEqual([metadata.model.model_id]);
      expect((await ctx.storage.list('')).objects.length).toBeGreaterThanOrEqual(2);
    });
  },
});

it('refuses to touch the context outside a running test', () => {
  let thrown: unknown;
  describeStorageConformance({
    name: 'never run',
    createStorage: () => new MemoryStorage(),
    test: {
      ...test,
      describe: (_name, body) => body(),
      it: () => undefined,
      beforeEach: () => undefined,
      afterEach: () => undefined,
    },
    additionalTests(ctx) {
      try {
        void ctx.storage;
      } catch (error) {
        thrown = error;
      }
    },
  });
  expect(String(thrown)).toMatch(/only set inside a running test/);
});

it('loads @jest/globals only when no test functions are given, and says what to do when it cannot', () => {
  // Outside jest, @jest/globals refuses to load: the suite names the `test` option instead.
  expect(() => describeStorageConformance({ name: 'no runner given', createStorage: () => new MemoryStorage() })).toThrow(/pass your runner's functions as the test option/);
  expect(() => describeRegistryConformance({ name: 'no runner given', createStorage: () => new MemoryStorage() })).toThrow(/pass your runner's functions as the test option/);
  let thrown: unknown;
  try {
    describeStorageConformance({ name: 'no runner given', createStorage: () => new MemoryStorage() });
  } catch (error) {
    thrown = error;
  }
  expect(MissingDependencyError.isInstance(thrown)).toBe(true);
  expect((thrown as MissingDependencyError).packageName).toBe('@jest/globals');
});
