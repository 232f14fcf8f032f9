import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FeatureExtractionPipeline, PreTrainedModel, PreTrainedTokenizer, Tensor } from '@huggingface/transformers';
import { DomainNotFoundError, InvalidArgumentError, ModelStore, SourceFileError, UnsafeArchiveError, type ModelAdapter, type SavedModel, type Storage } from '@modelstore/core';
import { run as runCli } from '@modelstore/cli';
import { cpSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { loadTransformersFolder, TransformersAdapter, type TransformersFolderFacts, type TransformersParts } from '../src/index.js';
import { freshFolder, guardNetwork, listFiles, maxDifference, runPython, sizeOf, storageFor, storeFor, testEnvironment, uncheckedAdapter, type Backend, type Expected } from './helpers.js';

const env = testEnvironment();
const expected = JSON.parse(readFileSync(env.fixtures.expected, 'utf8')) as Expected;
const modelFiles = ['config.json', 'onnx/model.onnx', 'onnx/model.onnx_data', 'onnx/model_quantized.onnx', 'tokenizer.json', 'tokenizer_config.json'];
const tolerance = 1e-5;

let guard: ReturnType<typeof guardNetwork>;
beforeAll(() => {
  guard = guardNetwork();
});
afterAll(() => {
  guard.restore();
  // No test of this file, the loads included, tried to reach anything but 127.0.0.1.
  expect(guard.attempts).toEqual([]);
});

/** What the metadata must record about the fixture, from the files on disk (not from the code under test). */
function expectedFacts(): TransformersFolderFacts {
  const file = (name: string) => path.join(env.fixtures.model, name);
  const fp32 = sizeOf(file('onnx/model.onnx'));
  const data = sizeOf(file('onnx/model.onnx_data'));
  const q8 = sizeOf(file('onnx/model_quantized.onnx'));
  return {
    model_type: 'bert',
    architectures: ['BertModel'],
    task: 'feature-extraction',
    task_source: 'architectures',
    onnx: [
      { file: 'onnx/model.onnx', model: 'model', dtype: 'fp32', size: fp32, external_data: [{ file: 'onnx/model.onnx_data', size: data }], total_size: fp32 + data },
      { file: 'onnx/model_quantized.onnx', model: 'model', dtype: 'q8', size: q8, external_data: [], total_size: q8 },
    ],
    tokenizer_files: ['tokenizer.json', 'tokenizer_config.json'],
    files: modelFiles.length,
    size: modelFiles.reduce((sum, name) => sum + sizeOf(file(name)), 0),
  };
}

async function embed(extractor: FeatureExtractionPipeline): Promise<{ pooled: Tensor; raw: Tensor }> {
  return {
    pooled: await extractor(expected.sentence, { pooling: 'mean', normalize: true }),
    raw: await extractor(expected.sentence, { pooling: 'none' }),
  };
}

function expectEmbeddings(result: { pooled: Tensor; raw: Tensor }, variant: 'fp32' | 'q8'): void {
  const want = expected.variants[variant];
  expect(result.pooled.dims).toEqual([1, expected.hidden_size]);
  expect(maxDifference(result.pooled.data as Float32Array, want.mean_pooled_normalized)).toBeLessThan(tolerance);
  expect(result.raw.dims).toEqual([1, expected.input_ids.length, expected.hidden_size]);
  expect(maxDifference(result.raw.data as Float32Array, want.last_hidden_state.flat())).toBeLessThan(tolerance);
}

/** Asserts that nothing of `domain` reached the storage: no model listed, no object under its prefix. */
async function expectNothingCommitted(store: ModelStore, storage: Storage, domain: string): Promise<void> {
  await expect(store.listModels(domain)).rejects.toBeInstanceOf(DomainNotFoundError);
  expect(await store.listDomains()).not.toContain(domain);
  const listed = await storage.list(`operatorai-model-store/${domain}/`);
  expect(listed.objects).toEqual([]);
}

describe.each<Backend>(['file system', 'minio'])('TransformersAdapter on %s', (backend) => {
  it('uploads the folder, records its facts, downloads it as the same layout, and loads a pipeline that gives the numpy embeddings, offline', async () => {
    const storage = storageFor(env, backend);
    const store = storeFor(env, storage);
    const metadata = await store.upload('bert', { model: env.fixtures.model });
    const id = metadata.model.model_id;
    expect(await store.listModels('bert')).toEqual([id]);

    const info = await store.getModelInfo('bert', id);
    expect(info.model.model_type).toEqual({ library: 'transformers.js', type: 'BertModel' });
    expect(info.model.parameters).toEqual(expectedFacts());
    expect(Object.keys(info.archive?.files ?? {}).sort()).toEqual(['model-info.json', ...modelFiles].sort());

    const to = path.join(freshFolder(env, 'download'), 'tiny-bert');
    await store.download('bert', { modelId: id, to });
    expect(listFiles(to)).toEqual(['model-info.json', ...modelFiles].sort());
    for (const name of modelFiles) expect(readFileSync(path.join(to, name)).equals(readFileSync(path.join(env.fixtures.model, name)))).toBe(true);

    const extractor = await store.load<FeatureExtractionPipeline>('bert', { modelId: id });
    const encoded = await extractor.tokenizer(expected.sentence);
    expect(Array.from(encoded.input_ids.data as BigInt64Array, Number)).toEqual(expected.input_ids);
    expect(Array.from(encoded.token_type_ids!.data as BigInt64Array, Number)).toEqual(expected.token_type_ids);
    expectEmbeddings(await embed(extractor), 'fp32');
    await extractor.dispose();
    expect(guard.attempts).toEqual([]);
  });

  it('loads the quantised variant when asked for q8, and refuses a dtype the folder does not have', async () => {
    const storage = storageFor(env, backend);
    await storeFor(env, storage).upload('bert', { model: { directory: env.fixtures.model, task: 'feature-extraction' }, modelId: 'tiny' });
    const info = await storeFor(env, storage).getModelInfo('bert', 'tiny');
    expect(info.model.parameters).toMatchObject({ task: 'feature-extraction', task_source: 'given' });

    const extractor = await storeFor(env, storage, { dtype: 'q8' }).load<FeatureExtractionPipeline>('bert');
    expectEmbeddings(await embed(extractor), 'q8');
    await extractor.dispose();

    const missing = storeFor(env, storage, { dtype: 'q4' }).load('bert');
    await expect(missing).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'dtype' });
    await expect(missing).rejects.toThrow(/q4 variant; the folder has fp32 \(onnx\/model\.onnx, \d+ bytes\), q8 \(onnx\/model_quantized\.onnx, \d+ bytes\)/);
    expect(guard.attempts).toEqual([]);
  });

  it('refuses external data outside the folder (relative or absolute) and a folder without config.json, and commits nothing', async () => {
    const storage = storageFor(env, backend);
    const store = storeFor(env, storage);
    for (const [folder, location] of [
      [env.fixtures.parentRelative, '../../etc/passwd'],
      [env.fixtures.absolute, '/etc/passwd'],
    ] as const) {
      const upload = store.upload('hostile', { model: folder });
      await expect(upload).rejects.toBeInstanceOf(SourceFileError);
      await expect(upload).rejects.toMatchObject({ reason: 'link-outside', path: path.join(folder, 'onnx/model.onnx') });
      await expect(upload).rejects.toThrow(`onnx/model.onnx in the model: it keeps tensor "word_table" as external data at ${JSON.stringify(location)}`);
    }
    const noConfig = freshFolder(env, 'no-config');
    cpSync(env.fixtures.model, noConfig, { recursive: true });
    rmSync(path.join(noConfig, 'config.json'));
    // A bare path without config.json is not this adapter's; { directory } says what is wrong with it.
    expect(new TransformersAdapter().matches(noConfig)).toBe(false);
    const upload = store.upload('hostile', { model: { directory: noConfig } });
    await expect(upload).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(upload).rejects.toThrow(`${noConfig} has no config.json: a Hugging Face-layout model folder needs config.json at its top`);
    await expectNothingCommitted(store, storage, 'hostile');
  });
});

