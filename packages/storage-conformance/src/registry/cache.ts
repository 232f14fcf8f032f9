import { type Storage } from '@modelstore/core';
import { layout } from '@modelstore/core/internal';
import { readdirSync, readFileSync } from 'node:fs';
import type { RegistryConformanceContext } from './context.js';
import { sha256, treeDigest, pause, itCounting } from './helpers.js';

/**
 * The registry suite's 'cache' group: loading a second time from the cache.
 * Registers its tests in the current `describe`; `describeRegistryConformance` registers each group in turn.
 */
export function registryCacheTests<S extends Storage>(ctx: RegistryConformanceContext<S>): void {
  const { expect } = ctx.test;

  itCounting(ctx, 'loads a model a second time from the cache, reading no bytes from storage', async (counted, cached) => {
    const { model } = await cached.upload('cached', { model: ctx.modelFile });
    const first = await cached.load<string>('cached');
    counted.reset();
    const second = await cached.load<string>('cached');
    expect(second).toBe(first);
    expect(counted.bytesRead).toBe(0);
    expect(counted.calls.filter((call) => !call.startsWith('head '))).toEqual([]);
    // By id for the first time: the metadata is read, the archive is not downloaded again.
    const third = await cached.load<string>('cached', { modelId: model.model_id });
    expect(third).toBe(first);
    expect(treeDigest(third)['model.bin']).toBe(sha256(readFileSync(ctx.modelFile)));
    expect(counted.calls.filter((call) => call.startsWith('get '))).toEqual(['get ' + layout.version('cached', model.model_id)]);
    // A new latest model is noticed at once.
    await pause(5);
    counted.reset();
    const newer = await cached.upload('cached', { model: ctx.extraFiles[0]! });
    const reloaded = await cached.load<string>('cached');
    expect(reloaded).not.toBe(first);
    expect(readdirSync(reloaded)).toContain('README.txt');
    expect(newer.model.model_id).not.toBe(model.model_id);
  });
}
