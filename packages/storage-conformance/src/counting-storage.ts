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
    return this.forward('put', args);
  }
  head(key: string) {
    return this.forward('head', [key]);
  }
  list(...args: Parameters<Storage['list']>) {
    return this.forward('list', args);
  }
  delete(key: string) {
    return this.forward('delete', [key]);
  }
  async get(...args: Parameters<Storage['get']>) {
    const object = await this.forward('get', args);
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
  /** Records `<method> <key>` in `calls`, then makes the call on the wrapped storage. */
  private forward<M extends 'put' | 'get' | 'head' | 'list' | 'delete'>(method: M, args: Parameters<Storage[M]>): ReturnType<Storage[M]> {
    this.calls.push(`${method} ${args[0]}`);
    return (this.inner[method] as (...args: Parameters<Storage[M]>) => ReturnType<Storage[M]>).apply(this.inner, args);
  }
}
