import { DomainNotFoundError, IntegrityError, type Storage } from '@modelstore/core';
import { layout } from '@modelstore/core/internal';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RegistryConformanceContext } from './context.js';

/**
 * The registry suite's 'failures' group: aborted uploads and metadata that points outside the registry.
 * Registers its tests in the current `describe`; `describeRegistryConformance` registers each group in turn.
 */
export function registryFailureTests<S extends Storage>(ctx: RegistryConformanceContext<S>): void {
  const { it, expect } = ctx.test;

  it(
    'leaves nothing behind when an upload is aborted or its source fails',
    async () => {
      const big = path.join(ctx.work, 'big.bin');
      writeFileSync(big, Buffer.alloc(8 * 1024 * 1024, 5));
      const controller = new AbortController();
      const aborted = ctx.store.upload('halted', {
        model: big,
        modelId: 'aborted',
        signal: controller.signal,
        onProgress: ({ bytes }) => {
          if (bytes > 0) controller.abort();
        },
      });
      await expect(aborted).rejects.toThrow();
      const missing = ctx.store.upload('halted', { model: ctx.modelFile, modelId: 'missing-extra', extraFiles: [path.join(ctx.work, 'no-such-file.txt')] });
      await expect(missing).rejects.toThrow();
      expect((await ctx.storage.list(layout.domainPrefix('halted'))).objects).toEqual([]);
      await expect(ctx.store.getDomain('halted')).rejects.toBeInstanceOf(DomainNotFoundError);
    },
    ctx.timeout,
  );

  it(
    'refuses metadata that points outside the registry, or at a missing archive',
    async () => {
      const metadata = await ctx.upload('victim', { modelId: 'm1' });
      const to = path.join(ctx.work, 'out', 'model');
      for (const location of [
        { type: 'file_system', root: '/', path: '/etc/passwd' },
        { type: 'file_system', path: '/x/operatorai-model-store/../../etc/passwd' },
      ]) {
        await ctx.storage.put(layout.version('victim', 'm1'), JSON.stringify({ ...metadata, storage: location }));
        await expect(ctx.store.download('victim', { modelId: 'm1', to })).rejects.toBeInstanceOf(IntegrityError);
      }
      await ctx.storage.put(layout.version('victim', 'm1'), JSON.stringify(metadata));
      await ctx.storage.delete(layout.archive('victim', new Date(metadata.code!.created_at!), 'm1'));
      await expect(ctx.store.download('victim', { modelId: 'm1', to })).rejects.toBeInstanceOf(IntegrityError);
      // Not even the parent folder it would have needed is left behind.
      expect(readdirSync(ctx.work)).not.toContain('out');
    },
    ctx.timeout,
  );
}
