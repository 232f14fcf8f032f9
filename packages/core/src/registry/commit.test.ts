// Unit tests of the commit point: create-only versions/<id>.json, a lost answer
// recognised by its text, what becomes of the archive when the id is taken, and
// holdsArchive.
import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { text } from 'node:stream/consumers';
import { ModelExistsError, PreconditionFailedError, StorageError } from '../errors.js';
import type { ModelMetadata } from '../metadata.js';
import { MemoryStorage } from '../memory-storage.js';
import { layout } from '../registry-layout.js';
import type { Body, GetOptions, PutOptions } from '../storage.js';
import { announceModel, commitModel, holdsArchive } from './commit.js';
import { mergedEntries, readIndexState, tagOf } from './index-log.js';

const archiveKey = layout.archive('d', new Date(Date.UTC(2024, 0, 1)), 'm');

function metadata(uploadId: string, archive = archiveKey): ModelMetadata {
  return {
    model: { domain: 'd', model_id: 'm', model_type: { library: 'x' } },
    storage: { type: 'memory', prefix: archive },
    code: { created_at: '2024-01-01T00:00:00.000Z' },
    archive: { sha256: 's', size: 1, files: {}, upload_id: uploadId },
  };
}

/** A storage whose next put of `key` is applied but answers with `error` (a lost answer). */
class LossyStorage extends MemoryStorage {
  lose: { key: string; error: Error; apply: boolean } | undefined;
  override async put(key: string, body: Body, options?: PutOptions) {
    const lose = this.lose;
    if (lose?.key !== key) return super.put(key, body, options);
    this.lose = undefined;
    if (lose.apply) await super.put(key, body, options);
    throw lose.error;
  }
}

const versionKey = layout.version('d', 'm');

/** A fresh store where model `m` (upload `u1`) was committed: the store, the metadata, its text and the document's info. */
async function committed() {
  const storage = new MemoryStorage();
  const value = metadata('u1');
  const body = JSON.stringify(value);
  return { storage, value, body, info: await commitModel(storage, value, body, archiveKey) };
}

describe('commitModel', () => {
  it('creates the document with the exact text and returns its version', async () => {
    const { storage, body, info } = await committed();
    expect(info.etag).toBe((await storage.head(versionKey))!.etag);
    expect(await text((await storage.get(versionKey))!.body)).toBe(body);
  });

  it('recognises its own write after a lost answer, whether the error was a reset or "already exists"', async () => {
    for (const error of [new StorageError('socket hang up', { retryable: true }), new PreconditionFailedError(versionKey)]) {
      const storage = new LossyStorage();
      await storage.put(archiveKey, 'archive');
      storage.lose = { key: versionKey, error, apply: true };
      const value = metadata('u1');
      const info = await commitModel(storage, value, JSON.stringify(value), archiveKey);
      expect(info.etag).toBe((await storage.head(versionKey))!.etag);
      expect(await storage.head(archiveKey)).toBeDefined();
    }
  });

  const holders: Array<[outcome: string, holder: () => string, kept: boolean]> = [
    ['removes the archive when another upload holds the id', () => JSON.stringify(metadata('other', layout.archive('d', new Date(Date.UTC(2023, 0, 1)), 'm'))), false],
    ['keeps the archive when the model holding the id references that very archive key', () => JSON.stringify(metadata('other')), true],
    ['keeps the archive when the document holding the id cannot be read (damaged)', () => '{"model": ', true],
  ];
  for (const [outcome, holder, kept] of holders) {
    it(`throws ModelExistsError and ${outcome}`, async () => {
      const storage = new MemoryStorage();
      await storage.put(versionKey, holder());
      await storage.put(archiveKey, 'archive');
      const value = metadata('mine');
      const error = await commitModel(storage, value, JSON.stringify(value), archiveKey).catch((caught: unknown) => caught);
      expect(ModelExistsError.isInstance(error)).toBe(true);
      expect((await storage.head(archiveKey)) !== undefined).toBe(kept);
    });
  }

  it('rethrows a failed write whose outcome is unknown and leaves the archive for collectGarbage', async () => {
    const storage = new LossyStorage();
    await storage.put(archiveKey, 'archive');
    const failure = new StorageError('timeout', { retryable: true });
    storage.lose = { key: versionKey, error: failure, apply: false };
    const value = metadata('mine');
    await expect(commitModel(storage, value, JSON.stringify(value), archiveKey)).rejects.toBe(failure);
    expect(await storage.head(archiveKey)).toBeDefined();
    expect(await storage.head(versionKey)).toBeUndefined();
  });
});

describe('announceModel', () => {
  it('moves the latest pointer to the committed model and records it in the index', async () => {
    const { storage, value, body, info } = await committed();
    await announceModel(storage, { metadata: value, info, text: body });
    expect(await text((await storage.get(layout.domain('d')))!.body)).toBe(body);
    expect(mergedEntries(await readIndexState(storage, layout.indexRoot('d'))).get('m')).toEqual({ id: 'm', time: Date.parse('2024-01-01T00:00:00.000Z'), tag: tagOf(info.etag), size: 1, library: 'x' });
    // The pointer moved to it: the registry's index of domains records that version of the pointer.
    const pointer = (await storage.head(layout.domain('d')))!;
    expect(mergedEntries(await readIndexState(storage, layout.domainsIndexRoot())).get('d')).toEqual({ id: 'd', time: Date.parse('2024-01-01T00:00:00.000Z'), tag: tagOf(pointer.etag) });
  });

  it("writes the model's log entry before moving the latest pointer: a pointer compare-and-swap that fails (a process killed there) leaves the model indexed", async () => {
    const { storage, value, body, info } = await committed();
    let logged: boolean | undefined;
    const failing = new Proxy(storage, {
      get(target, property, receiver) {
        if (property === 'put')
          return async (key: string, ...rest: unknown[]) => {
            if (key === layout.domain('d')) {
              // What the index holds at the moment the pointer is written.
              logged = mergedEntries(await readIndexState(storage, layout.indexRoot('d'))).has('m');
              throw new StorageError('killed while moving the pointer');
            }
            return (target.put as (...values: unknown[]) => unknown).call(target, key, ...rest);
          };
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    await expect(announceModel(failing, { metadata: value, info, text: body })).rejects.toThrow('killed');
    expect(logged).toBe(true);
    expect(mergedEntries(await readIndexState(storage, layout.indexRoot('d'))).get('m')?.tag).toBe(tagOf(info.etag));
    expect(await storage.head(layout.domain('d'))).toBeUndefined();
  });
});

describe('holdsArchive', () => {
  const bytes = Buffer.from('the archive bytes');
  const digest = { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };

  it('is true only for the same bytes', async () => {
    const storage = new MemoryStorage();
    await storage.put('a', bytes);
    expect(await holdsArchive(storage, 'a', digest)).toBe(true);
    await storage.put('a', Buffer.from('the archive bytez'));
    expect(await holdsArchive(storage, 'a', digest)).toBe(false);
    await storage.put('a', Buffer.from('other size'));
    expect(await holdsArchive(storage, 'a', digest)).toBe(false);
    expect(await holdsArchive(storage, 'missing', digest)).toBe(false);
  });

  it('is false (never throws) when the read fails', async () => {
    class FailingStorage extends MemoryStorage {
      override async get(_key: string, _options?: GetOptions): Promise<never> {
        throw new StorageError('down');
      }
    }
    expect(await holdsArchive(new FailingStorage(), 'a', digest)).toBe(false);
  });
});
