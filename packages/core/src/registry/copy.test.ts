// Unit tests of copying a model between stores: the archive hashed on the way (a
// corrupted byte is IntegrityError and leaves nothing on the target), the document's
// bytes kept but for `storage`, and the commit on the target.
import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { buffer, text } from 'node:stream/consumers';
import { IntegrityError, ModelExistsError, PreconditionFailedError } from '../errors.js';
import { MemoryStorage } from '../memory-storage.js';
import { deletedState } from '../names.js';
import { layout } from '../registry-layout.js';
import type { Body, PutOptions, StorageLocation } from '../storage.js';
import { copyModel } from './copy.js';
import { mergedEntries, readIndexState } from './index-log.js';
import { listAll, readModel, type StoredModel } from './documents.js';

const archiveKey = layout.archive('d', new Date(Date.UTC(2024, 0, 1)), 'm');
const archiveBytes = Buffer.from(Array.from({ length: 3000 }, (_, index) => (index * 31) % 251));
const digest = { sha256: createHash('sha256').update(archiveBytes).digest('hex'), size: archiveBytes.length };

/** A Python-looking document (spaces, 1.0, a big integer) so that a byte copy shows. */
const documentText = (archive: string | undefined) =>
  `{"model": {"domain": "d", "model_id": "m", "model_type": {"library": "x"}, "parameters": {"alpha": 1.0, "seed": 12345678901234567890}}, "storage": {"type": "file_system", "root": "/old", "path": "/old/${archiveKey}"}, "code": {"created_at": "2024-01-01T00:00:00.000Z"}${archive === undefined ? '' : `, "archive": ${archive}`}}`;
const withDigest = (value = digest) => documentText(JSON.stringify({ ...value, files: {}, upload_id: 'u1' }));

class TargetStorage extends MemoryStorage {
  override describe(key: string): StorageLocation {
    return { type: 'aws:s3', bucket: 'target', prefix: key };
  }
}

async function source(body = archiveBytes, text = withDigest()): Promise<{ storage: MemoryStorage; model: StoredModel }> {
  const storage = new MemoryStorage();
  await storage.put(archiveKey, body);
  await storage.put(layout.version('d', 'm'), text);
  return { storage, model: (await readModel(storage, layout.version('d', 'm')))! };
}

async function keysOf(storage: MemoryStorage): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of listAll(storage, '')) keys.push(object.key);
  return keys;
}

describe('copyModel', () => {
  it('copies the archive byte for byte and the document with only storage changed, then moves the pointer and sets states', async () => {
    const { storage, model } = await source();
    const target = new TargetStorage();
    const copy = await copyModel(storage, target, model, archiveKey, { states: ['prod'] });
    expect((await buffer((await target.get(archiveKey))!.body)).equals(archiveBytes)).toBe(true);
    const expected = withDigest().replace(`{"type": "file_system", "root": "/old", "path": "/old/${archiveKey}"}`, JSON.stringify({ type: 'aws:s3', bucket: 'target', prefix: archiveKey }));
    expect(await text((await target.get(layout.version('d', 'm')))!.body)).toBe(expected);
    expect(await text((await target.get(layout.domain('d')))!.body)).toBe(expected);
    expect(await text((await target.get(layout.stateVersion('d', 'prod', 'm')))!.body)).toBe(expected);
    expect(await target.head(layout.state('prod'))).toBeDefined();
    expect(mergedEntries(await readIndexState(target, layout.indexRoot('d'))).has('m')).toBe(true);
    expect(copy.storage).toEqual({ type: 'aws:s3', bucket: 'target', prefix: archiveKey });
    expect(copy.model.parameters?.seed).toBe(12345678901234567890n);
  });

  it('is IntegrityError for one corrupted archive byte, and leaves nothing on the target', async () => {
    const corrupted = Buffer.from(archiveBytes);
    corrupted[1234] = (corrupted[1234] ?? 0) ^ 0x01;
    const { storage, model } = await source(corrupted);
    const target = new TargetStorage();
    const error = await copyModel(storage, target, model, archiveKey, { states: ['prod'] }).catch((caught: unknown) => caught);
    expect(IntegrityError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(digest.sha256);
    expect(await keysOf(target)).toEqual([]);
  });

  it('is IntegrityError for an archive shorter than recorded, leaving nothing on the target', async () => {
    const { storage, model } = await source(archiveBytes.subarray(0, 2999));
    const target = new TargetStorage();
    expect(IntegrityError.isInstance(await copyModel(storage, target, model, archiveKey, {}).catch((caught: unknown) => caught))).toBe(true);
    expect(await keysOf(target)).toEqual([]);
  });

  it('is IntegrityError when the source archive is missing, with no write to the target', async () => {
    const { storage, model } = await source();
    await storage.delete(archiveKey);
    const target = new TargetStorage();
    expect(IntegrityError.isInstance(await copyModel(storage, target, model, archiveKey, {}).catch((caught: unknown) => caught))).toBe(true);
    expect(await keysOf(target)).toEqual([]);
  });

  it('copies a Python document that records no digest, checking the size the store reported', async () => {
    const { storage, model } = await source(archiveBytes, documentText(undefined));
    const target = new TargetStorage();
    await copyModel(storage, target, model, archiveKey, {});
    expect((await target.head(archiveKey))!.size).toBe(archiveBytes.length);
    expect(await target.head(layout.version('d', 'm'))).toBeDefined();
  });

  it('is ModelExistsError, writing nothing, when the target holds the id or a deleted model of that id', async () => {
    for (const key of [layout.version('d', 'm'), layout.stateVersion('d', deletedState, 'm')]) {
      const { storage, model } = await source();
      const target = new TargetStorage();
      await target.put(key, '{}');
      expect(ModelExistsError.isInstance(await copyModel(storage, target, model, archiveKey, {}).catch((caught: unknown) => caught))).toBe(true);
      expect(await keysOf(target)).toEqual([key]);
    }
  });

  it('keeps an archive another writer put at the same key, and reports the id as taken', async () => {
    const { storage, model } = await source();
    const target = new TargetStorage();
    await target.put(archiveKey, 'someone else');
    expect(ModelExistsError.isInstance(await copyModel(storage, target, model, archiveKey, {}).catch((caught: unknown) => caught))).toBe(true);
    expect(await text((await target.get(archiveKey))!.body)).toBe('someone else');
    expect(await keysOf(target)).toEqual([archiveKey]);
  });

  it('takes "already exists" after its own archive write landed (a lost answer) as its own copy', async () => {
    class LossyTarget extends TargetStorage {
      lost = false;
      override async put(key: string, body: Body, options?: PutOptions) {
        if (key !== archiveKey || this.lost) return super.put(key, body, options);
        this.lost = true;
        await super.put(key, body, options);
        throw new PreconditionFailedError(key);
      }
    }
    const { storage, model } = await source();
    const target = new LossyTarget();
    await copyModel(storage, target, model, archiveKey, {});
    expect(target.lost).toBe(true);
    expect(await target.head(layout.version('d', 'm'))).toBeDefined();
  });
});
