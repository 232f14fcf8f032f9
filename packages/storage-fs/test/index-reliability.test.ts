// The append-only index under crashes and races, across processes on a file system
// registry: SIGKILLs at seeded random moments of a process uploading, deleting and
// compacting (most land inside a compaction), and 16 processes uploading while another
// compacts in a loop (and each upload compacts when the log is due). After each: the
// pages of the index (`listModels` with `limit`) against the registry's own listing
// (`listModels` without it) — nothing lost, the order exact.
// MODELSTORE_INDEX_KILLS kills (5 in `pnpm test`, 30 in `pnpm test:reliability`);
// MODELSTORE_INDEX_UPLOADS uploads per writer (4 in `pnpm test`, 20 in `pnpm test:reliability`).
import { describe, expect, it } from '@jest/globals';
import { ModelStore } from '@modelstore/core';
import { layout } from '@modelstore/core/internal';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { FileSystemStorage } from '../src/index.js';

const worker = path.join(__dirname, 'index-worker.mjs');
const kills = Number(process.env.MODELSTORE_INDEX_KILLS ?? 5);
const uploadsPerWriter = Number(process.env.MODELSTORE_INDEX_UPLOADS ?? 4);
const run = promisify(execFile);

/** Every id of the domain, page by page (`limit` each). */
async function pages(store: ModelStore, domain: string, limit: number): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listModels(domain, { limit, ...(cursor === undefined ? {} : { cursor }) });
    ids.push(...page.models);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return ids;
}

/** Ids whose upload or delete the journal shows started but not finished (in flight at the kill). */
function inFlight(journal: string): Set<string> {
  const open = new Set<string>();
  for (const line of existsSync(journal) ? readFileSync(journal, 'utf8').split('\n') : []) {
    const [verb, id] = line.split(' ');
    if (verb === 'upload' || verb === 'delete') open.add(id!);
    if (verb === 'done' || verb === 'deleted') open.delete(id!);
  }
  return open;
}

/** Whether the kill landed inside a compaction: its last journalled step is a compaction's write (a part, the pointer, a folded entry's removal). */
const killedInCompaction = (journal: string) => ['part', 'pointer', 'fold'].includes(readFileSync(journal, 'utf8').trim().split('\n').at(-1) ?? '');

describe('the append-only index across processes', () => {
  it(`loses nothing and keeps the exact order through ${kills} SIGKILLs of a process uploading, deleting and compacting`, async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'modelstore-index-crash-'));
    const root = path.join(work, 'registry');
    const store = new ModelStore({ storage: new FileSystemStorage({ root }), cacheDir: path.join(work, 'cache') });
    let seed = 20261130;
    const random = () => {
      seed = (seed * 1664525 + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    const report = { kills: 0, inCompaction: 0, pagesCompared: 0, modelsAtEnd: 0, inFlightAtKill: 0, differencesBeforeCompaction: 0 };
    try {
      for (let round = 0; round < kills; round++) {
        const journal = path.join(work, `journal-${round}`);
        writeFileSync(journal, '');
        const child = spawn(process.execPath, [worker, 'churn', root, 'churn', journal, String(seed + round)], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (data: Buffer) => {
          stderr += data.toString();
        });
        const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
        // Each round waits for the worker's first 4 committed uploads (a loaded machine can take seconds to start a
        // process and run a few uploads), so that the kills are spread over operations, not wall time; then each kill
        // comes long enough after to build up a log, a checkpoint of several parts, and tombstones.
        const committed = () => (readFileSync(journal, 'utf8').match(/^done /gm) ?? []).length;
        for (let waited = 0; committed() < 4 && waited < 120_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
        await new Promise((resolve) => setTimeout(resolve, 400 + random() * 1600));
        child.kill('SIGKILL');
        const code = await exited;
        expect({ round, code, stderr }).toEqual({ round, code: null, stderr: '' });
        report.kills++;
        if (killedInCompaction(journal)) report.inCompaction++;
        const flying = inFlight(journal);
        report.inFlightAtKill += flying.size;

        // The registry's own listing is the truth.
        const truth = await store.listModels('churn').catch(() => [] as string[]);
        const paged = await pages(store, 'churn', 7);
        const settled = (ids: string[]) => ids.filter((id) => !flying.has(id));
        // Only a model whose upload or delete was cut off may differ, until the next reconciliation.
        expect({ round, paged: settled(paged) }).toEqual({ round, paged: settled(truth) });
        if (paged.length !== truth.length) report.differencesBeforeCompaction++;
        // A reconciling compaction (what the next upload does when the last one is a day old) ends every difference.
        await store.compactIndex('churn');
        expect({ round, paged: await pages(store, 'churn', 7) }).toEqual({ round, paged: truth });
        expect({ round, paged: await pages(store, 'churn', 1000) }).toEqual({ round, paged: truth });
        report.pagesCompared++;
        report.modelsAtEnd = truth.length;
        if (truth.length > 0) expect(await store.listDomains()).toEqual(['churn']);
      }
      process.stdout.write(`index crashes: ${JSON.stringify(report)}\n`);
      expect(report.kills).toBe(kills);
      expect(report.modelsAtEnd).toBeGreaterThan(5);
      // About half the kills land inside a compaction (its writes are slowed to 15 ms each).
      if (kills >= 10) expect(report.inCompaction).toBeGreaterThan(0);
      // The checkpoint has several parts and the log was compacted many times.
      expect((await new FileSystemStorage({ root }).list(`${layout.indexRoot('churn')}checkpoint/`)).objects.length).toBeGreaterThan(1);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 900_000);

  it(`loses nothing and keeps the exact order with 16 processes uploading ${uploadsPerWriter} models each while another compacts`, async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'modelstore-index-race-'));
    const root = path.join(work, 'registry');
    const stop = path.join(work, 'stop');
    const store = new ModelStore({ storage: new FileSystemStorage({ root }), cacheDir: path.join(work, 'cache') });
    try {
      const compactor = run(process.execPath, [worker, 'compact', root, 'race', stop], { timeout: 600_000 });
      const startAt = Date.now() + 2000;
      const written = await Promise.all(
        Array.from({ length: 16 }, (_, writer) => run(process.execPath, [worker, 'write', root, 'race', String(uploadsPerWriter), String(writer), String(startAt)], { timeout: 600_000 }).then(({ stdout }) => JSON.parse(stdout) as string[])),
      );
      writeFileSync(stop, '');
      const compactions = JSON.parse((await compactor).stdout) as { runs: number; published: number; failures: string[] };
      const ids = written.flat();
      expect(ids).toHaveLength(16 * uploadsPerWriter);
      const truth = await store.listModels('race');
      expect([...truth].sort()).toEqual([...ids].sort());
      expect(await pages(store, 'race', 13)).toEqual(truth);
      await store.compactIndex('race');
      expect(await pages(store, 'race', 13)).toEqual(truth);
      expect(await store.listDomains()).toEqual(['race']);
      process.stdout.write(`index races: ${JSON.stringify({ writers: 16, uploads: ids.length, compactorRuns: compactions.runs, compactorPublished: compactions.published, compactorFailures: compactions.failures.length })}\n`);
      expect(compactions.failures).toEqual([]);
      expect(compactions.published).toBeGreaterThan(0);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 900_000);
});
