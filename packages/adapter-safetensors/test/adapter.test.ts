import { describe, expect, it } from '@jest/globals';
import { IntegrityError, ModelStore, type Storage } from '@modelstore/core';
import { FileSystemStorage } from '@modelstore/storage-fs';
import { copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { type LoadedSafetensors, readTensorBytes, SafetensorsAdapter, SafetensorsFormatError, type SafetensorsFormatReason } from '../src/index.js';
import { hostileHeaders } from './hostile.js';
import { allKeys, backends, craft, decode, expected, store, testEnv, workDir } from './helpers.js';

const models = () => testEnv().paths.models;

/** Reads a tensor's bytes straight from the file at the offsets `load` returned (no adapter helper). */
async function bytesAt(file: string, [start, end]: [number, number]): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(end - start);
    await handle.read(buffer, 0, buffer.length, start);
    return buffer;
  } finally {
    await handle.close();
  }
}

/** A copy of the sharded set Python wrote, to break in one way. */
function shardedCopy(): string {
  const dir = workDir('sharded');
  cpSync(path.join(models(), 'sharded'), dir, { recursive: true });
  return dir;
}

function rewriteIndex(dir: string, change: (index: { metadata: unknown; weight_map: Record<string, string> }) => void): string {
  const file = path.join(dir, 'model.safetensors.index.json');
  const index = JSON.parse(readFileSync(file, 'utf8'));
  change(index);
  writeFileSync(file, JSON.stringify(index));
  return file;
}

/** A case whose model is the sharded set with its index edited by `edit`. */
function indexEdited(what: string, reason: SafetensorsFormatReason, edit: Parameters<typeof rewriteIndex>[1]) {
  return { what, reason, model: () => rewriteIndex(shardedCopy(), edit) };
}

/** Inputs that must be refused at upload, with the reason, on every backend. */
const hostileUploads: Array<{ what: string; reason: SafetensorsFormatReason; model: () => string }> = [
  ...hostileHeaders.map(({ what, reason, make }) => ({ what, reason, model: () => make(workDir('hostile')) })),
  {
    what: 'an index that names a shard that is missing',
    reason: 'index-mismatch',
    model: () => {
      const dir = shardedCopy();
      return rewriteIndex(dir, (index) => {
        index.weight_map['head.bias'] = 'model-00003-of-00003.safetensors';
      });
    },
  },
  {
    what: 'a folder with a shard the index does not name',
    reason: 'index-mismatch',
    model: () => {
      const dir = shardedCopy();
      copyFileSync(path.join(models(), 'single', 'model.safetensors'), path.join(dir, 'extra.safetensors'));
      return dir;
    },
  },
  indexEdited('an index that puts a tensor in the wrong shard', 'index-mismatch', (index) => {
    index.weight_map['head.bias'] = 'model-00001-of-00002.safetensors';
  }),
  indexEdited('an index that names a tensor no shard has', 'index-mismatch', (index) => {
    index.weight_map['ghost.weight'] = 'model-00001-of-00002.safetensors';
  }),
  indexEdited('an index that leaves out a tensor of a shard', 'index-mismatch', (index) => {
    delete index.weight_map['embed.weight'];
  }),
  indexEdited('an index that points outside its folder', 'bad-entry', (index) => {
    index.weight_map['head.bias'] = '../model-00002-of-00002.safetensors';
  }),
  {
    what: 'an index with a duplicate key',
    reason: 'duplicate-key',
    model: () => {
      const dir = shardedCopy();
      const file = path.join(dir, 'model.safetensors.index.json');
      writeFileSync(file, readFileSync(file, 'utf8').replace('"weight_map": {', '"weight_map": {"head.bias": "model-00001-of-00002.safetensors",'));
      return file;
    },
  },
  {
    what: 'a sharded folder whose second shard is broken',
    reason: 'trailing-bytes',
    model: () => {
      const dir = shardedCopy();
      writeFileSync(path.join(dir, 'model-00002-of-00002.safetensors'), Buffer.alloc(1), { flag: 'a' });
      return dir;
    },
  },
];

