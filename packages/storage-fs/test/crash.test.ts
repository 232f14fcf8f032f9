import { describe, expect, it } from '@jest/globals';
import { runCrashScenario } from '@modelstore/storage-conformance/reliability';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileSystemStorage } from '../src/index.js';

// MODELSTORE_CRASH_RUNS kills (5 in `pnpm test`, 30 in `pnpm test:reliability`).
const runs = Number(process.env.MODELSTORE_CRASH_RUNS ?? 5);

describe('crashes at random points', () => {
  it(`keeps the registry consistent after ${runs} SIGKILLs of a process uploading, deleting and labelling`, async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'modelstore-crash-'));
    const root = path.join(work, 'registry');
    try {
      const result = await runCrashScenario({ runs, seed: 20261127, worker: path.join(__dirname, 'crash-child.mjs'), storageOptions: { root }, storage: new FileSystemStorage({ root }), work, modelSize: 256 * 1024 });
      process.stdout.write(`file system crashes: ${JSON.stringify(result)}\n`);
      expect(result.kills).toBe(runs);
      expect(result.downloads).toBeGreaterThan(0);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 600_000);
});
