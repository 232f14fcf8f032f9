import { describe, expect, it } from '@jest/globals';
import { runCrashScenario } from '@modelstore/storage-conformance/reliability';
import { requestsInFlight } from '@modelstore/test-servers';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { server, storageOn } from './server.js';

// MODELSTORE_CRASH_RUNS kills (5 in `pnpm test`, 30 in `pnpm test:reliability`).
const runs = Number(process.env.MODELSTORE_CRASH_RUNS ?? 5);

describe('crashes at random points on the GCS test server', () => {
  it(`keeps the registry consistent after ${runs} SIGKILLs of a process uploading, deleting and labelling`, async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'modelstore-gcs-crash-'));
    const info = server();
    const chunking = { resumableThreshold: 4 * 1024 * 1024, chunkSize: 2 * 1024 * 1024 };
    const storage = storageOn(info, chunking);
    const storageOptions = { bucket: info.bucket, rootPrefix: storage.rootPrefix, apiEndpoint: info.endpoint, projectId: 'modelstore-test', ...chunking };
    try {
      // Larger than the resumable threshold, so kills land between chunks too.
      // After each kill the checks wait until the server has applied every request the worker left in flight.
      const result = await runCrashScenario({ runs, seed: 20261127, worker: path.join(__dirname, 'crash-child.mjs'), storageOptions, storage, work, modelSize: 6 * 1024 * 1024, inFlight: () => requestsInFlight(info.endpoint) });
      process.stdout.write(`GCS crashes: ${JSON.stringify(result)}\n`);
      expect(result.kills).toBe(runs);
      expect(result.downloads).toBeGreaterThan(0);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 600_000);
});
