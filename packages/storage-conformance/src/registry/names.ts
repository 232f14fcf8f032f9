import { InvalidNameError, type Storage } from '@modelstore/core';
import path from 'node:path';
import { CountingStorage } from '../counting-storage.js';
import type { RegistryConformanceContext } from './context.js';
import { treeDigest, itCounting } from './helpers.js';

/**
 * The registry suite's 'names' group: invalid names refused before any I/O; names at the 200-byte limit.
 * Registers its tests in the current `describe`; `describeRegistryConformance` registers each group in turn.
 */
export function registryNameTests<S extends Storage>(ctx: RegistryConformanceContext<S>): void {
  const { it, expect } = ctx.test;

  itCounting(ctx, 'rejects every invalid domain, model id and state name before any I/O', async (counted, guarded) => {
    // Spaces, dots inside a name and any Unicode are valid (Python modelstore writes them).
    const badDomains = ['', 'versions', 'domains', 'modelstore', 'operatorai-model-store', 'model_states', 'a/b', '.', '..', 'a\\b', 'tab\t'];
    const badIds = ['', 'a b', 'a/b', '../x', '..', 'a\\b', 'tab\tx', ...'<>:"|?*#^`%~{}[]'.split('').map((c) => `id${c}x`)];
    const badStates = ['', 'ab', 'a/bc', '../prod', 'modelstore-deleted', 'tab\tstate'];
    const expectInvalid = async (call: () => Promise<unknown>) => {
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(InvalidNameError.isInstance(error)).toBe(true);
    };
    for (const domain of badDomains) {
      await expectInvalid(() => guarded.upload(domain, { model: ctx.modelFile }));
      await expectInvalid(() => guarded.listModels(domain));
      await expectInvalid(() => guarded.getDomain(domain));
      await expectInvalid(() => guarded.download(domain, { to: path.join(ctx.work, 'never') }));
    }
    for (const id of badIds) {
      await expectInvalid(() => guarded.upload('churn', { model: ctx.modelFile, modelId: id }));
      await expectInvalid(() => guarded.getModelInfo('churn', id));
      await expectInvalid(() => guarded.deleteModel('churn', id));
      await expectInvalid(() => guarded.load('churn', { modelId: id }));
    }
    for (const state of badStates) {
      await expectInvalid(() => guarded.createModelState(state));
      await expectInvalid(() => guarded.setModelState('churn', 'm1', state));
      await expectInvalid(() => guarded.listModels('churn', { state }));
    }
    expect(counted.calls).toEqual([]);
  });

  it(
    'works with names at the limit (200 UTF-8 bytes of multi-byte characters) and refuses longer ones before any I/O',
    async () => {
      // 100 × "é" (2 bytes), 66 × "模" (3 bytes) + 2, 50 × "😀" (4 bytes): each 200 bytes, every key under 1,024.
      const domain = 'é'.repeat(100);
      const modelId = `${'模'.repeat(66)}-1`;
      const state = '😀'.repeat(50);
      const made = await ctx.upload(domain, { modelId });
      await ctx.store.createModelState(state);
      await ctx.store.setModelState(domain, modelId, state);
      expect(await ctx.store.listModels(domain, { state })).toEqual([modelId]);
      expect((await ctx.store.getDomain(domain)).model.model_id).toBe(modelId);
      expect(await ctx.store.listDomains()).toContain(domain);
      const to = path.join(ctx.work, 'x'.repeat(200));
      await ctx.store.download(domain, { to });
      expect(treeDigest(to)['model.bin']).toBe(made.archive!.files['model.bin']!.sha256);
      expect(treeDigest(await ctx.store.load<string>(domain, { modelId }))['model.bin']).toBe(made.archive!.files['model.bin']!.sha256);
      await ctx.store.deleteModel(domain, modelId);
      expect(await ctx.store.modelExists(domain, modelId)).toBe(false);

      const counted = new CountingStorage(ctx.storage);
      const guarded = ctx.open(counted);
      for (const [name, tooLong] of [
        ['domain', 'é'.repeat(112)],
        ['model id', '模'.repeat(90)],
        ['state', '😀'.repeat(51)],
      ] as const) {
        const attempt = name === 'domain' ? guarded.upload(tooLong, { model: ctx.modelFile }) : name === 'model id' ? guarded.upload('churn', { model: ctx.modelFile, modelId: tooLong }) : guarded.createModelState(tooLong);
        const error = await attempt.catch((caught: unknown) => caught);
        expect(error).toMatchObject({ code: 'INVALID_NAME' });
        expect((error as Error).message).toMatch(/at most 200 bytes in UTF-8/);
      }
      expect(counted.calls).toEqual([]);
    },
    ctx.timeout,
  );
}
