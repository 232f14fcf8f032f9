// copyModel under another id: into another store, or into the same one.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MemoryStorage, ModelStore } from '../src/index.js';
import { layout } from '../src/internal.js';
import { textAdapter } from './bytes-adapter.js';

let work: string;
beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'modelstore-copy-as-'));
});
afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('copyModel with targetModelId', () => {
  it('copies under the new id, into another store and into the same one, leaving the source as it was', async () => {
    const source = new ModelStore({ storage: new MemoryStorage(), adapters: [textAdapter], cacheDir: path.join(work, 'a') });
    const target = new ModelStore({ storage: new MemoryStorage(), adapters: [textAdapter], cacheDir: path.join(work, 'b') });
    const original = await source.upload('churn', { model: Buffer.from('weights'), modelId: 'v1', extraMetadata: { auc: 0.9 } });
    const copy = await source.copyModel('churn', 'v1', target, { targetModelId: 'release-2026', states: ['production'] });
    expect(copy.model.model_id).toBe('release-2026');
    expect(copy.extra).toEqual({ auc: 0.9 });
    expect(copy.archive?.sha256).toBe(original.archive?.sha256);
    expect(await target.listModels('churn')).toEqual(['release-2026']);
    expect(await target.load('churn', { state: 'production' })).toBe('weights');
    expect(copy.storage.prefix).toContain('/release-2026/');

    // The same store: a second id for the same model.
    const twin = await source.copyModel('churn', 'v1', source, { targetModelId: 'v1-pinned' });
    expect((await source.listModels('churn')).sort()).toEqual(['v1', 'v1-pinned']);
    expect(await source.load('churn', { modelId: 'v1-pinned' })).toBe('weights');
    expect(twin.storage.prefix).not.toBe(original.storage.prefix);
    expect((await source.getModelInfo('churn', 'v1')).storage).toEqual(original.storage);
    expect(await source.storage.head(layout.version('churn', 'v1'))).toBeDefined();

    await expect(source.copyModel('churn', 'v1', target, { targetModelId: 'release-2026' })).rejects.toMatchObject({ code: 'MODEL_EXISTS' });
    await expect(source.copyModel('churn', 'v1', target, { targetModelId: 'bad id' })).rejects.toMatchObject({ code: 'INVALID_NAME' });
  });
});
