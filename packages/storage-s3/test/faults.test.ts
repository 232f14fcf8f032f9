import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { assertFaultTolerance, runFaultScenario } from '@modelstore/storage-conformance/reliability';
import { startFaultProxy, type FaultProxy } from '@modelstore/test-servers';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { server, storageOn } from './servers.js';

// MODELSTORE_FAULT_OPERATIONS: 60 in `pnpm test`, 400 in `pnpm test:reliability`.
const operations = Number(process.env.MODELSTORE_FAULT_OPERATIONS ?? 60);
const rate = 0.1;
// On our S3 server and on MinIO: the fault proxy sits between the SDK and the server.
const servers = [
  { label: 'the S3 test server', name: 'MODELSTORE_TEST_S3' },
  { label: 'MinIO', name: 'MODELSTORE_TEST_MINIO' },
] as const;

describe.each(servers)('S3Storage through a fault proxy in front of $label', ({ label, name }) => {
  let proxy: FaultProxy;
  let work: string;

  beforeAll(async () => {
    proxy = await startFaultProxy({ target: server(name).endpoint, seed: 11, stallMs: 5000 });
    work = mkdtempSync(path.join(tmpdir(), 'modelstore-s3-faults-'));
  });

  afterAll(async () => {
    await proxy.close();
    rmSync(work, { recursive: true, force: true });
  });

  it(`loses and corrupts nothing when ${rate * 100}% of requests fail, stall or break mid-body`, async () => {
    const info = server(name);
    // Short timeouts so that stalls cost little time; the retry policy is the default one.
    const faulty = storageOn({ ...info, endpoint: proxy.endpoint }, { partSize: 5 * 1024 * 1024, idleTimeoutMs: 2000, connectTimeoutMs: 2000 });
    const direct = storageOn(info, { rootPrefix: faulty.rootPrefix });
    try {
      // Larger than one part: every upload is a multipart upload.
      const result = await runFaultScenario({ proxy, rate, faulty, direct, work, modelSize: 6 * 1024 * 1024, operations, seed: 5 });
      process.stdout.write(`S3 faults (${label}): ${JSON.stringify(result)}\n`);
      expect(() => assertFaultTolerance(result)).not.toThrow();
    } finally {
      faulty.client.destroy();
      direct.client.destroy();
    }
  }, 600_000);
});