describe('TransformersAdapter, beyond one backend', () => {
  it('gives the model and tokenizer with output "parts"', async () => {
    const storage = storageFor(env, 'file system');
    await storeFor(env, storage).upload('bert', { model: env.fixtures.model });
    const parts = await storeFor(env, storage, { output: 'parts' }).load<TransformersParts<PreTrainedModel, PreTrainedTokenizer>>('bert');
    expect(parts.tokenizer).not.toBeNull();
    const inputs = await parts.tokenizer!(expected.sentence);
    const output = (await parts.model(inputs)) as { last_hidden_state: Tensor };
    expect(maxDifference(output.last_hidden_state.data as Float32Array, expected.variants.fp32.last_hidden_state.flat())).toBeLessThan(tolerance);
    expect((parts.config as { model_type: string }).model_type).toBe('bert');
    await parts.model.dispose();
    expect(guard.attempts).toEqual([]);
  });

  it('leaves a downloaded folder loadable by transformers.js alone, through env.localModelPath', async () => {
    const storage = storageFor(env, 'file system');
    const store = storeFor(env, storage);
    await store.upload('bert', { model: env.fixtures.model });
    const parent = freshFolder(env, 'models');
    await store.download('bert', { to: path.join(parent, 'tiny-bert') });
    const transformers = await import('@huggingface/transformers');
    const saved = { localModelPath: transformers.env.localModelPath, allowRemoteModels: transformers.env.allowRemoteModels };
    transformers.env.localModelPath = parent;
    transformers.env.allowRemoteModels = false;
    try {
      const extractor = await transformers.pipeline('feature-extraction', 'tiny-bert', { dtype: 'fp32' });
      expectEmbeddings(await embed(extractor), 'fp32');
      await extractor.dispose();
    } finally {
      Object.assign(transformers.env, saved);
    }
    expect(guard.attempts).toEqual([]);
  });

  it('loads without touching transformers.js env when its defaults are on, and switches allowLocalModels on only while loading', async () => {
    const transformers = await import('@huggingface/transformers');
    const before = { ...transformers.env };
    const folder = freshFolder(env, 'direct');
    cpSync(env.fixtures.model, folder, { recursive: true });
    const extractor = await loadTransformersFolder<FeatureExtractionPipeline>(folder, { task: 'feature-extraction' });
    expectEmbeddings(await embed(extractor), 'fp32');
    await extractor.dispose();
    expect({ ...transformers.env }).toEqual(before);
    expect(transformers.env.allowRemoteModels).toBe(true);

    transformers.env.allowLocalModels = false;
    try {
      // Two loads at once: the switch stays on until the last one ends, then goes back.
      const [again, other] = await Promise.all([
        loadTransformersFolder<FeatureExtractionPipeline>(folder, { task: 'feature-extraction', dtype: 'q8' }),
        loadTransformersFolder<FeatureExtractionPipeline>(folder, { task: 'feature-extraction', dtype: 'fp32' }),
      ]);
      expect(transformers.env.allowLocalModels).toBe(false);
      expectEmbeddings(await embed(again), 'q8');
      expectEmbeddings(await embed(other), 'fp32');
      await again.dispose();
      await other.dispose();
    } finally {
      transformers.env.allowLocalModels = true;
    }
    expect(guard.attempts).toEqual([]);
  });

  it('refuses to load a stored model whose ONNX names external data outside its folder', async () => {
    const unchecked = uncheckedAdapter;
    const storage = storageFor(env, 'file system');
    const tampered = freshFolder(env, 'tampered');
    cpSync(env.fixtures.model, tampered, { recursive: true });
    cpSync(path.join(env.fixtures.parentRelative, 'onnx/model.onnx'), path.join(tampered, 'onnx/model.onnx'));
    await new ModelStore({ storage, adapters: [unchecked], cacheDir: freshFolder(env, 'cache') }).upload('bert', { model: tampered });
    const load = storeFor(env, storage).load('bert');
    await expect(load).rejects.toBeInstanceOf(UnsafeArchiveError);
    await expect(load).rejects.toThrow('"../../etc/passwd", a location outside the model folder');
  });

  it("is read by Python modelstore 0.0.82: get_model_info returns the facts as model.parameters, and Python's download loads here", async () => {
    const root = freshFolder(env, 'python-registry');
    const store = storeFor(env, new (await import('@modelstore/storage-fs')).FileSystemStorage({ root }));
    const metadata = await store.upload('bert', { model: env.fixtures.model });
    const target = freshFolder(env, 'python-download');
    const code = [
      'import json, sys',
      'from modelstore import ModelStore',
      'store = ModelStore.from_file_system(sys.argv[1], create_directory=False)',
      'info = store.get_model_info("bert", sys.argv[2])',
      'folder = store.download(sys.argv[3], "bert", sys.argv[2])',
      'print(json.dumps({"info": info, "folder": folder}))',
    ].join('\n');
    const answer = JSON.parse(await runPython(env.python, code, [root, metadata.model.model_id, target])) as { info: { model: { parameters: unknown; model_type: { library: string } } }; folder: string };
    expect(answer.info.model.model_type.library).toBe('transformers.js');
    expect(answer.info.model.parameters).toEqual(expectedFacts());
    const extractor = await loadTransformersFolder<FeatureExtractionPipeline>(answer.folder);
    expectEmbeddings(await embed(extractor), 'fp32');
    await extractor.dispose();
  });

  it('shows the recorded facts in `modelstore info`: the architecture and task, then one line per ONNX variant', async () => {
    const root = freshFolder(env, 'cli-registry');
    const store = storeFor(env, new (await import('@modelstore/storage-fs')).FileSystemStorage({ root }));
    const { model } = await store.upload('bert', { model: env.fixtures.model, modelId: 'tiny' });
    let stdout = '';
    let stderr = '';
    const sink = (append: (text: string) => void) => new Writable({ write: (chunk: Buffer, _encoding, done) => (append(chunk.toString()), done()) });
    const io = { stdout: sink((text) => (stdout += text)), stderr: sink((text) => (stderr += text)), stdin: Readable.from([]), env: {} };
    expect(await runCli(['--store', pathToFileURL(root).href, 'info', 'bert', 'tiny'], io)).toBe(0);
    expect(stderr).toBe('');
    const facts = model.parameters as unknown as TransformersFolderFacts;
    const [fp32, q8] = facts.onnx;
    expect(stdout).toMatch(/transformers\.js: +bert \(BertModel\), task feature-extraction \(inferred from architectures\), 6 files, 5\.\d KiB\n/);
    expect(stdout).toMatch(new RegExp(`onnx: +fp32 onnx/model\\.onnx ${fp32!.total_size >= 1024 ? '1\\.\\d KiB' : `${fp32!.total_size} B`} \\(with onnx/model\\.onnx_data\\)\n`));
    expect(stdout).toMatch(new RegExp(`onnx: +q8 onnx/model_quantized\\.onnx ${q8!.total_size >= 1024 ? '1\\.\\d KiB' : `${q8!.total_size} B`}\n`));
    expect(stdout).toContain('  onnx: 2 listed (--json prints them)\n');
  });

  it('names the package to install when a store without the adapter loads a transformers.js model', async () => {
    const storage = storageFor(env, 'file system');
    await storeFor(env, storage).upload('bert', { model: env.fixtures.model });
    const bare = new ModelStore({ storage, cacheDir: freshFolder(env, 'cache') });
    await expect(bare.load('bert')).rejects.toMatchObject({ code: 'ADAPTER_NOT_FOUND', message: expect.stringContaining('install @modelstore/adapter-transformers and pass new TransformersAdapter()') as unknown as string });
  });

  it('has a network guard that does refuse a connection (to 127.0.0.2, which is not allowed)', async () => {
    const before = guard.attempts.length;
    await expect(fetch('http://127.0.0.2:59999/')).rejects.toThrow();
    expect(guard.attempts.slice(before)).toEqual(['127.0.0.2:59999']);
    guard.attempts.splice(before);
  });
});

