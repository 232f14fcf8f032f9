import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { assertFaultTolerance, runFaultScenario } from '@modelstore/storage-conformance/reliability';
import { startFaultProxy, type FaultProxy } from '@modelstore/test-servers';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { azurite, storageOn } from './server.js';

// MODELSTORE_FAULT_OPERATIONS: 60 in `pnpm test`, 400 in `pnpm test:reliability`.
const operations = Number(process.env.MODELSTORE_FAULT_OPERATIONS ?? 60);
const rate = 0.1;
let proxy: FaultProxy;
let work: string;

beforeAll(async () => {
  const blobEndpoint = /BlobEndpoint=(http:\/\/127\.0\.0\.1:\d+)/.exec(azurite().connectionString)![1]!;
  proxy = await startFaultProxy({ target: blobEndpoint, seed: 11, stallMs: 5000 });
  work = mkdtempSync(path.join(tmpdir(), 'modelstore-azure-faults-'));
});

afterAll(async () => {
  await proxy.close();
  rmSync(work, { recursive: true, force: true });
});

describe('AzureBlobStorage through a fault proxy', () => {
  it(`loses and corrupts nothing when ${rate * 100}% of requests fail, stall or break mid-body`, async () => {
    const { connectionString } = azurite();
    // Short timeouts and delays so that stalls and retries cost little time; the attempts are the default ones.
    const throughProxy = connectionString.replace(/BlobEndpoint=http:\/\/127\.0\.0\.1:\d+/, `BlobEndpoint=${proxy.endpoint}`);
    const faulty = storageOn({ connectionString: throughProxy, blockSize: 4 * 1024 * 1024, idleTimeoutMs: 1000, retryDelayMs: 100 });
    const direct = storageOn({ rootPrefix: faulty.rootPrefix });
    try {
      // Larger than one block: every upload stages blocks and commits them.
      const result = await runFaultScenario({ proxy, rate, faulty, direct, work, modelSize: 6 * 1024 * 1024, operations, seed: 5 });
      process.stdout.write(`Azure faults: ${JSON.stringify(result)}\n`);
      expect(() => assertFaultTolerance(result)).not.toThrow();
    } finally {
      // Nothing to close: the Azure SDK's sockets are pooled and unreferenced.
    }
  }, 600_000);
});