async function expectNothingCommitted(modelStore: ModelStore, storage: Storage, domain: string): Promise<void> {
  expect(await modelStore.listDomains()).toEqual([]);
  await expect(modelStore.listModels(domain)).rejects.toMatchObject({ code: 'DOMAIN_NOT_FOUND' });
  expect(await allKeys(storage)).toEqual([]);
}

describe.each(backends())('SafetensorsAdapter on $name', ({ storage: makeStorage }) => {
  it('uploads a single file Python wrote, lists it, records its header facts, and loads it: every tensor reads back as numpy wrote it', async () => {
    const want = expected().single;
    const storage = makeStorage();
    const modelStore = store(storage);
    const metadata = await modelStore.upload('single', { model: path.join(models(), 'single', 'model.safetensors'), modelId: 'single-v1' });
    expect(await modelStore.listModels('single')).toEqual(['single-v1']);
    const info = await modelStore.getModelInfo('single', 'single-v1');
    expect(info).toEqual(metadata);
    expect(info.model.model_type).toEqual({ library: 'safetensors', type: 'safetensors' });
    const names = Object.keys(want.tensors).sort();
    const dtypes: Record<string, { tensors: number; parameters: number }> = {};
    for (const tensor of Object.values(want.tensors)) {
      dtypes[tensor.dtype] ??= { tensors: 0, parameters: 0 };
      dtypes[tensor.dtype]!.tensors++;
      dtypes[tensor.dtype]!.parameters += tensor.parameters;
    }
    expect(info.model.parameters).toEqual({
      format: 'safetensors',
      sharded: false,
      file_count: 1,
      tensor_count: names.length,
      total_parameters: want.parameters,
      data_bytes: want.file_size - 8 - want.header_size,
      dtypes,
      files: [{ name: 'model.safetensors', size: want.file_size, header_size: want.header_size, tensor_count: names.length, parameters: want.parameters, metadata: want.metadata }],
      index: null,
      tensors: names.map((name) => ({ name, dtype: want.tensors[name]!.dtype, shape: want.tensors[name]!.shape, file: 'model.safetensors' })),
      tensors_truncated: false,
    });
    expect(Object.keys(dtypes).sort()).toEqual(['BF16', 'BOOL', 'F16', 'F32', 'F64', 'I32', 'I64', 'U8']);

    const to = await modelStore.download('single', { modelId: 'single-v1', to: path.join(workDir('download'), 'out') });
    expect(readFileSync(path.join(to, 'model.safetensors'))).toEqual(readFileSync(path.join(models(), 'single', 'model.safetensors')));
    const loaded = await modelStore.load<LoadedSafetensors>('single', { modelId: 'single-v1' });
    expect(readdirSync(loaded.directory)).toContain('model.safetensors');
    expect(loaded.files.map((file) => file.name)).toEqual(['model.safetensors']);
    expect(loaded.index).toBeNull();
    expect(loaded.parameters).toBe(want.parameters);
    expect({ ...loaded.files[0]!.header.metadata }).toEqual(want.metadata);
    expect([...loaded.tensors.keys()].sort()).toEqual(names);
    for (const [name, tensor] of Object.entries(want.tensors)) {
      const location = loaded.tensors.get(name)!;
      expect(location).toMatchObject({ dtype: tensor.dtype, shape: tensor.shape, dataOffsets: tensor.data_offsets, parameters: tensor.parameters, file: path.join(loaded.directory, 'model.safetensors') });
      const bytes = await bytesAt(location.file, location.fileOffsets);
      expect(bytes.length).toBe(tensor.nbytes);
      expect(decode(tensor.dtype, bytes)).toEqual(tensor.values);
      expect(await readTensorBytes(location)).toEqual(bytes);
    }
  });

  it('uploads a sharded set by its index and by its folder: the index and both shards are stored, and every tensor is found in its shard', async () => {
    const want = expected().sharded;
    const storage = makeStorage();
    const modelStore = store(storage);
    const byIndex = await modelStore.upload('sharded', { model: path.join(models(), 'sharded', 'model.safetensors.index.json'), modelId: 'by-index' });
    const byFolder = await modelStore.upload('sharded', { model: path.join(models(), 'sharded'), modelId: 'by-folder' });
    expect(await modelStore.listModels('sharded')).toEqual(['by-folder', 'by-index']);
    for (const metadata of [byIndex, byFolder]) {
      expect(metadata.model.model_type).toEqual({ library: 'safetensors', type: 'safetensors-sharded' });
      expect(metadata.model.parameters).toMatchObject({
        sharded: true,
        file_count: 2,
        tensor_count: Object.keys(want.weight_map).length,
        total_parameters: want.parameters,
        data_bytes: want.total_size,
        dtypes: { BF16: { tensors: 1, parameters: 9 }, F16: { tensors: 1, parameters: 9 }, F32: { tensors: 1, parameters: 12 }, I64: { tensors: 1, parameters: 2 } },
        index: { name: 'model.safetensors.index.json', metadata: { total_size: want.total_size } },
        tensors_truncated: false,
      });
      expect((metadata.model.parameters!.files as Array<{ name: string }>).map((file) => file.name)).toEqual(Object.keys(want.files).sort());
    }
    const loaded = await modelStore.load<LoadedSafetensors>('sharded', { modelId: 'by-index' });
    expect(
      readdirSync(loaded.directory)
        .filter((name) => name !== 'model-info.json')
        .sort(),
    ).toEqual([...Object.keys(want.files), 'model.safetensors.index.json'].sort());
    expect(loaded.index).toMatchObject({ name: 'model.safetensors.index.json', weightMap: want.weight_map, metadata: { total_size: want.total_size } });
    expect(loaded.parameters).toBe(want.parameters);
    for (const [shard, file] of Object.entries(want.files)) {
      for (const [name, tensor] of Object.entries(file.tensors)) {
        const location = loaded.tensors.get(name)!;
        expect(location.file).toBe(path.join(loaded.directory, shard));
        expect(location.dataOffsets).toEqual(tensor.data_offsets);
        expect(decode(tensor.dtype, await bytesAt(location.file, location.fileOffsets))).toEqual(tensor.values);
      }
    }
  });

  it('bounds what a 5,000-tensor model records: the first 256 tensors by name, every count and the __metadata__ that fits 16 KiB; load has them all', async () => {
    const want = expected().many;
    const storage = makeStorage();
    const modelStore = store(storage);
    const metadata = await modelStore.upload('many', { model: path.join(models(), 'many', 'model.safetensors') });
    const parameters = metadata.model.parameters as Record<string, any>;
    expect(parameters).toMatchObject({ tensor_count: want.tensor_count, total_parameters: want.parameters, dtypes: { F32: { tensors: want.tensor_count, parameters: want.parameters } }, tensors_truncated: true });
    expect(parameters.tensors.map((tensor: { name: string }) => tensor.name)).toEqual(want.first_names);
    // The 40,000-character note is left out, the short entry kept.
    expect(parameters.files[0]).toMatchObject({ metadata: { format: 'np' }, metadata_truncated: true });
    expect(JSON.stringify(metadata).length).toBeLessThan(64 * 1024);
    const loaded = await modelStore.load<LoadedSafetensors>('many');
    expect(loaded.tensors.size).toBe(want.tensor_count);
    expect(loaded.files[0]!.header.metadata!.note).toHaveLength(40_000);
  });

  it.each(hostileUploads)('refuses $what with an IntegrityError ($reason), and commits nothing', async ({ model, reason }) => {
    const storage = makeStorage();
    const modelStore = store(storage);
    const error = await modelStore.upload('hostile', { model: model() }).catch((e: unknown) => e);
    expect(IntegrityError.isInstance(error)).toBe(true);
    expect(error).toBeInstanceOf(SafetensorsFormatError);
    expect(error).toMatchObject({ code: 'INTEGRITY', reason });
    expect((error as Error).message).toMatch(/Nothing was uploaded\.$/);
    await expectNothingCommitted(modelStore, storage, 'hostile');
  });
});

