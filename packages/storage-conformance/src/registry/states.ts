import { DomainNotFoundError, InvalidNameError, ModelDeletedError, ModelExistsError, StateNotFoundError, type Storage } from '@modelstore/core';
import { layout } from '@modelstore/core/internal';
import type { RegistryConformanceContext } from './context.js';
import { pause } from './helpers.js';

/**
 * The registry suite's 'states' group: model states as Python modelstore writes them, and soft deletion.
 * Registers its tests in the current `describe`; `describeRegistryConformance` registers each group in turn.
 */
export function registryStateTests<S extends Storage>(ctx: RegistryConformanceContext<S>): void {
  const { it, expect } = ctx.test;

  it(
    'labels models with states as Python modelstore does',
    async () => {
      const a = (await ctx.upload('churn')).model.model_id;
      await pause(5);
      const b = (await ctx.upload('churn')).model.model_id;
      await expect(ctx.store.setModelState('churn', a, 'production')).rejects.toBeInstanceOf(StateNotFoundError);
      await ctx.store.createModelState('production');
      await ctx.store.createModelState('staging');
      await ctx.store.createModelState('staging');
      expect((await ctx.store.listModelStates()).sort()).toEqual(['production', 'staging']);
      await ctx.store.setModelState('churn', a, 'production');
      await ctx.store.setModelState('churn', b, 'production');
      await ctx.store.setModelState('churn', b, 'staging');
      expect(await ctx.store.listModels('churn', { state: 'production' })).toEqual([b, a]);
      expect((await ctx.store.getModelStates('churn', b)).sort()).toEqual(['production', 'staging']);
      expect((await ctx.store.getLatestModel('churn', { state: 'production' })).model.model_id).toBe(b);
      await ctx.store.removeModelState('churn', b, 'production');
      expect(await ctx.store.listModels('churn', { state: 'production' })).toEqual([a]);
      expect((await ctx.store.getLatestModel('churn', { state: 'production' })).model.model_id).toBe(a);
      await expect(ctx.store.setModelState('churn', a, 'modelstore-deleted')).rejects.toBeInstanceOf(InvalidNameError);
      await ctx.store.deleteModelState('staging');
      await expect(ctx.store.listModels('churn', { state: 'staging' })).rejects.toBeInstanceOf(StateNotFoundError);
    },
    ctx.timeout,
  );

  it(
    'soft-deletes a model and moves the latest pointer back',
    async () => {
      const a = (await ctx.upload('churn')).model.model_id;
      await pause(5);
      const b = (await ctx.upload('churn', { modelId: 'churn-v2' })).model.model_id;
      await ctx.store.createModelState('production');
      await ctx.store.setModelState('churn', b, 'production');
      await ctx.store.deleteModel('churn', b);
      expect(await ctx.store.listModels('churn')).toEqual([a]);
      expect(await ctx.store.modelExists('churn', b)).toBe(false);
      await expect(ctx.store.getModelInfo('churn', b)).rejects.toBeInstanceOf(ModelDeletedError);
      expect(await ctx.store.listModels('churn', { state: 'production' })).toEqual([]);
      expect((await ctx.store.getDomain('churn')).model.model_id).toBe(a);
      await expect(ctx.upload('churn', { modelId: 'churn-v2' })).rejects.toBeInstanceOf(ModelExistsError);
      await ctx.store.deleteModel('churn', a);
      await expect(ctx.store.getDomain('churn')).rejects.toBeInstanceOf(DomainNotFoundError);
      // Archives of deleted models are removed; their metadata stays under modelstore-deleted
      // (and the domain's index, a cache, stays too: its log holds the uploads and the tombstones).
      const remaining = (await ctx.storage.list(layout.domainPrefix('churn'))).objects.map((object) => object.key);
      expect(remaining.filter((key) => key !== layout.index('churn') && !key.startsWith(layout.indexRoot('churn'))).every((key) => key.includes('/versions/modelstore-deleted/'))).toBe(true);
      expect(remaining.some((key) => key.endsWith('.tar.gz'))).toBe(false);
    },
    ctx.timeout,
  );
}
