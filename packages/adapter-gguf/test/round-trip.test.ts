import { describe, expect, it } from '@jest/globals';
import { type ModelMetadata, ModelStore } from '@modelstore/core';
import { FileSystemStorage } from '@modelstore/storage-fs';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { LlamaModel, Token } from 'node-llama-cpp';
import { GgufAdapter } from '../src/index.js';
import { type BackendName, cpuOptions, createStore, type Expected, expected, model, workDir } from './helpers.js';

/** Greedy continuation of the prompt, and the probability llama.cpp gives each chosen token. */
async function generate(llm: LlamaModel, prompt: Token[], steps: number): Promise<{ tokens: number[]; confidence: number[] }> {
  const context = await llm.createContext({ contextSize: 64 });
  try {
    const tokens: number[] = [];
    const confidence: number[] = [];
    for await (const output of context.getSequence().evaluateWithMetadata(prompt, { confidence: true }, { temperature: 0 })) {
      tokens.push(output.token);
      confidence.push(output.confidence);
      if (tokens.length >= steps) break;
    }
    return { tokens, confidence };
  } finally {
    await context.dispose();
  }
}

/** The facts the metadata must hold, from what the Python script wrote. */
function expectedFacts(want: Expected, files: string[], size: number) {
  return {
    architecture: want.architecture,
    name: want.name,
    parameter_count: want.parameter_count,
    context_length: want.context_length,
    embedding_length: want.embedding_length,
    block_count: want.block_count,
    file_type: want.file_type,
    tensor_types: { F32: want.tensor_count },
    tokenizer_model: want.tokenizer_model,
    vocab_size: want.vocab_size,
    chat_template: true,
    gguf_version: want.gguf_version,
    byte_order: 'little',
    tensor_count: want.tensor_count,
    files,
    size,
  };
}

async function checkGenerates(store: ModelStore, domain: string, want: Expected): Promise<void> {
  const llm = await store.load<LlamaModel>(domain);
  try {
    expect(llm.trainContextSize).toBe(want.context_length);
    const { tokens, confidence } = await generate(llm, want.prompt as Token[], want.generated.length);
    // The numpy forward pass of the same weights chose these tokens (every top-2 margin >= 0.05 logits).
    expect(tokens).toEqual(want.generated);
    confidence.forEach((p, i) => expect(Math.abs(p - want.probabilities[i]!)).toBeLessThan(0.01));
    expect(tokens.every((token) => token >= 0 && token < want.vocab_size)).toBe(true);
  } finally {
    await llm.dispose();
  }
}

const backends: BackendName[] = ['fs', 'minio'];

describe.each(backends)('GgufAdapter on %s', (backend) => {
  it('one .gguf file: upload -> listModels -> getModelInfo shows the header facts -> download -> load -> greedy tokens equal numpy', async () => {
    const want = expected();
    const { store } = createStore(backend);
    const file = model('tiny-llama.gguf');
    const size = readFileSync(file).length;
    const uploaded = await store.upload('tiny-llama', { model: file, modelId: 'tiny-v1' });
    expect(uploaded.model.model_type).toEqual({ library: 'gguf', type: 'llama' });
    expect(uploaded.code!.dependencies!['node-llama-cpp']).toBe('3.21.1');
    expect(await store.listModels('tiny-llama')).toEqual(['tiny-v1']);
    const info = await store.getModelInfo('tiny-llama', 'tiny-v1');
    expect(info.model.parameters).toEqual(expectedFacts(want, ['tiny-llama.gguf'], size));

    const directory = await store.download('tiny-llama', { modelId: 'tiny-v1', to: path.join(workDir('download'), 'out') });
    expect(readdirSync(directory).sort()).toEqual(['model-info.json', 'tiny-llama.gguf']);
    expect(Buffer.compare(readFileSync(path.join(directory, 'tiny-llama.gguf')), readFileSync(file))).toBe(0);
    await checkGenerates(store, 'tiny-llama', want);
  });

  it('a split set named by its first part: every part stored, facts summed over the parts, llama.cpp loads the set', async () => {
    const want = expected();
    const { store } = createStore(backend);
    const sizes = want.split_files.reduce((total, name) => total + readFileSync(model(name)).length, 0);
    await store.upload('tiny-split', { model: model(want.split_files[0]!), modelId: 'split-v1' });
    const info = await store.getModelInfo('tiny-split', 'split-v1');
    expect(info.model.parameters).toEqual(expectedFacts(want, want.split_files, sizes));
    expect(Object.keys(info.archive!.files).sort()).toEqual(['model-info.json', ...want.split_files].sort());
    await checkGenerates(store, 'tiny-split', want);
  });
});

