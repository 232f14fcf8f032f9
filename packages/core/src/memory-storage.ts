import { abortReason, bodyToReadable } from './body.js';
import { PreconditionFailedError } from './errors.js';
import { compareKeys, validateKey, validatePrefix, validateRange } from './keys.js';
import { listPageSize } from './storage-kit.js';
import type { Body, GetOptions, ListOptions, ListResult, ObjectInfo, PutOptions, Storage, StorageLocation, StoredObject } from './storage.js';
import { Readable } from 'node:stream';

interface Entry {
  data: Buffer;
  info: ObjectInfo;
}

const defaultPageSize = 1000;

/**
 * A `Storage` held in this process's memory: for tests, examples and caches.
 * Objects live as long as the instance. Conditional writes are exact (checked
 * and applied in one step), but only within this process.
 */
export class MemoryStorage implements Storage {
  readonly specificationVersion = 'v1' as const;
  readonly capabilities = { conditionalWrites: true, rangeReads: true } as const;
  private readonly objects = new Map<string, Entry>();
  private version = 0;

  describe(key: string): StorageLocation {
    return { type: 'memory', prefix: validateKey(key) };
  }

  async put(key: string, body: Body, options: PutOptions = {}): Promise<ObjectInfo> {
    validateKey(key);
    const { signal } = options;
    signal?.throwIfAborted();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of bodyToReadable(body)) {
      if (signal?.aborted) throw abortReason(signal);
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      options.onProgress?.(size);
    }
    if (signal?.aborted) throw abortReason(signal);
    // Checked and applied with no await in between: atomic within this process.
    const current = this.objects.get(key);
    if (options.ifNoneMatch === '*' && current) throw new PreconditionFailedError(key);
    if (options.ifMatch !== undefined && current?.info.etag !== options.ifMatch) throw new PreconditionFailedError(key);
    const info: ObjectInfo = { key, size, etag: `"m${++this.version}"`, lastModified: new Date() };
    this.objects.set(key, { data: Buffer.concat(chunks, size), info });
    return { ...info };
  }

  async get(key: string, options: GetOptions = {}): Promise<StoredObject | undefined> {
    validateKey(key);
    options.signal?.throwIfAborted();
    const entry = this.objects.get(key);
    if (!entry) return undefined;
    let data = entry.data;
    if (options.range) {
      validateRange(key, options.range);
      const { start, end } = options.range;
      data = data.subarray(start, end === undefined ? undefined : end + 1);
    }
    const body = Readable.from([data], { objectMode: false, ...(options.signal ? { signal: options.signal } : {}) });
    return { ...entry.info, body };
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    validateKey(key);
    const entry = this.objects.get(key);
    return entry ? { ...entry.info } : undefined;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    validatePrefix(prefix);
    const limit = listPageSize(options.limit, defaultPageSize);
    const keys = [...this.objects.keys()].filter((key) => key.startsWith(prefix) && (options.cursor === undefined || compareKeys(key, options.cursor) > 0)).sort(compareKeys);
    const page = keys.slice(0, limit);
    const objects = page.map((key) => ({ ...this.objects.get(key)!.info }));
    return keys.length > limit ? { objects, cursor: page[page.length - 1]! } : { objects };
  }

  async delete(key: string): Promise<boolean> {
    validateKey(key);
    return this.objects.delete(key);
  }
}
