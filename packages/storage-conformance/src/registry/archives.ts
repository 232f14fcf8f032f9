import { DestinationExistsError, IntegrityError, UnsafeArchiveError, type Storage } from '@modelstore/core';
import { layout } from '@modelstore/core/internal';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eachCase } from '../test-api.js';
import type { RegistryConformanceContext } from './context.js';
import { sha256, treeDigest, buildArchive } from './helpers.js';

/**
 * The registry suite's 'archives' group: unsafe, corrupted and truncated archives, and occupied targets.
 * Registers its tests in the current `describe`; `describeRegistryConformance` registers each group in turn.
 */
export function registryArchiveTests<S extends Storage>(ctx: RegistryConformanceContext<S>): void {
  const { describe, it, expect } = ctx.test;

  describe('unsafe and damaged archives', () => {
    /** Uploads a model, then replaces its archive (and, like Python, drops the recorded digests). */
    const plant = async (archive: Buffer, options: { keepDigests?: boolean } = {}) => {
      const metadata = await ctx.upload('victim', { modelId: 'm1' });
      const archiveKey = layout.archive('victim', new Date(metadata.code!.created_at!), 'm1');
      await ctx.storage.put(archiveKey, archive);
      if (!options.keepDigests) {
        const { archive: _digests, ...pythonLike } = metadata;
        await ctx.storage.put(layout.version('victim', 'm1'), JSON.stringify(pythonLike));
      }
      return archiveKey;
    };
    /** `to` exists with one file; after a failed download it must be exactly as it was. */
    const prepareTarget = () => {
      const parent = path.join(ctx.work, 'out');
      const to = path.join(parent, 'model');
      mkdirSync(to, { recursive: true });
      writeFileSync(path.join(to, 'keep.txt'), 'previous model');
      return { parent, to };
    };
    const expectUntouched = (parent: string, to: string) => {
      expect(readdirSync(parent)).toEqual(['model']);
      expect(treeDigest(to)).toEqual({ 'keep.txt': sha256('previous model') });
      expect(readdirSync(ctx.work).sort()).toEqual(['README.txt', 'labels.json', 'model.bin', 'out']);
    };

    eachCase(
      ctx.test,
      [
        ['an absolute path', { name: '/tmp/modelstore-evil-absolute', type: 'file' as const }],
        ['a ".." path', { name: '../../evil.txt', type: 'file' as const }],
        ['a nested ".." path', { name: 'extras/../../evil.txt', type: 'file' as const }],
        ['a symbolic link', { name: 'link', type: 'symlink' as const, linkname: '/etc/passwd' }],
        ['a hard link', { name: 'hard', type: 'link' as const, linkname: '/etc/passwd' }],
        ['a character device', { name: 'dev', type: 'character-device' as const, devmajor: 1, devminor: 3 }],
        ['a FIFO', { name: 'pipe', type: 'fifo' as const }],
      ] as const,
      ([label]) => `refuses ${label} with UnsafeArchiveError and leaves the target as it was`,
      async ([, header]) => {
        const archive = await buildArchive([
          { header: { name: 'model-info.json', type: 'file' }, content: '{"library":"model_file"}' },
          { header, content: header.type === 'file' ? 'pwned' : '' },
        ]);
        await plant(archive);
        const { parent, to } = prepareTarget();
        const error = await ctx.store.download('victim', { modelId: 'm1', to, overwrite: true }).catch((e: unknown) => e);
        expect(UnsafeArchiveError.isInstance(error)).toBe(true);
        expectUntouched(parent, to);
        expect(readdirSync(tmpdir())).not.toContain('modelstore-evil-absolute');
      },
      ctx.timeout,
    );

    it(
      'refuses a corrupted byte with IntegrityError and leaves the target as it was',
      async () => {
        const metadata = await ctx.upload('victim', { modelId: 'm1' });
        const archiveKey = layout.archive('victim', new Date(metadata.code!.created_at!), 'm1');
        const object = await ctx.storage.get(archiveKey);
        const chunks: Buffer[] = [];
        for await (const chunk of object!.body as AsyncIterable<Buffer>) chunks.push(chunk);
        const archive = Buffer.concat(chunks);
        for (const [label, damaged] of [
          ['flipped byte', Buffer.from(archive).fill(archive[archive.length >> 1]! ^ 0xff, archive.length >> 1, (archive.length >> 1) + 1)],
          ['truncated', archive.subarray(0, archive.length >> 1)],
          ['truncated tail', archive.subarray(0, archive.length - 4)],
        ] as const) {
          for (const keepDigests of [true, false]) {
            await ctx.storage.put(archiveKey, damaged);
            if (!keepDigests) {
              const { archive: _digests, ...pythonLike } = metadata;
              await ctx.storage.put(layout.version('victim', 'm1'), JSON.stringify(pythonLike));
            } else {
              await ctx.storage.put(layout.version('victim', 'm1'), JSON.stringify(metadata));
            }
            const { parent, to } = prepareTarget();
            const error = await ctx.store.download('victim', { modelId: 'm1', to, overwrite: true }).catch((e: unknown) => e);
            expect([label, keepDigests, IntegrityError.isInstance(error) || String(error)]).toEqual([label, keepDigests, true]);
            expectUntouched(parent, to);
            rmSync(parent, { recursive: true });
          }
        }
      },
      ctx.timeout,
    );

    it(
      'refuses to replace a non-empty directory unless asked',
      async () => {
        await ctx.upload('victim', { modelId: 'm1' });
        const { parent, to } = prepareTarget();
        await expect(ctx.store.download('victim', { modelId: 'm1', to })).rejects.toBeInstanceOf(DestinationExistsError);
        expectUntouched(parent, to);
        await ctx.store.download('victim', { modelId: 'm1', to, overwrite: true });
        expect(Object.keys(treeDigest(to))).toContain('model.bin');
        expect(readdirSync(parent)).toEqual(['model']);
      },
      ctx.timeout,
    );
  });
}
