import { describe, expect, it } from '@jest/globals';
import { RawAdapter } from '@modelstore/adapter-raw';
import { DomainNotFoundError, ModelStore } from '@modelstore/core';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileSystemStorage } from '../src/index.js';

// MODELSTORE_CRASH_RUNS kills (5 in `pnpm test`, 30 in `pnpm test:reliability`).
const runs = Number(process.env.MODELSTORE_CRASH_RUNS ?? 5);

describe('crashes at random points', () => {
  it(`keeps the registry consistent after ${runs} SIGKILLs of a process uploading, deleting and labelling`, async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'modelstore-crash-'));
    const root = path.join(work, 'registry');
    const modelFile = path.join(work, 'model.bin');
    writeFileSync(modelFile, randomBytes(256 * 1024));
    const store = new ModelStore({ storage: new FileSystemStorage({ root }), adapters: [new RawAdapter()], cacheDir: path.join(work, 'cache') });
    let seed = 20261127;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
    let downloads = 0;
    let collected = 0;
    try {
      for (let run = 0; run < runs; run++) {
        const child = spawn(process.execPath, [path.join(__dirname, 'crash-child.mjs'), root, modelFile, String(run + 1)], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
        await new Promise<void>((resolve, reject) => {
          child.stdout.on('data', (data: Buffer) => data.toString().includes('ready') && resolve());
          child.on('exit', () => reject(new Error(`the worker exited before it was killed: ${stderr}`)));
        });
        await new Promise((resolve) => setTimeout(resolve, 30 + random() * 400));
        const exited = new Promise((resolve) => child.on('exit', resolve));
        child.kill('SIGKILL');
        await exited;
        expect(stderr).toBe('');

        const check = async () => {
          const ids = await store.listModels('churn').catch((error: unknown) => {
            if (DomainNotFoundError.isInstance(error)) return [] as string[];
            throw error;
          });
          for (const id of ids) {
            await store.download('churn', { modelId: id, to: path.join(work, 'out', `${run}-${id}-${downloads++}`) });
          }
          const latest = await store.getDomain('churn').then(
            (metadata) => metadata.model.model_id,
            (error: unknown) => {
              if (DomainNotFoundError.isInstance(error)) return undefined;
              throw error;
            },
          );
          if (latest !== undefined) expect([run, ids.includes(latest)]).toEqual([run, true]);
          const inProduction = await store.listModels('churn', { state: 'production' }).catch(() => [] as string[]);
          expect([run, inProduction.filter((id) => !ids.includes(id))]).toEqual([run, []]);
          return ids;
        };
        const before = await check();
        const garbage = await store.collectGarbage({ olderThan: 0 });
        collected += garbage.removed.length;
        // Garbage collection removed only what no model needs.
        expect(await check()).toEqual(before);
        rmSync(path.join(work, 'out'), { recursive: true, force: true });
      }
      expect(downloads).toBeGreaterThan(0);
      process.stdout.write(`${runs} crashes: ${downloads} downloads verified, ${collected} orphan archives collected\n`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 600_000);
});
