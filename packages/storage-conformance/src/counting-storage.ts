import type { Storage } from '@modelstore/core';
import { Readable } from 'node:stream';

/** A Storage that records its calls and the body bytes read through it, to prove what an operation touches. */
export class CountingStorage implements Storage {
  readonly specificationVersion = 'v1' as const;
  calls: string[] = [];
  bytesRead = 0;
  constructor(private readonly inner: Storage) {}
  get capabilities() {
    return this.inner.capabilities;
  }
  reset(): void {
    this.calls = [];
    this.bytesRead = 0;
  }
  describe(key: string) {
    return this.inner.describe(key);
  }
  put(...args: Parameters<Storage['put']>) {
    this.calls.push(`put ${args[0]}`);
    return this.inner.put(...args);
  }
  head(key: string) {
    this.calls.push(`head ${key}`);
    return this.inner.head(key);
  }
  list(...args: Parameters<Storage['list']>) {
    this.calls.push(`list ${args[0]}`);
    return this.inner.list(...args);
  }
  delete(key: string) {
    this.calls.push(`delete ${key}`);
    return this.inner.delete(key);
  }
  async get(...args: Parameters<Storage['get']>) {
    this.calls.push(`get ${args[0]}`);
    const object = await this.inner.get(...args);
    if (!object) return undefined;
    const counter = this;
    async function* counted() {
      for await (const chunk of object!.body as AsyncIterable<Buffer>) {
        counter.bytesRead += chunk.length;
        yield chunk;
      }
    }
    return { ...object, body: Readable.from(counted(), { objectMode: false }) };
  }
}
