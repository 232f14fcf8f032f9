import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { assertFaultTolerance, runFaultScenario } from '@modelstore/storage-conformance/reliability';
import { startFaultProxy, type FaultProxy } from '@modelstore/test-servers';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { server, storageOn } from './server.js';

// MODELSTORE_FAULT_OPERATIONS: 60 in `pnpm test`, 400 in `pnpm test:reliability`.
const operations = Number(process.env.MODELSTORE_FAULT_OPERATIONS ?? 60);
const rate = 0.1;
let proxy: FaultProxy;
let work: string;

beforeAll(async () => {
  proxy = await startFaultProxy({ target: server().endpoint, seed: 11, stallMs: 5000 });
  work = mkdtempSync(path.join(tmpdir(), 'modelstore-gcs-faults-'));
});

afterAll(async () => {
  await proxy.close();
  rmSync(work, { recursive: true, force: true });
});

describe('GcsStorage through a fault proxy', () => {
  it(`loses and corrupts nothing when ${rate * 100}% of requests fail, stall or break mid-body`, async () => {
    const info = server();
    // A short timeout so that stalls cost little time; the retry policy is the default one.
    const faulty = storageOn({ ...info, endpoint: proxy.endpoint }, { resumableThreshold: 4 * 1024 * 1024, chunkSize: 2 * 1024 * 1024, requestTimeoutMs: 1000 });
    const direct = storageOn(info, { rootPrefix: faulty.rootPrefix });
    try {
      // Larger than the resumable threshold: every upload is a resumable upload of several chunks.
      const result = await runFaultScenario({ proxy, rate, faulty, direct, work, modelSize: 6 * 1024 * 1024, operations, seed: 5 });
      process.stdout.write(`GCS faults: ${JSON.stringify(result)}\n`);
      expect(() => assertFaultTolerance(result)).not.toThrow();
    } finally {
      // Nothing to close: the GCS SDK holds no sockets open between requests.
    }
  }, 600_000);
});
