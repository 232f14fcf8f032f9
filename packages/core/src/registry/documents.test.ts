// Unit tests of registry documents: listing every page, names directly under a prefix,
// reading documents in Python's dialect (valid, damaged, missing), writing them.
import { describe, expect, it } from '@jest/globals';
import { text } from 'node:stream/consumers';
import { IntegrityError, PreconditionFailedError, StorageError } from '../errors.js';
import { JsonSyntaxError } from '../json.js';
import { MemoryStorage } from '../memory-storage.js';
import type { ListOptions, ListResult, PutOptions, Body, ObjectInfo } from '../storage.js';
import { listAll, listNames, listObjects, readDocument, readMetadata, readModel, readModels, readValidDocument, writeJson, writeText } from './documents.js';

/** A storage that answers listings `pageSize` keys at a time and counts the calls. */
class PagingStorage extends MemoryStorage {
  listCalls = 0;
  constructor(private readonly pageSize: number) {
    super();
  }
  override list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    this.listCalls++;
    return super.list(prefix, { ...options, limit: this.pageSize });
  }
}

const metadataText = (id: string, extra = '') => `{"model": {"domain": "d", "model_id": "${id}", "model_type": {"library": "x"}}, "storage": {"type": "file_system"}${extra}}`;

describe('listAll', () => {
  it('follows the cursor through every page, in order, with a page size of 2', async () => {
    const storage = new PagingStorage(2);
    const keys = ['p/a', 'p/b', 'p/c', 'p/d', 'p/e', 'q/x'];
    for (const key of keys) await storage.put(key, key);
    const listed: string[] = [];
    for await (const object of listAll(storage, 'p/')) listed.push(object.key);
    expect(listed).toEqual(['p/a', 'p/b', 'p/c', 'p/d', 'p/e']);
    expect(storage.listCalls).toBe(3);
  });

  it('yields nothing for an empty prefix, in one call', async () => {
    const storage = new PagingStorage(1);
    const listed: ObjectInfo[] = [];
    for await (const object of listAll(storage, 'none/')) listed.push(object);
    expect(listed).toEqual([]);
    expect(storage.listCalls).toBe(1);
  });
});

describe('listObjects and listNames', () => {
  it('keeps objects directly under the prefix with the suffix, ignoring sub-folders and other suffixes, across pages', async () => {
    const storage = new PagingStorage(1);
    for (const key of ['v/a.json', 'v/b.json', 'v/prod/a.json', 'v/prod/c.json', 'v/c.txt', 'v/d.json.tmp', 'w/e.json']) await storage.put(key, '{}');
    const objects = await listObjects(storage, 'v/', '.json', 'model id');
    expect(objects.map(({ name }) => name)).toEqual(['a', 'b']);
    expect(objects.map(({ info }) => info.key)).toEqual(['v/a.json', 'v/b.json']);
    expect(objects[0]!.info.etag).toBe((await storage.head('v/a.json'))!.etag);
    expect(await listNames(storage, 'v/', '.json', 'model id')).toEqual(['a', 'b']);
    expect(await listNames(storage, 'v/prod/', '.json', 'model id')).toEqual(['a', 'c']);
  });

  it("leaves out names that break their kind's rule, and keeps the others", async () => {
    const storage = new PagingStorage(2);
    for (const key of ['v/.json', 'v/good.json', 'v/has space.json', 'v/a#b.json', 'v/ok-2.json']) await storage.put(key, '{}');
    expect(await listNames(storage, 'v/', '.json', 'model id')).toEqual(['good', 'ok-2']);
    for (const key of ['s/ab.json', 's/prod.json', 's/modelstore-deleted.json']) await storage.put(key, '{}');
    // States are at least 3 characters; the deleted state is listed (the caller filters it).
    expect(await listNames(storage, 's/', '.json', 'state')).toEqual(['modelstore-deleted', 'prod']);
    for (const key of ['m/versions.json', 'm/churn.json']) await storage.put(key, '{}');
    expect(await listNames(storage, 'm/', '.json', 'domain')).toEqual(['churn']);
  });
});

