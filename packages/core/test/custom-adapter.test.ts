// The custom adapter example of the core README, run as a test: keep the two in step.
import { describe, expect, it } from '@jest/globals';
import { AdapterNotFoundError, MemoryStorage, ModelStore, type ModelAdapter, type ModelMetadata, type SavedModel } from '../src/index.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// --- README example: start -------------------------------------------------------
/** A model that is plain data: its weights and a bias, serialised as JSON. */
interface LinearModel {
  kind: 'linear';
  weights: number[];
  bias: number;
}

class LinearJsonAdapter implements ModelAdapter<LinearModel, LinearModel> {
  readonly specificationVersion = 'v1' as const;
  readonly library = 'linear-json';

  matches(model: unknown): boolean {
    return typeof model === 'object' && model !== null && (model as LinearModel).kind === 'linear';
  }

  async save(model: LinearModel): Promise<SavedModel> {
    return {
      files: [{ path: 'model.json', source: Buffer.from(JSON.stringify(model)) }],
      type: 'LinearModel',
      parameters: { features: model.weights.length },
    };
  }

  async load(directory: string, _metadata: ModelMetadata): Promise<LinearModel> {
    const { readFile } = await import('node:fs/promises');
    return JSON.parse(await readFile(`${directory}/model.json`, 'utf8')) as LinearModel;
  }
}
// --- README example: end ---------------------------------------------------------

describe('a custom adapter', () => {
  it('uploads and loads a JSON-serialised model (the README example)', async () => {
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'modelstore-custom-'));
    try {
      const store = new ModelStore({ storage: new MemoryStorage(), adapters: [new LinearJsonAdapter()], cacheDir });
      const model: LinearModel = { kind: 'linear', weights: [0.5, -2], bias: 1 };
      const metadata = await store.upload('pricing', { model });
      expect(metadata.model.model_type).toEqual({ library: 'linear-json', type: 'LinearModel' });
      expect(metadata.model.parameters).toEqual({ features: 2 });
      expect(await store.load<LinearModel>('pricing')).toEqual(model);
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it('keeps the README in step with this example', () => {
    const readme = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
    const source = readFileSync(__filename, 'utf8');
    const example = source.slice(source.indexOf('/** A model that is plain data'), source.indexOf('// --- README example: end')).trim();
    expect(readme).toContain(example);
  });
});

describe('choosing an adapter', () => {
  const other: ModelAdapter = { specificationVersion: 'v1', library: 'other', matches: () => false, save: async () => ({ files: [] }), load: async () => undefined };

  it('names the registered adapters when none accepts the model', async () => {
    const store = new ModelStore({ storage: new MemoryStorage(), adapters: [new LinearJsonAdapter(), other] });
    const error = await store.upload('d', { model: { kind: 'tree' } }).catch((e: unknown) => e);
    expect(AdapterNotFoundError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/registered: linear-json, other/);
  });

  it('uses the adapter named by the adapter option, and refuses an unknown name', async () => {
    const store = new ModelStore({ storage: new MemoryStorage(), adapters: [other, new LinearJsonAdapter()] });
    const metadata = await store.upload('d', { model: { kind: 'linear', weights: [], bias: 0 }, adapter: 'linear-json' });
    expect(metadata.model.model_type.library).toBe('linear-json');
    await expect(store.upload('d', { model: {}, adapter: 'onnx' })).rejects.toThrow(/No adapter for library "onnx" is registered \(registered: other, linear-json\)/);
  });

  it('says which package to install when a stored library has no adapter', async () => {
    const storage = new MemoryStorage();
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'modelstore-choose-'));
    try {
      const writer = new ModelStore({ storage, adapters: [{ ...other, library: 'onnx', matches: () => true, save: async () => ({ files: [{ path: 'model.onnx', source: new Uint8Array([8, 1]) }] }) }], cacheDir });
      await writer.upload('d', { model: 'anything' });
      const reader = new ModelStore({ storage, adapters: [new LinearJsonAdapter()], cacheDir });
      await expect(reader.load('d')).rejects.toThrow(/install @modelstore\/adapter-onnx and pass new OnnxAdapter\(\)/);
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });
});
