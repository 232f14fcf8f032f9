// Unit tests of garbage collection: the grace-period bounds, a clock set ahead, and which
// archives are removed (orphans, soft-deleted) or kept (referenced, young, unreadable,
// committed while gc ran).
import { describe, expect, it } from '@jest/globals';
import { InvalidOptionError } from '../errors.js';
import { MemoryStorage } from '../memory-storage.js';
import { deletedState } from '../names.js';
import { layout } from '../registry-layout.js';
import type { ListOptions, ListResult } from '../storage.js';
import { checkGarbageOptions, collectGarbage, defaultGarbageAge, minimumGarbageAge, type GarbageOptions } from './gc.js';

const refused = (options: GarbageOptions): InvalidOptionError | undefined => {
  try {
    checkGarbageOptions(options);
    return undefined;
  } catch (error) {
    expect(InvalidOptionError.isInstance(error)).toBe(true);
    return error as InvalidOptionError;
  }
};

describe('checkGarbageOptions', () => {
  it('defaults to one hour, and the minimum is 15 minutes', () => {
    expect(defaultGarbageAge).toBe(3_600_000);
    expect(minimumGarbageAge).toBe(900_000);
    expect(checkGarbageOptions({})).toBe(3_600_000);
    expect(checkGarbageOptions({ olderThan: 900_000 })).toBe(900_000);
  });

  it('refuses a grace period below the minimum unless quiesced (quiesced: true exactly)', () => {
    expect(refused({ olderThan: 899_999 })?.option).toBe('olderThan');
    expect(refused({ olderThan: 899_999 })?.message).toContain('below the minimum of 900000 ms');
    expect(refused({ olderThan: 0, quiesced: 'yes' as unknown as boolean })?.option).toBe('olderThan');
    expect(checkGarbageOptions({ olderThan: 899_999, quiesced: true })).toBe(899_999);
    expect(checkGarbageOptions({ olderThan: 0, quiesced: true })).toBe(0);
  });

  it('refuses what is not a finite, non-negative number of ms, even when quiesced', () => {
    for (const olderThan of [-1, Number.NaN, Number.POSITIVE_INFINITY, '3600000' as unknown as number]) {
      const error = refused({ olderThan, quiesced: true });
      expect(error?.option).toBe('olderThan');
      expect(error?.message).toContain('must be a number of milliseconds, at least 0');
    }
  });

  it('refuses a clock more than a minute ahead of this machine unless quiesced', () => {
    expect(refused({ now: new Date(Date.now() + 5 * 60_000) })?.option).toBe('now');
    expect(checkGarbageOptions({ now: new Date(Date.now() + 5 * 60_000), quiesced: true })).toBe(defaultGarbageAge);
    expect(checkGarbageOptions({ now: new Date(Date.now() + 30_000) })).toBe(defaultGarbageAge);
    expect(checkGarbageOptions({ now: new Date(Date.now() - 24 * 3_600_000) })).toBe(defaultGarbageAge);
  });
});

const archiveOf = (id: string, domain = 'd') => `operatorai-model-store/${domain}/2024.01.01-00.00.00/${id}/artifacts.tar.gz`;
const documentText = (id: string, domain = 'd') => JSON.stringify({ model: { domain, model_id: id, model_type: { library: 'x' } }, storage: { type: 'file_system', path: `/somewhere/${archiveOf(id, domain)}` } });

async function commit(storage: MemoryStorage, id: string, domain = 'd'): Promise<void> {
  await storage.put(archiveOf(id, domain), 'archive');
  await storage.put(layout.version(domain, id), documentText(id, domain));
}

const keys = (objects: { key: string }[]) => objects.map(({ key }) => key).sort();
const now = { olderThan: 0, quiesced: true } as const;

