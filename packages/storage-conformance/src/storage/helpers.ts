import type { ObjectInfo, Storage } from '@modelstore/core';
import type { ConformanceTestApi } from '../test-api.js';
import type { StorageConformanceContext } from './context.js';

export const MiB = 1024 * 1024;

/** What a storage group registers its tests with: the runner's functions (`it`, `expect`...) and `k(name)`, the current test's key for `name` under its private prefix. */
export function groupTools<S extends Storage>(ctx: StorageConformanceContext<S>): ConformanceTestApi & { k(name: string): string } {
  return { ...ctx.test, k: (name: string) => ctx.key(name) };
}

/** Reads a stream to a Buffer: only for the small objects of this suite. */
export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** The object at `key` as UTF-8 text, or `undefined` when there is none. */
export async function readText(storage: Storage, key: string): Promise<string | undefined> {
  const object = await storage.get(key);
  return object ? (await readAll(object.body)).toString('utf8') : undefined;
}

/** Deterministic pseudo-random chunk `index` of a large object. */
export function patternChunk(index: number, size: number): Buffer {
  const chunk = Buffer.allocUnsafe(size);
  let x = (index + 1) * 0x9e3779b1;
  for (let offset = 0; offset < size; offset += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    chunk.writeInt32LE(x | 0, offset);
  }
  return chunk;
}

/** Runs a garbage collection when the process was started with `--expose-gc`. */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Every page of `list(prefix)`, following cursors, and the keys in order. */
export async function listAll(storage: Storage, prefix: string, limit?: number): Promise<{ pages: ObjectInfo[][]; keys: string[] }> {
  const pages: ObjectInfo[][] = [];
  let cursor: string | undefined;
  do {
    const page = await storage.list(prefix, { ...(cursor === undefined ? {} : { cursor }), ...(limit === undefined ? {} : { limit }) });
    pages.push(page.objects);
    cursor = page.cursor;
    if (pages.length > 10_000) throw new Error('list() keeps returning a cursor');
  } while (cursor !== undefined);
  return { pages, keys: pages.flat().map((object) => object.key) };
}

/** Compares two keys by their UTF-8 bytes, the order `list` returns. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
