// What core's unit tests (src/**/*.test.ts) and the tests here share: a storage that
// records or intercepts its calls, the error a promise rejects with, and a fresh folder
// per test. Test code only: not part of the published package (`files` holds dist and src).
import { afterEach, beforeEach } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MemoryStorage } from '../src/memory-storage.js';
import { layout } from '../src/registry-layout.js';
import type { Body, GetOptions, ListOptions, PutOptions, Storage } from '../src/storage.js';

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

/**
 * A `MemoryStorage` that calls `before(method, key)` ahead of each of the five `Storage`
 * methods (`key` is the list prefix for `list`): a subclass records, counts or throws there.
 */
export class InterceptedStorage extends MemoryStorage {
  protected before(_method: 'put' | 'get' | 'head' | 'list' | 'delete', _key: string): void {}
  override async put(key: string, body: Body, options?: PutOptions) {
    this.before('put', key);
    return super.put(key, body, options);
  }
  override async get(key: string, options?: GetOptions) {
    this.before('get', key);
    return super.get(key, options);
  }
  override async head(key: string) {
    this.before('head', key);
    return super.head(key);
  }
  override async list(prefix: string, options?: ListOptions) {
    this.before('list', prefix);
    return super.list(prefix, options);
  }
  override async delete(key: string) {
    this.before('delete', key);
    return super.delete(key);
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
