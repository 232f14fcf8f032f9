import { describe, expect, it } from '@jest/globals';
import { runCrashScenario } from '@modelstore/storage-conformance/reliability';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { azurite, storageOn } from './server.js';

// MODELSTORE_CRASH_RUNS kills (5 in `pnpm test`, 30 in `pnpm test:reliability`).
const runs = Number(process.env.MODELSTORE_CRASH_RUNS ?? 5);

describe('crashes at random points on Azurite', () => {
  it(`keeps the registry consistent after ${runs} SIGKILLs of a process uploading, deleting and labelling`, async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'modelstore-azure-crash-'));
    const info = azurite();
    const storage = storageOn({ blockSize: 4 * 1024 * 1024 });
    const storageOptions = { container: info.container, connectionString: info.connectionString, rootPrefix: storage.rootPrefix, blockSize: 4 * 1024 * 1024 };
    try {
      // Larger than one block, so kills land between staged blocks and their commit too.
      const result = await runCrashScenario({ runs, seed: 20261127, worker: path.join(__dirname, 'crash-child.mjs'), storageOptions, storage, work, modelSize: 6 * 1024 * 1024 });
      process.stdout.write(`Azure crashes: ${JSON.stringify(result)}\n`);
      expect(result.kills).toBe(runs);
      expect(result.downloads).toBeGreaterThan(0);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 600_000);
});