describe('GgufAdapter inputs and options', () => {
  it('takes a split set as the list of its parts in any order, or by any part; bytes become model.gguf', async () => {
    const want = expected();
    const { store } = createStore('fs');
    const parts = want.split_files.map(model);
    const listed = await store.upload('tiny-split', { model: [parts[2]!, parts[0]!, parts[1]!] });
    expect((listed.model.parameters as { files: string[] }).files).toEqual(want.split_files);
    const byLastPart = await store.upload('tiny-split', { model: parts[2]! });
    expect((byLastPart.model.parameters as { files: string[] }).files).toEqual(want.split_files);
    const bytes = await store.upload('tiny-bytes', { model: readFileSync(model('tiny-llama.gguf')) });
    expect((bytes.model.parameters as { files: string[]; parameter_count: number }).files).toEqual(['model.gguf']);
    await checkGenerates(store, 'tiny-bytes', want);
  });

  it('matches .gguf paths, lists of them and GGUF bytes only', () => {
    const adapter = new GgufAdapter();
    const want = expected();
    expect(adapter.matches(model('tiny-llama.gguf'))).toBe(true);
    expect(adapter.matches(want.split_files.map(model))).toBe(true);
    expect(adapter.matches(readFileSync(model('tiny-llama.gguf')))).toBe(true);
    expect(adapter.matches(model('expected.json'))).toBe(false);
    expect(adapter.matches(model('missing.gguf'))).toBe(false);
    expect(adapter.matches([])).toBe(false);
    expect(adapter.matches(new Uint8Array([0x47, 0x47, 0x55]))).toBe(false);
    expect(adapter.matches({ modelPath: 'x.gguf' })).toBe(false);
  });

  it('passes gpuLayers and refuses a context larger than the model was trained with', async () => {
    const { store } = createStore('fs', new GgufAdapter({ ...cpuOptions, gpuLayers: 0, contextSize: 128 }));
    await store.upload('tiny-llama', { model: model('tiny-llama.gguf') });
    const llm = await store.load<LlamaModel>('tiny-llama');
    expect(llm.gpuLayers).toBe(0);
    await llm.dispose();
    const { store: tooLong } = createStore('fs', new GgufAdapter({ ...cpuOptions, contextSize: 100_000 }));
    await tooLong.upload('tiny-llama', { model: model('tiny-llama.gguf') });
    await expect(tooLong.load('tiny-llama')).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'contextSize' });
  });

  it('load without recorded files (a model another tool stored): the only .gguf, or the first split part, of the folder', async () => {
    const want = expected();
    const adapter = new GgufAdapter(cpuOptions);
    const bare = { model: { domain: 'd', model_id: 'm', model_type: { library: 'gguf' } }, storage: { type: 'file_system' }, modelstore: '0.0.82' } as unknown as ModelMetadata;
    const split = workDir('split');
    for (const name of [...want.split_files].reverse()) copyFileSync(model(name), path.join(split, name));
    const hostile = { ...bare, model: { ...bare.model, parameters: { files: ['../../tiny-llama.gguf'] } } } as unknown as ModelMetadata;
    for (const metadata of [bare, hostile]) {
      const llm = await adapter.load(split, metadata);
      expect((llm.fileInfo.metadata as { split?: { count?: number } }).split?.count).toBe(3);
      await llm.dispose();
    }
    const empty = workDir('empty');
    await expect(adapter.load(empty, bare)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/holds no \.gguf file/) });
    copyFileSync(model('tiny-llama.gguf'), path.join(empty, 'a.gguf'));
    copyFileSync(model('tiny-llama.gguf'), path.join(empty, 'b.gguf'));
    await expect(adapter.load(empty, bare)).rejects.toThrow(/holds 2 \.gguf files and no first split part/);
    writeFileSync(path.join(split, 'broken.gguf'), 'GGUF');
    const broken = { ...bare, model: { ...bare.model, parameters: { files: ['broken.gguf'] } } } as unknown as ModelMetadata;
    await expect(adapter.load(split, broken)).rejects.toMatchObject({ code: 'MODELSTORE_ERROR', message: expect.stringMatching(/^node-llama-cpp could not load "broken.gguf"/) });
  });

  it('loads with no network: a new adapter makes its Llama, loads and generates without opening a socket', async () => {
    const want = expected();
    const { store } = createStore('fs');
    await store.upload('tiny-llama', { model: model('tiny-llama.gguf') });
    // Every TCP connection of Node (http, https, undici's fetch) goes through Socket.prototype.connect.
    const attempts: unknown[] = [];
    const connect = net.Socket.prototype.connect;
    net.Socket.prototype.connect = function refuse(this: net.Socket, ...args: unknown[]) {
      attempts.push(args[0]);
      throw new Error('no network in this test');
    } as typeof connect;
    try {
      // The guard sees fetch: one attempt recorded, then forgotten.
      await fetch('http://127.0.0.2:80/').catch(() => undefined);
      expect(attempts).toHaveLength(1);
      attempts.length = 0;
      await checkGenerates(store, 'tiny-llama', want);
    } finally {
      net.Socket.prototype.connect = connect;
    }
    expect(attempts).toEqual([]);
  });

  it('a store without GgufAdapter says which package loads the model', async () => {
    const { store, root } = createStore('fs');
    await store.upload('tiny-llama', { model: model('tiny-llama.gguf') });
    const without = new ModelStore({ storage: new FileSystemStorage({ root }), adapters: [], cacheDir: workDir('cache') });
    await expect(without.load('tiny-llama')).rejects.toThrow(/install @modelstore\/adapter-gguf and pass new GgufAdapter\(\)/);
  });

  it('refuses bad options when the adapter is made', () => {
    expect(() => new GgufAdapter({ gpuLayers: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'gpuLayers' }) as never);
    expect(() => new GgufAdapter({ gpuLayers: 'all' as never })).toThrow(/gpuLayers must be/);
    expect(() => new GgufAdapter({ contextSize: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option: 'contextSize' }) as never);
  });
});
