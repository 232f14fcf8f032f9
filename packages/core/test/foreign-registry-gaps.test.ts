// Two gaps (since fixed) found by the interop audit of Python modelstore (packages/interop/test/
// python-behaviour.test.ts and names.test.ts), reproduced here without Python:
// - a state whose definition was deleted (Python's delete_model_state and this library's
//   deleteModelState both keep the models' state copies) is still reported by getModelStates,
//   though listModelStates no longer has it and listModels({ state }) refuses it;
// - a domain holding a model whose id no key may hold (Python writes ids with a tab) makes
//   listModels throw, hiding every other model of the domain.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InvalidNameError, MemoryStorage, ModelStore, type ObjectInfo } from '../src/index.js';
import { layout } from '../src/internal.js';
import { bytesAdapter } from './bytes-adapter.js';

let work: string;

beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'modelstore-foreign-gaps-'));
});

afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('registry states and names other writers leave', () => {
  it('getModelStates does not report a state whose definition was deleted (its copies stay)', async () => {
    const storage = new MemoryStorage();
    const store = new ModelStore({ storage, adapters: [bytesAdapter], cacheDir: path.join(work, 'cache') });
    await store.createModelState('staging');
    await store.createModelState('production');
    await store.upload('churn', { model: Buffer.from('m'), modelId: 'm1' });
    await store.setModelState('churn', 'm1', 'staging');
    await store.setModelState('churn', 'm1', 'production');
    await store.deleteModelState('staging');
    expect(await storage.head(layout.stateVersion('churn', 'staging', 'm1'))).toBeDefined();
    expect(await store.listModelStates()).toEqual(['production']);
    await expect(store.listModels('churn', { state: 'staging' })).rejects.toMatchObject({ code: 'STATE_NOT_FOUND' });
    expect(await store.getModelStates('churn', 'm1')).toEqual(['production']);
    // Re-created, the state holds its old member again.
    await store.createModelState('staging');
    expect((await store.getModelStates('churn', 'm1')).sort()).toEqual(['production', 'staging']);
  });

  it('listModels and upload work in a domain that also holds an id no key may hold', async () => {
    const memory = new MemoryStorage();
    const foreignKey = layout.version('churn', 'tab\tid');
    let foreign = false;
    // A listing as S3, GCS, Azure or a folder return it after Python wrote the id; reading
    // the key is refused before any I/O, as every backend does.
    const storage = Object.assign(Object.create(memory) as MemoryStorage, {
      async list(prefix: string, options?: { cursor?: string; limit?: number }) {
        const page = await memory.list(prefix, options);
        if (!foreign || !foreignKey.startsWith(prefix) || options?.cursor !== undefined) return page;
        const extra: ObjectInfo = { key: foreignKey, size: 2, etag: '"x"', lastModified: new Date() };
        return { ...page, objects: [...page.objects, extra].sort((a, b) => (a.key < b.key ? -1 : 1)) };
      },
      async get(key: string, options?: Parameters<MemoryStorage['get']>[1]) {
        if (foreign && key === foreignKey) throw new InvalidNameError('key', key, 'NUL and control characters are not allowed');
        return memory.get(key, options);
      },
      async head(key: string) {
        if (foreign && key === foreignKey) throw new InvalidNameError('key', key, 'NUL and control characters are not allowed');
        return memory.head(key);
      },
    });
    const store = new ModelStore({ storage, adapters: [bytesAdapter], cacheDir: path.join(work, 'cache') });
    await store.upload('churn', { model: Buffer.from('m'), modelId: 'plain' });
    foreign = true;
    expect(await store.listModels('churn')).toContain('plain');
    // An upload to that domain commits and moves the pointer without reading the foreign id.
    await store.upload('churn', { model: Buffer.from('n'), modelId: 'newer' });
    expect((await store.getDomain('churn')).model.model_id).toBe('newer');
  });
});