describe('TransformersAdapter folder layouts', () => {
  it('follows file links out of a Hugging Face cache snapshot, skips .git, and refuses a folder link that leads outside', async () => {
    const cache = freshFolder(env, 'hf-cache');
    const blobs = path.join(cache, 'blobs');
    const snapshot = path.join(cache, 'snapshots', 'main');
    mkdirSync(blobs);
    mkdirSync(path.join(snapshot, 'onnx'), { recursive: true });
    for (const [index, name] of modelFiles.entries()) {
      cpSync(path.join(env.fixtures.model, name), path.join(blobs, `blob${index}`));
      symlinkSync(path.join(blobs, `blob${index}`), path.join(snapshot, name));
    }
    mkdirSync(path.join(snapshot, '.git'));
    writeFileSync(path.join(snapshot, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    const storage = storageFor(env, 'file system');
    const store = storeFor(env, storage);
    const { model } = await store.upload('bert', { model: snapshot });
    expect(model.parameters).toEqual(expectedFacts());
    const to = path.join(freshFolder(env, 'download'), 'snapshot');
    await store.download('bert', { to });
    expect(listFiles(to)).toEqual(['model-info.json', ...modelFiles].sort());
    for (const name of modelFiles) expect(lstatSync(path.join(to, name)).isFile()).toBe(true);
    const extractor = await store.load<FeatureExtractionPipeline>('bert');
    expectEmbeddings(await embed(extractor), 'fp32');
    await extractor.dispose();
    // The snapshot itself, links and all, loads as it is.
    const direct = await loadTransformersFolder<FeatureExtractionPipeline>(snapshot, { dtype: 'q8' });
    expectEmbeddings(await embed(direct), 'q8');
    await direct.dispose();

    symlinkSync(blobs, path.join(snapshot, 'elsewhere'));
    await expect(store.upload('bert', { model: snapshot })).rejects.toMatchObject({ code: 'SOURCE_FILE', reason: 'link-outside' });
    expect(await store.listModels('bert')).toEqual([model.model_id]);
  });

  it('loads a folder whose .onnx files sit at its top (no onnx/ subfolder)', async () => {
    const flat = freshFolder(env, 'flat');
    for (const name of modelFiles) cpSync(path.join(env.fixtures.model, name), path.join(flat, path.basename(name)));
    const store = storeFor(env, storageFor(env, 'file system'));
    const { model } = await store.upload('bert', { model: flat });
    expect((model.parameters as unknown as TransformersFolderFacts).onnx.map((variant) => [variant.file, variant.dtype, variant.external_data.map((data) => data.file)])).toEqual([
      ['model.onnx', 'fp32', ['model.onnx_data']],
      ['model_quantized.onnx', 'q8', []],
    ]);
    const extractor = await store.load<FeatureExtractionPipeline>('bert');
    expectEmbeddings(await embed(extractor), 'fp32');
    await extractor.dispose();
  });

  it('refuses an .onnx file that is not an ONNX protobuf, at upload and at load', async () => {
    const folder = freshFolder(env, 'garbage');
    cpSync(env.fixtures.model, folder, { recursive: true });
    writeFileSync(path.join(folder, 'onnx/model_fp16.onnx'), Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]));
    await expect(new TransformersAdapter().save(folder)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('onnx/model_fp16.onnx in ') as unknown as string });
    await expect(loadTransformersFolder(folder, { task: 'feature-extraction' })).rejects.toMatchObject({ code: 'INTEGRITY' });
  });
});