describe('SafetensorsAdapter', () => {
  const adapter = new SafetensorsAdapter();

  it('matches safetensors files, indexes, folders holding them and lists of files; nothing else', () => {
    const dir = workDir('matches');
    writeFileSync(path.join(dir, 'notes.txt'), 'x');
    expect(adapter.matches(path.join(models(), 'single', 'model.safetensors'))).toBe(true);
    expect(adapter.matches(path.join(models(), 'sharded', 'model.safetensors.index.json'))).toBe(true);
    expect(adapter.matches(path.join(models(), 'sharded'))).toBe(true);
    expect(adapter.matches([path.join(models(), 'single', 'model.safetensors'), path.join(dir, 'notes.txt')])).toBe(true);
    expect(adapter.matches(dir)).toBe(false);
    expect(adapter.matches(path.join(dir, 'notes.txt'))).toBe(false);
    expect(adapter.matches(path.join(dir, 'missing.safetensors'))).toBe(false);
    expect(adapter.matches([path.join(dir, 'notes.txt')])).toBe(false);
    expect(adapter.matches([])).toBe(false);
    expect(adapter.matches(new Uint8Array(8))).toBe(false);
  });

  it('stores the other files of a folder (config.json) beside the weights, and a list of files by base name', async () => {
    const dir = workDir('folder');
    copyFileSync(path.join(models(), 'single', 'model.safetensors'), path.join(dir, 'model.safetensors'));
    writeFileSync(path.join(dir, 'config.json'), '{"hidden_size": 4}');
    const saved = await adapter.save(dir);
    expect(saved.files).toEqual([
      { path: 'config.json', source: path.join(dir, 'config.json') },
      { path: 'model.safetensors', source: path.join(dir, 'model.safetensors') },
    ]);
    const listed = await adapter.save([path.join(dir, 'model.safetensors'), path.join(dir, 'config.json')]);
    expect(listed.files.map((file) => file.path)).toEqual(['model.safetensors', 'config.json']);
  });

  it('follows links, as in a Hugging Face cache snapshot whose files link to ../../blobs/', async () => {
    const cache = workDir('hf-cache');
    mkdirSync(path.join(cache, 'blobs'));
    mkdirSync(path.join(cache, 'snapshots', 'rev1'), { recursive: true });
    copyFileSync(path.join(models(), 'single', 'model.safetensors'), path.join(cache, 'blobs', 'a1b2'));
    writeFileSync(path.join(cache, 'blobs', 'c3d4'), '{"hidden_size": 4}');
    symlinkSync('../../blobs/a1b2', path.join(cache, 'snapshots', 'rev1', 'model.safetensors'));
    symlinkSync('../../blobs/c3d4', path.join(cache, 'snapshots', 'rev1', 'config.json'));
    const modelStore = store(new FileSystemStorage({ root: workDir('registry') }));
    const metadata = await modelStore.upload('cached', { model: path.join(cache, 'snapshots', 'rev1') });
    expect(metadata.model.parameters).toMatchObject({ tensor_count: Object.keys(expected().single.tensors).length, total_parameters: expected().single.parameters });
    const loaded = await modelStore.load<LoadedSafetensors>('cached');
    expect(readFileSync(path.join(loaded.directory, 'config.json'), 'utf8')).toBe('{"hidden_size": 4}');
    expect(readFileSync(path.join(loaded.directory, 'model.safetensors'))).toEqual(readFileSync(path.join(cache, 'blobs', 'a1b2')));
  });

  it('keeps the recorded facts under 200 KiB whatever the headers hold: 300 files, 10,000-character tensor names, 20,000-character metadata values', async () => {
    const dir = workDir('adversarial');
    for (let i = 0; i < 300; i++) {
      const name = `${String(i).padStart(3, '0')}-${'n'.repeat(10_000)}`;
      craft(dir, `w${String(i).padStart(3, '0')}.safetensors`, { __metadata__: { short: 'kept', long: 'v'.repeat(20_000) }, [name]: { dtype: 'U8', shape: [1], data_offsets: [0, 1] } }, 1);
    }
    const saved = await adapter.save(dir);
    const parameters = saved.parameters as Record<string, any>;
    expect(Buffer.byteLength(JSON.stringify(parameters))).toBeLessThan(200 * 1024);
    expect(parameters).toMatchObject({ file_count: 300, tensor_count: 300, total_parameters: 300, files_truncated: true, tensors_truncated: true });
    expect(parameters.files).toHaveLength(256);
    expect(parameters.files[0]).toEqual({ name: 'w000.safetensors', size: expect.any(Number), header_size: expect.any(Number), tensor_count: 1, parameters: 1, metadata: { short: 'kept' }, metadata_truncated: true });
    expect(parameters.tensors.length).toBeGreaterThan(0);
    expect(parameters.tensors.length).toBeLessThan(10);
    expect(saved.files).toHaveLength(300);
  });

  it('a store without the adapter names the package to install when it loads a safetensors model', async () => {
    const storage = new FileSystemStorage({ root: workDir('registry') });
    await store(storage).upload('weights', { model: path.join(models(), 'single', 'model.safetensors') });
    const bare = new ModelStore({ storage, adapters: [], cacheDir: workDir('cache') });
    await expect(bare.load('weights')).rejects.toMatchObject({ code: 'ADAPTER_NOT_FOUND', message: expect.stringContaining('install @modelstore/adapter-safetensors and pass new SafetensorsAdapter()') });
  });

  it('answers bad arguments with typed errors naming the problem', async () => {
    const dir = workDir('arguments');
    writeFileSync(path.join(dir, 'notes.txt'), 'x');
    await expect(adapter.save(42 as unknown as string)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', argument: 'model' });
    await expect(adapter.save([])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(adapter.save(dir)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/holds no \.safetensors file/) });
    await expect(adapter.save(path.join(dir, 'missing.safetensors'))).rejects.toMatchObject({ code: 'SOURCE_FILE', reason: 'missing' });
    const nested = workDir('nested');
    copyFileSync(path.join(models(), 'single', 'model.safetensors'), path.join(nested, 'model.safetensors'));
    cpSync(path.join(models(), 'sharded'), path.join(nested, 'sub'), { recursive: true });
    await expect(adapter.save(nested)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/is a folder/) });
    const twice = workDir('twice');
    copyFileSync(path.join(models(), 'single', 'model.safetensors'), path.join(twice, 'a.safetensors'));
    copyFileSync(path.join(models(), 'single', 'model.safetensors'), path.join(twice, 'b.safetensors'));
    await expect(adapter.save(twice)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/is in two files, a\.safetensors and b\.safetensors/) });
    await expect(adapter.save([path.join(twice, 'a.safetensors'), path.join(models(), 'single', 'model.safetensors'), path.join(dir, 'notes.txt'), path.join(twice, 'a.safetensors')])).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/Two files are named "a\.safetensors"/),
    });
    expect(() => new SafetensorsAdapter({ maxListedTensors: -1 })).toThrow(/maxListedTensors/);
  });

  it('load validates the files again: a shard changed after download is refused with an IntegrityError', async () => {
    const dir = workDir('load');
    cpSync(path.join(models(), 'sharded'), dir, { recursive: true });
    craft(dir, 'model-00002-of-00002.safetensors', { x: { dtype: 'U8', shape: [1], data_offsets: [0, 1] } }, 2);
    await expect(adapter.load(dir, {} as never)).rejects.toMatchObject({ code: 'INTEGRITY', reason: 'trailing-bytes' });
  });

  it('a header error found at load says the downloaded copy is damaged and how to get a good one, not that nothing was uploaded', async () => {
    const dir = workDir('load-damaged');
    cpSync(path.join(models(), 'sharded'), dir, { recursive: true });
    const shard = path.join(dir, 'model-00002-of-00002.safetensors');
    craft(dir, 'model-00002-of-00002.safetensors', { x: { dtype: 'U8', shape: [1], data_offsets: [0, 1] } }, 2);
    const error = (await adapter.load(dir, {} as never).catch((caught: unknown) => caught)) as SafetensorsFormatError;
    expect(error).toBeInstanceOf(SafetensorsFormatError);
    expect(error).toMatchObject({ code: 'INTEGRITY', reason: 'trailing-bytes', file: shard });
    expect(error.message).toMatch(/^\S+model-00002-of-00002\.safetensors is not a valid safetensors file: /);
    expect(error.message).not.toMatch(/Nothing was uploaded/);
    expect(error.message).toMatch(/It was not loaded: the downloaded copy of the model on this machine is damaged/);
    expect(error.message).toMatch(/Download it again/);
    expect(error.message).toMatch(/modelstore cache prune/);
    // The same file at upload keeps the upload's words.
    await expect(adapter.save(shard)).rejects.toMatchObject({ reason: 'trailing-bytes', message: expect.stringMatching(/Nothing was uploaded\.$/) });
  });
});