describe('readDocument and readValidDocument', () => {
  it('reads a valid document in Python dialect with its exact text and version', async () => {
    const storage = new MemoryStorage();
    const body = '{"a": NaN, "b": 12345678901234567890, "c": 1.0}';
    const info = await storage.put('k.json', body);
    const read = await readDocument(storage, 'k.json');
    expect(read?.damaged).toBe(false);
    expect(read?.text).toBe(body);
    expect(read?.info.etag).toBe(info.etag);
    const value = read?.value as { a: number; b: bigint; c: number };
    expect(Number.isNaN(value.a)).toBe(true);
    expect(value.b).toBe(12345678901234567890n);
    expect(value.c).toBe(1);
    expect((await readValidDocument(storage, 'k.json'))?.text).toBe(body);
  });

  it('marks a truncated document damaged (keeping its text and version), and readValidDocument refuses it', async () => {
    const storage = new MemoryStorage();
    const info = await storage.put('k.json', '{"model": {"do');
    const read = await readDocument(storage, 'k.json');
    expect(read?.damaged).toBe(true);
    expect(read?.value).toBeInstanceOf(JsonSyntaxError);
    expect(read?.text).toBe('{"model": {"do');
    expect(read?.info.etag).toBe(info.etag);
    const error = await readValidDocument(storage, 'k.json').catch((caught: unknown) => caught);
    expect(IntegrityError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('"k.json" is not valid JSON');
  });

  it('returns undefined for a missing document', async () => {
    const storage = new MemoryStorage();
    expect(await readDocument(storage, 'missing.json')).toBeUndefined();
    expect(await readValidDocument(storage, 'missing.json')).toBeUndefined();
    expect(await readModel(storage, 'missing.json')).toBeUndefined();
    expect(await readMetadata(storage, 'missing.json')).toBeUndefined();
  });
});

describe('readModel and readModels', () => {
  it('reads model metadata, and refuses valid JSON that is not model metadata', async () => {
    const storage = new MemoryStorage();
    await storage.put('good.json', metadataText('m'));
    await storage.put('other.json', '{"created": "2024/01/01/00:00:00", "state_name": "prod"}');
    const model = await readModel(storage, 'good.json');
    expect(model?.metadata.model.model_id).toBe('m');
    expect(model?.text).toBe(metadataText('m'));
    expect((await readMetadata(storage, 'good.json'))?.model.model_id).toBe('m');
    const error = await readModel(storage, 'other.json').catch((caught: unknown) => caught);
    expect(IntegrityError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('"other.json" is not model metadata');
  });

  it('gives null for a damaged document, undefined for a missing one, in the order asked, 16 at a time at most', async () => {
    let inFlight = 0;
    let most = 0;
    class CountingStorage extends MemoryStorage {
      override async get(key: string) {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 2));
        inFlight--;
        return super.get(key);
      }
    }
    const storage = new CountingStorage();
    const keys: string[] = [];
    for (let index = 0; index < 40; index++) {
      const key = `v/m${index}.json`;
      keys.push(key);
      if (index % 10 === 3) await storage.put(key, '{"trunc');
      else if (index % 10 === 7) continue;
      else await storage.put(key, metadataText(`m${index}`));
    }
    const models = await readModels(storage, keys);
    expect(models).toHaveLength(40);
    models.forEach((model, index) => {
      if (index % 10 === 3) expect(model).toBeNull();
      else if (index % 10 === 7) expect(model).toBeUndefined();
      else expect(model?.metadata.model.model_id).toBe(`m${index}`);
    });
    expect(most).toBe(16);
  });

  it('lets a storage failure through rather than reading it as damaged', async () => {
    class FailingStorage extends MemoryStorage {
      override async get(): Promise<never> {
        throw new StorageError('connection reset', { retryable: true });
      }
    }
    const error = await readModels(new FailingStorage(), ['v/a.json']).catch((caught: unknown) => caught);
    expect(StorageError.isInstance(error)).toBe(true);
  });
});

describe('writeJson and writeText', () => {
  class RecordingStorage extends MemoryStorage {
    options: PutOptions[] = [];
    override put(key: string, body: Body, options: PutOptions = {}) {
      this.options.push(options);
      return super.put(key, body, options);
    }
  }

  it('writes strict JSON as application/json, passing the condition', async () => {
    const storage = new RecordingStorage();
    await writeJson(storage, 'a.json', { b: [1, 'x'] }, { ifNoneMatch: '*' });
    expect(await text((await storage.get('a.json'))!.body)).toBe('{"b":[1,"x"]}');
    expect(storage.options[0]).toEqual({ contentType: 'application/json', ifNoneMatch: '*' });
    const error = await writeJson(storage, 'a.json', {}, { ifNoneMatch: '*' }).catch((caught: unknown) => caught);
    expect(PreconditionFailedError.isInstance(error)).toBe(true);
  });

  it('writes exact text, replacing only the version named by ifMatch', async () => {
    const storage = new RecordingStorage();
    const first = await writeText(storage, 'a.json', '{"x": 1.0}');
    await writeText(storage, 'a.json', '{"x": 2.0}', { ifMatch: first.etag }).catch(() => undefined);
    const stale = await writeText(storage, 'a.json', '{"x": 3.0}', { ifMatch: first.etag }).catch((caught: unknown) => caught);
    expect(PreconditionFailedError.isInstance(stale)).toBe(true);
    expect(await text((await storage.get('a.json'))!.body)).toBe('{"x": 2.0}');
    expect(storage.options.every((options) => options.contentType === 'application/json')).toBe(true);
  });
});