describe('collectGarbage', () => {
  it('removes orphan archives only, across domains, and keeps every referenced one', async () => {
    const storage = new MemoryStorage();
    await commit(storage, 'a');
    await commit(storage, 'b', 'e');
    await storage.put(archiveOf('orphan'), 'x');
    await storage.put(archiveOf('orphan2', 'e'), 'x');
    const report = await collectGarbage(storage, now);
    expect(keys(report.removed)).toEqual([archiveOf('orphan'), archiveOf('orphan2', 'e')]);
    expect(report).toMatchObject({ kept: [], unreadable: [], dryRun: false });
    expect(await storage.head(archiveOf('orphan'))).toBeUndefined();
    expect(await storage.head(archiveOf('a'))).toBeDefined();
    expect(await storage.head(archiveOf('b', 'e'))).toBeDefined();
  });

  it("counts a state copy as a reference but a soft-deleted model's archive as garbage", async () => {
    const storage = new MemoryStorage();
    // Only a state copy names this archive (its committed document is gone).
    await storage.put(archiveOf('staged'), 'x');
    await storage.put(layout.stateVersion('d', 'prod', 'staged'), documentText('staged'));
    await storage.put(archiveOf('deleted'), 'x');
    await storage.put(layout.stateVersion('d', deletedState, 'deleted'), documentText('deleted'));
    const report = await collectGarbage(storage, now);
    expect(keys(report.removed)).toEqual([archiveOf('deleted')]);
    expect(await storage.head(archiveOf('staged'))).toBeDefined();
  });

  it('keeps orphans younger than the grace period, and a dry run removes nothing', async () => {
    const storage = new MemoryStorage();
    await storage.put(archiveOf('orphan'), 'x');
    const young = await collectGarbage(storage, {});
    expect(young.removed).toEqual([]);
    expect(keys(young.kept)).toEqual([archiveOf('orphan')]);
    const dry = await collectGarbage(storage, { ...now, dryRun: true });
    expect(keys(dry.removed)).toEqual([archiveOf('orphan')]);
    expect(dry.dryRun).toBe(true);
    expect(await storage.head(archiveOf('orphan'))).toBeDefined();
  });

  it('keeps the archive of a model whose document cannot be read, and reports the document', async () => {
    const storage = new MemoryStorage();
    await storage.put(archiveOf('m'), 'x');
    await storage.put(layout.version('d', 'm'), '{"model": {"do');
    const report = await collectGarbage(storage, now);
    expect(report.removed).toEqual([]);
    expect(report.unreadable).toEqual([layout.version('d', 'm')]);
    expect(await storage.head(archiveOf('m'))).toBeDefined();
  });

  it('keeps an archive whose model was committed after the listing', async () => {
    class CommitDuringList extends MemoryStorage {
      committed = false;
      override async list(prefix: string, options?: ListOptions): Promise<ListResult> {
        const page = await super.list(prefix, options);
        if (!this.committed) {
          this.committed = true;
          await this.put(layout.version('d', 'late'), documentText('late'));
        }
        return page;
      }
    }
    const storage = new CommitDuringList();
    await storage.put(archiveOf('late'), 'x');
    const report = await collectGarbage(storage, now);
    expect(storage.committed).toBe(true);
    expect(report.removed).toEqual([]);
    expect(await storage.head(archiveOf('late'))).toBeDefined();
  });

  it('removes an archive that a re-used id no longer references (its document names another archive)', async () => {
    const storage = new MemoryStorage();
    await storage.put(archiveOf('m'), 'x');
    const other = `operatorai-model-store/d/2025.01.01-00.00.00/m/artifacts.tar.gz`;
    await storage.put(other, 'y');
    await storage.put(layout.version('d', 'm'), JSON.stringify({ model: { domain: 'd', model_id: 'm', model_type: { library: 'x' } }, storage: { type: 'memory', prefix: other } }));
    const report = await collectGarbage(storage, now);
    expect(keys(report.removed)).toEqual([archiveOf('m')]);
    expect(await storage.head(other)).toBeDefined();
  });

  it('throws InvalidOptionError before touching storage for a bad grace period', async () => {
    let calls = 0;
    class Counting extends MemoryStorage {
      override async list(prefix: string, options?: ListOptions) {
        calls++;
        return super.list(prefix, options);
      }
    }
    const error = await collectGarbage(new Counting(), { olderThan: 1000 }).catch((caught: unknown) => caught);
    expect(InvalidOptionError.isInstance(error)).toBe(true);
    expect(calls).toBe(0);
  });
});
