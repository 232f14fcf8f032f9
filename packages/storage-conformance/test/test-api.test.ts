import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { type ConformanceTestApi, eachCase, resolveTestApi } from '../src/index.js';

// jest's functions fit the suites' ConformanceTestApi as they are (checked by tsc);
// memory-storage.vitest.ts checks vitest's.
const jestApi: ConformanceTestApi = { describe, it, expect, beforeEach, afterEach };

describe('the test functions the suites register with', () => {
  it("are jest's own when none are given, under jest", () => {
    const resolved = resolveTestApi(undefined);
    expect(resolved.it).toBe(it);
    expect(resolved.describe).toBe(describe);
    expect(resolved.expect).toBe(expect);
  });

  it('are the given ones when given', () => {
    expect(resolveTestApi(jestApi)).toBe(jestApi);
  });

  const seen: string[] = [];
  eachCase(
    jestApi,
    [
      ['first', 1],
      ['second', 2],
    ] as const,
    ([name, index]) => `registers one test per row (${name}, ${index})`,
    ([name]) => {
      seen.push(name);
      expect(seen).toContain(name);
    },
  );
});
