import type { ModelStore, Storage } from '@modelstore/core';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { CountingStorage } from '../counting-storage.js';
import type { RegistryConformanceContext } from './context.js';

/** The hex sha256 of `data`. */
export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Every file under `directory`, relative, `/`-separated, with its sha256. */
export function treeDigest(directory: string): Record<string, string> {
  const result: Record<string, string> = {};
  const walk = (current: string, prefix: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full, `${prefix}${entry.name}/`);
      else result[`${prefix}${entry.name}`] = sha256(readFileSync(full));
    }
  };
  walk(directory, '');
  return result;
}

/** A gzipped tar with the given entries, for hostile-archive tests. */
export async function buildArchive(entries: Array<{ header: Partial<tar.Header> & { name: string }; content?: string }>): Promise<Buffer> {
  const pack = tar.pack();
  for (const { header, content } of entries) {
    await new Promise<void>((resolve, reject) => pack.entry(header as tar.Header, content ?? '', (error) => (error ? reject(error) : resolve())));
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack.pipe(createGzip())) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Copies every file under `directory` into `storage` under `prefix`, with `put`. */
export async function copyTree(storage: Storage, directory: string, prefix = ''): Promise<void> {
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) await copyTree(storage, full, `${prefix}${entry.name}/`);
    else await storage.put(`${prefix}${entry.name}`, readFileSync(full));
  }
}

/** Resolves after `ms` milliseconds. */
export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Registers a test (with the suite's timeout) that runs on a `ModelStore` over a
 * `CountingStorage` of the test's store, to count the calls and bytes each method makes.
 */
export function itCounting<S extends Storage>(ctx: RegistryConformanceContext<S>, name: string, body: (counted: CountingStorage, store: ModelStore) => Promise<void>): void {
  ctx.test.it(
    name,
    async () => {
      const counted = new CountingStorage(ctx.storage);
      await body(counted, ctx.open(counted));
    },
    ctx.timeout,
  );
}
