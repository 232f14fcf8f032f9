// Unit tests of an upload: planUpload refuses bad input before any I/O (no storage call,
// no adapter save), runUpload refuses a visibly taken id before streaming, and what
// happens around the archive write and the commit.
import { describe, expect, it } from '@jest/globals';
import { buffer, text } from 'node:stream/consumers';
import type { ModelAdapter } from './adapter.js';
import { AdapterNotFoundError, CommittedWithErrorsError, InvalidArgumentError, InvalidNameError, InvalidOptionError, ModelExistsError, PreconditionFailedError, SourceFileError, StorageError } from './errors.js';
import { MemoryStorage } from './memory-storage.js';
import type { ModelMetadata } from './metadata.js';
import { deletedState } from './names.js';
import { layout } from './registry-layout.js';
import type { Body, PutOptions, Storage } from './storage.js';
import { recording } from '../test/support.js';
import { planUpload, runUpload, type UploadOptions } from './upload.js';

/** An adapter of byte buffers that counts how often it saves. */
function bytesAdapter(library = 'bytes'): ModelAdapter<Buffer, Buffer> & { saves: number } {
  const adapter = {
    specificationVersion: 'v1' as const,
    library,
    saves: 0,
    matches: (model: unknown) => Buffer.isBuffer(model),
    save: async (model: Buffer) => {
      adapter.saves++;
      return { files: [{ path: 'model.bin', source: model }], type: 'Buffer' };
    },
    load: async () => Buffer.alloc(0),
  };
  return adapter;
}

const refusal = (run: () => unknown): unknown => {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
};

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

function context(storage: Storage, adapters: readonly ModelAdapter[] = [bytesAdapter()]) {
  return { storage, adapters, compressionLevel: 6 as const, git: async () => undefined };
}

async function upload(storage: Storage, options: UploadOptions, adapters: readonly ModelAdapter[] = [bytesAdapter()]) {
  return runUpload(context(storage, adapters), 'd', planUpload(adapters, options), options);
}

