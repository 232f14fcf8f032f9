// Serving "the model in production": load and download pick the newest model in a state.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MemoryStorage, ModelStore } from '../src/index.js';
import { textAdapter } from './bytes-adapter.js';

let work: string;
let store: ModelStore;

beforeEach(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'modelstore-state-selection-'));
  store = new ModelStore({ storage: new MemoryStorage(), adapters: [textAdapter], cacheDir: path.join(work, 'cache') });
  await store.createModelState('production');
  for (const id of ['m1', 'm2', 'm3']) await store.upload('churn', { model: Buffer.from(`weights of ${id}`), modelId: id });
  await store.setModelState('churn', 'm1', 'production');
  await store.setModelState('churn', 'm2', 'production');
});

afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('load and download by state', () => {
  it('load({ state }) gives the newest model in the state, not the latest, and follows the state as it changes', async () => {
    expect(await store.load('churn')).toBe('weights of m3');
    expect(await store.load('churn', { state: 'production' })).toBe('weights of m2');
    await store.removeModelState('churn', 'm2', 'production');
    expect(await store.load('churn', { state: 'production' })).toBe('weights of m1');
    await store.setModelState('churn', 'm3', 'production');
    expect(await store.load('churn', { state: 'production' })).toBe('weights of m3');
  });

  it('download({ state }) downloads the newest model in the state', async () => {
    const to = await store.download('churn', { state: 'production', to: path.join(work, 'prod') });
    expect(readFileSync(path.join(to, 'model.bin'), 'utf8')).toBe('weights of m2');
  });

  it('refuses modelId with state, and says so when the state holds no model or does not exist', async () => {
    await expect(store.load('churn', { modelId: 'm1', state: 'production' })).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'state' });
    await expect(store.download('churn', { modelId: 'm1', state: 'production', to: path.join(work, 'x') })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await store.createModelState('staging');
    await expect(store.load('churn', { state: 'staging' })).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    await expect(store.download('churn', { state: 'archived', to: path.join(work, 'y') })).rejects.toMatchObject({ code: 'STATE_NOT_FOUND' });
  });
});