describe('TransformersAdapter arguments', () => {
  it('says what is wrong with a model, a folder or an option, before any I/O on the store', async () => {
    const adapter = new TransformersAdapter();
    expect(adapter.matches(env.fixtures.model)).toBe(true);
    expect(adapter.matches({ directory: '/nowhere' })).toBe(true);
    expect(adapter.matches(path.join(env.fixtures.model, 'config.json'))).toBe(false);
    expect(adapter.matches(42)).toBe(false);
    await expect(adapter.save(42 as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', argument: 'model' });
    await expect(adapter.save(path.join(env.fixtures.model, 'config.json'))).rejects.toThrow(/is not a folder/);
    await expect(adapter.save(path.join(env.work, 'does-not-exist'))).rejects.toMatchObject({ code: 'SOURCE_FILE', reason: 'missing' });
    await expect(adapter.save({ directory: env.fixtures.model, task: 'telepathy' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', argument: 'task' });
    expect(() => new TransformersAdapter({ dtipe: 'q8' } as never)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'dtipe' }) as never);
    expect(() => new TransformersAdapter({ output: 'model' } as never)).toThrow(/output is 'pipeline' or 'parts'/);

    const noOnnx = freshFolder(env, 'no-onnx');
    writeFileSync(path.join(noOnnx, 'config.json'), JSON.stringify({ model_type: 'bert' }));
    await expect(adapter.save({ directory: noOnnx })).rejects.toThrow(/holds no \.onnx file/);
    writeFileSync(path.join(noOnnx, 'config.json'), '{"architectures": []}');
    await expect(adapter.save({ directory: noOnnx })).rejects.toThrow(/config\.json has no "model_type"/);
    writeFileSync(path.join(noOnnx, 'config.json'), '{not json');
    await expect(adapter.save({ directory: noOnnx })).rejects.toThrow(/config\.json is not valid JSON/);

    const noTask = freshFolder(env, 'no-task');
    cpSync(env.fixtures.model, noTask, { recursive: true });
    const config = JSON.parse(readFileSync(path.join(noTask, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(path.join(noTask, 'config.json'), JSON.stringify({ ...config, architectures: ['SomethingNew'] }));
    await expect(loadTransformersFolder(noTask)).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'task' });

    const broken = freshFolder(env, 'broken');
    cpSync(env.fixtures.model, broken, { recursive: true });
    rmSync(path.join(broken, 'onnx/model.onnx_data'));
    await expect(adapter.save(broken)).rejects.toMatchObject({ code: 'SOURCE_FILE', reason: 'dangling-link' });
    await expect(loadTransformersFolder(broken, { task: 'feature-extraction' })).rejects.toMatchObject({ code: 'INTEGRITY' });
  });
});