describe('planUpload', () => {
  it('gives a new UUID v4 by default and keeps a valid id', () => {
    const adapter = bytesAdapter();
    expect(planUpload([adapter], { model: Buffer.from('x') }).modelId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(planUpload([adapter], { model: Buffer.from('x'), modelId: 'v1.2' }).modelId).toBe('v1.2');
    expect(planUpload([adapter], { model: Buffer.from('x'), extraFiles: ['/a/b/notes.txt'] }).extraPaths).toEqual(['extras/notes.txt']);
  });

  it('refuses a bad id, an extra file with no usable name, metadata JSON cannot keep, and no adapter — without saving the model', () => {
    const adapter = bytesAdapter();
    const model = Buffer.from('x');
    expect(InvalidNameError.isInstance(refusal(() => planUpload([adapter], { model, modelId: 'has space' })))).toBe(true);
    expect(InvalidNameError.isInstance(refusal(() => planUpload([adapter], { model, extraFiles: ['/a/..'] })))).toBe(true);
    const metadata = refusal(() => planUpload([adapter], { model, extraMetadata: { metrics: [{ loss: Number.NaN }] } }));
    expect(InvalidOptionError.isInstance(metadata)).toBe(true);
    expect((metadata as Error).message).toContain('extraMetadata.metrics[0].loss');
    const none = refusal(() => planUpload([adapter], { model: 42 }));
    expect(AdapterNotFoundError.isInstance(none)).toBe(true);
    expect((none as Error).message).toContain('registered: bytes');
    // A path no adapter accepts because it does not exist says so (not "register an adapter").
    const missing = refusal(() => planUpload([adapter], { model: '/no/such/folder/model.gguf' }));
    expect(SourceFileError.isInstance(missing) && (missing as SourceFileError).reason).toBe('missing');
    expect((missing as Error).message).toContain('"/no/such/folder/model.gguf" in the model: it does not exist');
    const named = refusal(() => planUpload([adapter], { model, adapter: 'onnx' }));
    expect(AdapterNotFoundError.isInstance(named)).toBe(true);
    expect((named as Error).message).toContain('No adapter for library "onnx"');
    expect(AdapterNotFoundError.isInstance(refusal(() => planUpload([], { model })))).toBe(true);
    expect(adapter.saves).toBe(0);
  });

  it('refuses two extra files with the same name (both stored as extras/<name>) before any I/O (fails today: refused only when packing, after the storage HEADs and the adapter save)', () => {
    const adapter = bytesAdapter();
    const error = refusal(() => planUpload([adapter], { model: Buffer.from('x'), extraFiles: ['/a/notes.txt', '/b/notes.txt'] }));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(adapter.saves).toBe(0);
  });

  it('picks the named adapter, else the first that matches', () => {
    const first = bytesAdapter('first');
    const second = bytesAdapter('second');
    expect(planUpload([first, second], { model: Buffer.from('x') }).adapter).toBe(first);
    expect(planUpload([first, second], { model: Buffer.from('x'), adapter: 'second' }).adapter).toBe(second);
  });
});

describe('runUpload', () => {
  it('writes the archive, commits the metadata and moves the pointer', async () => {
    const storage = new MemoryStorage();
    const metadata = await upload(storage, { model: Buffer.from('weights'), modelId: 'm', extraMetadata: { accuracy: 0.9 } });
    expect(metadata.model).toEqual({ domain: 'd', model_id: 'm', model_type: { library: 'bytes', type: 'Buffer' }, parameters: {} });
    expect(metadata.extra).toEqual({ accuracy: 0.9 });
    expect(metadata.archive?.files['model.bin']?.size).toBe(7);
    expect(metadata.archive?.upload_id).toMatch(/^[0-9a-f-]{36}$/);
    const archiveKey = metadata.storage.prefix!;
    expect(archiveKey).toMatch(/^operatorai-model-store\/d\/\d{4}\.\d{2}\.\d{2}-\d{2}\.\d{2}\.\d{2}\/m\/artifacts\.tar\.gz$/);
    expect((await buffer((await storage.get(archiveKey))!.body)).length).toBe(metadata.archive!.size);
    expect(await text((await storage.get(layout.version('d', 'm')))!.body)).toBe(JSON.stringify(metadata));
    expect(await text((await storage.get(layout.domain('d')))!.body)).toBe(JSON.stringify(metadata));
  });

  it('refuses an id held by a live or a deleted model before saving the model or writing anything', async () => {
    for (const key of [layout.version('d', 'm'), layout.stateVersion('d', deletedState, 'm')]) {
      const memory = new MemoryStorage();
      await memory.put(key, '{}');
      const { storage, calls } = recording(memory);
      const adapter = bytesAdapter();
      const error = await failure(upload(storage, { model: Buffer.from('x'), modelId: 'm' }, [adapter]));
      expect(ModelExistsError.isInstance(error)).toBe(true);
      expect(adapter.saves).toBe(0);
      expect(calls.every((call) => call.startsWith('head '))).toBe(true);
    }
  });

  it('is ModelExistsError when another archive already holds the key, and keeps that archive', async () => {
    class Taken extends MemoryStorage {
      override async put(key: string, body: Body, options?: PutOptions) {
        if (key.endsWith('artifacts.tar.gz') && !(await this.head(key))) await super.put(key, 'someone else');
        return super.put(key, body, options);
      }
    }
    const storage = new Taken();
    const error = await failure(upload(storage, { model: Buffer.from('x'), modelId: 'm' }));
    expect(ModelExistsError.isInstance(error)).toBe(true);
    expect(await storage.head(layout.version('d', 'm'))).toBeUndefined();
    const archives: string[] = [];
    for (const object of (await storage.list('')).objects) archives.push(object.key);
    expect(archives).toHaveLength(1);
    expect(await text((await storage.get(archives[0]!))!.body)).toBe('someone else');
  });

  it('succeeds when the archive write landed but its answer was lost ("already exists" on retry)', async () => {
    class Lossy extends MemoryStorage {
      lost = false;
      override async put(key: string, body: Body, options?: PutOptions) {
        if (!key.endsWith('artifacts.tar.gz') || this.lost) return super.put(key, body, options);
        this.lost = true;
        await super.put(key, body, options);
        throw new PreconditionFailedError(key);
      }
    }
    const storage = new Lossy();
    const metadata = await upload(storage, { model: Buffer.from('x'), modelId: 'm' });
    expect(storage.lost).toBe(true);
    expect(await storage.head(layout.version('d', 'm'))).toBeDefined();
    expect(metadata.model.model_id).toBe('m');
  });

  it('removes its archive and throws the reason when aborted after the archive was written', async () => {
    const controller = new AbortController();
    class AbortAfterArchive extends MemoryStorage {
      override async put(key: string, body: Body, options?: PutOptions) {
        const info = await super.put(key, body, options);
        if (key.endsWith('artifacts.tar.gz')) controller.abort(new Error('stopped'));
        return info;
      }
    }
    const storage = new AbortAfterArchive();
    const error = await failure(upload(storage, { model: Buffer.from('x'), modelId: 'm', signal: controller.signal }));
    expect((error as Error).message).toBe('stopped');
    expect((await storage.list('')).objects).toEqual([]);
  });

  it('writes nothing when two extra files would land at the same archive path', async () => {
    const { storage, calls } = recording(new MemoryStorage());
    const error = await failure(upload(storage, { model: Buffer.from('x'), modelId: 'm', extraFiles: ['/a/notes.txt', '/b/notes.txt'] }));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('"extras/notes.txt"');
    expect(calls.filter((call) => !call.startsWith('head '))).toEqual([]);
  });

  it('is CommittedWithErrorsError, carrying the metadata, when the pointer cannot be moved after the commit', async () => {
    class PointerFails extends MemoryStorage {
      override async put(key: string, body: Body, options?: PutOptions) {
        if (key === layout.domain('d')) throw new StorageError('forbidden');
        return super.put(key, body, options);
      }
    }
    const storage = new PointerFails();
    const error = await failure(upload(storage, { model: Buffer.from('x'), modelId: 'm' }));
    expect(CommittedWithErrorsError.isInstance(error)).toBe(true);
    expect(((error as CommittedWithErrorsError).metadata as ModelMetadata).model.model_id).toBe('m');
    expect((error as Error).message).toContain('Do not upload it again');
    expect(await storage.head(layout.version('d', 'm'))).toBeDefined();
  });
});

describe('re-uploading an id', () => {
  it('says whether the id is taken by a live model or by a deleted one', async () => {
    const { ModelStore } = await import('./model-store.js');
    const { bytesAdapter } = await import('../test/bytes-adapter.js');
    const store = new ModelStore({ storage: new MemoryStorage(), adapters: [bytesAdapter], checkConditionalWrites: false });
    await store.upload('d', { model: Buffer.from('a'), modelId: 'm1' });
    const live = await store.upload('d', { model: Buffer.from('b'), modelId: 'm1' }).catch((error: unknown) => error);
    expect(live).toBeInstanceOf(ModelExistsError);
    expect(live).toMatchObject({ deleted: false, message: expect.stringContaining('already exists') });
    await store.deleteModel('d', 'm1');
    const deleted = await store.upload('d', { model: Buffer.from('c'), modelId: 'm1' }).catch((error: unknown) => error);
    expect(deleted).toMatchObject({ code: 'MODEL_EXISTS', deleted: true, message: expect.stringContaining('was deleted') });
  });
});
