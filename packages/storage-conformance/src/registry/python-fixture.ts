import { ModelDeletedError, type Storage } from '@modelstore/core';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { RegistryConformanceContext } from './context.js';
import { parseCreatedStamp } from '@modelstore/core/internal';
import { treeDigest, copyTree, pause } from './helpers.js';

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

/** Every `code.created` stamp (Python's local time, read as UTC) in the fixture's documents, in ms. */
export function createdStamps(directory: string): number[] {
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.json'))
    .flatMap((entry) => [...readFileSync(path.join(entry.parentPath, entry.name), 'utf8').matchAll(/"created": "(\d{4}\/\d\d\/\d\d\/\d\d:\d\d:\d\d)"/g)].map((match) => parseCreatedStamp(match[1])))
    .filter((stamp) => !Number.isNaN(stamp));
}

/**
 * A copy gives every document the storage time of the copy. Within 14 h of Python's upload,
 * core then infers the writer's UTC offset as copy time − stamp, rounded to the quarter hour
 * (core README: a registry copied without its times is ordered by copy time). When that
 * difference is near 7.5 minutes past a quarter hour, stamps seconds apart round to
 * different quarter hours and swap order. Resolves when no stamp is within 10 s of it
 * (at once, or after at most about 25 s): call it just before copying a Python-written registry.
 */
export async function awayFromOffsetRounding(stamps: number[]): Promise<void> {
  const quarter = 15 * 60_000;
  const nearBoundary = () =>
    stamps.some((stamp) => {
      const age = Date.now() - stamp;
      return age >= 0 && age <= 15 * 3_600_000 && Math.abs((age % quarter) - quarter / 2) < 10_000;
    });
  while (nearBoundary()) await pause(1_000);
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
        await awayFromOffsetRounding(createdStamps(path.join(fixture, 'registry-fs')));
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
      // Plus the wait for a copy time away from an offset rounding boundary (at most about 25 s).
      ctx.timeout + 30_000,
    );
  }
}
