import { ModelDeletedError, type Storage } from '@modelstore/core';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { RegistryConformanceContext } from './context.js';
import { treeDigest, copyTree } from './helpers.js';

/** What `expected.json` of the fixture records: what Python modelstore answered about the registry it wrote. */
interface FixtureExpectations {
  list_domains: string[];
  list_model_states: string[];
  domains: Record<
    string,
    {
      list_models: string[];
      latest_model_id: string;
      list_models_by_state?: Record<string, string[]>;
      models: Record<string, { get_model_states: string[]; model_exists: boolean; model_type: { library: string }; extra?: unknown; files_sha256: Record<string, string> }>;
      download_without_id_files_sha256?: Record<string, string>;
      deleted?: { model_id: string };
    }
  >;
}

/**
 * The registry suite's 'python fixture' group: reading a registry written by Python modelstore (when `pythonFixture` is given).
 * Registers its tests in the current `describe`; `describeRegistryConformance` registers each group in turn.
 */
export function registryPythonFixtureTests<S extends Storage>(ctx: RegistryConformanceContext<S>): void {
  const { it, expect } = ctx.test;

  if (ctx.options.pythonFixture) {
    const fixture = ctx.options.pythonFixture;
    it(
      'reads a registry written by Python modelstore',
      async () => {
        const expected = JSON.parse(readFileSync(path.join(fixture, 'expected.json'), 'utf8')) as FixtureExpectations;
        await copyTree(ctx.storage, path.join(fixture, 'registry-fs'));
        expect(await ctx.store.listDomains()).toEqual(expected.list_domains);
        expect((await ctx.store.listModelStates()).sort()).toEqual([...expected.list_model_states].sort());
        for (const [domain, facts] of Object.entries(expected.domains)) {
          expect(await ctx.store.listModels(domain)).toEqual(facts.list_models);
          expect((await ctx.store.getDomain(domain)).model.model_id).toBe(facts.latest_model_id);
          for (const [state, ids] of Object.entries(facts.list_models_by_state ?? {})) {
            expect(await ctx.store.listModels(domain, { state })).toEqual(ids);
          }
          for (const [modelId, model] of Object.entries(facts.models)) {
            expect((await ctx.store.getModelStates(domain, modelId)).sort()).toEqual([...model.get_model_states].sort());
            expect(await ctx.store.modelExists(domain, modelId)).toBe(model.model_exists);
            const info = await ctx.store.getModelInfo(domain, modelId);
            expect(info.model.model_type.library).toBe(model.model_type.library);
            expect(info.extra ?? null).toEqual(model.extra ?? null);
            const to = await ctx.store.download(domain, { modelId, to: path.join(ctx.work, 'py', domain, modelId) });
            expect(treeDigest(to)).toEqual(model.files_sha256);
          }
          if (facts.download_without_id_files_sha256) {
            expect(treeDigest(await ctx.store.download(domain, { to: path.join(ctx.work, 'py-latest', domain) }))).toEqual(facts.download_without_id_files_sha256);
          }
          for (const deleted of facts.deleted ? [facts.deleted.model_id as string] : []) {
            await expect(ctx.store.getModelInfo(domain, deleted)).rejects.toBeInstanceOf(ModelDeletedError);
            expect(await ctx.store.modelExists(domain, deleted)).toBe(false);
            expect(await ctx.store.listModels(domain)).not.toContain(deleted);
          }
        }
      },
      ctx.timeout,
    );
  }
}
