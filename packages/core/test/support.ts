// What core's unit tests (src/**/*.test.ts) and the tests here share: a storage that
// records or intercepts its calls, the error a promise rejects with, and a fresh folder
// per test. Test code only: not part of the published package (`files` holds dist and src).
import { afterEach, beforeEach } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MemoryStorage } from '../src/memory-storage.js';
import { layout } from '../src/registry-layout.js';
import type { Storage } from '../src/storage.js';

/** The error `promise` rejects with, or `undefined` when it fulfils. */
export function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

/** `storage` behind a proxy that records each call as `<method> <first argument>` in `calls`. */
export function recording(storage: Storage): { storage: Storage; calls: string[] } {
  const calls: string[] = [];
  const proxy = new Proxy(storage, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(`${String(property)} ${String(args[0])}`);
        return (value as (...values: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { storage: proxy, calls };
}

type StorageMethod = 'put' | 'get' | 'head' | 'list' | 'delete';

/**
 * A `MemoryStorage` that calls `before(method, key)` ahead of each of the five `Storage`
 * methods (`key` is the list prefix for `list`): a subclass records, counts or throws there.
 */
export class InterceptedStorage extends MemoryStorage {
  protected before(_method: StorageMethod, _key: string): void {}
  static {
    for (const method of ['put', 'get', 'head', 'list', 'delete'] as const) {
      const inner = MemoryStorage.prototype[method] as (this: MemoryStorage, key: string, ...rest: unknown[]) => Promise<unknown>;
      Object.defineProperty(InterceptedStorage.prototype, method, {
        configurable: true,
        writable: true,
        async value(this: InterceptedStorage, key: string, ...rest: unknown[]) {
          this.before(method, key);
          return inner.call(this, key, ...rest);
        },
      });
    }
  }
}

/**
 * A new empty folder for each test of the calling file, made with `prefix` under the
 * system's temporary folder and removed after the test. Read `.path` inside a test.
 */
export function folderPerTest(prefix: string): { readonly path: string } {
  let current: string | undefined;
  beforeEach(() => {
    current = mkdtempSync(path.join(tmpdir(), prefix));
  });
  afterEach(() => {
    if (current !== undefined) rmSync(current, { recursive: true, force: true });
    current = undefined;
  });
  return {
    get path() {
      if (current === undefined) throw new Error('folderPerTest: the folder exists only while a test runs');
      return current;
    },
  };
}

/** The text of a small model document: model `id` of domain `d`, created on day `day` of January 2024 (UTC midnight). */
export function documentText(id: string, day: number): string {
  return JSON.stringify({ model: { domain: 'd', model_id: id, model_type: { library: 'x' } }, storage: { type: 'memory' }, code: { created_at: `2024-01-${String(day).padStart(2, '0')}T00:00:00.000Z` } });
}

/** Commits model `id` of domain `d` (its version document, {@link documentText}) and, for each state, its byte copy under `versions/<state>/`. */
export async function putModel(storage: Storage, id: string, day: number, states: readonly string[] = []): Promise<void> {
  await storage.put(layout.version('d', id), documentText(id, day));
  for (const state of states) await storage.put(layout.stateVersion('d', state, id), documentText(id, day));
}

/**
 * The requests that read a domain's index whole before its first compaction, as the
 * recording storage names them: the log's listing, the pointer (missing), and the first
 * index's document (`modelstore-index.json`, read until a compaction reconciled the domain).
 */
export function indexReads(domain: string): string[] {
  return [`list ${layout.indexRoot(domain)}log/`, `get ${layout.indexRoot(domain)}_last_checkpoint`, `get ${layout.index(domain)}`];
}
