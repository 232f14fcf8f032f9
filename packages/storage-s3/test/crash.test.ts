import { describe, expect, it } from '@jest/globals';
import { runCrashScenario } from '@modelstore/storage-conformance/reliability';
import { requestsInFlight } from '@modelstore/test-servers';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { server, storageOn } from './servers.js';

// MODELSTORE_CRASH_RUNS kills (5 in `pnpm test`, 30 in `pnpm test:reliability`).
const runs = Number(process.env.MODELSTORE_CRASH_RUNS ?? 5);

// On our S3 server and on MinIO.
const servers = [
  { label: 'the S3 test server', name: 'MODELSTORE_TEST_S3' },
  { label: 'MinIO', name: 'MODELSTORE_TEST_MINIO' },
] as const;

describe.each(servers)('crashes at random points on $label', ({ label, name }) => {
  it(`keeps the registry consistent after ${runs} SIGKILLs of a process uploading, deleting and labelling`, async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'modelstore-s3-crash-'));
    const info = server(name);
    const storage = storageOn(info, { partSize: 5 * 1024 * 1024 });
    const storageOptions = { bucket: info.bucket, rootPrefix: storage.rootPrefix, endpoint: info.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: info.credentials, partSize: 5 * 1024 * 1024 };
    try {
      // Larger than one part, so kills land in multipart uploads too.
      const result = await runCrashScenario({
        runs,
        seed: 20261127,
        worker: path.join(__dirname, 'crash-child.mjs'),
        storageOptions,
        storage,
        work,
        modelSize: 6 * 1024 * 1024,
        env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
        ...(name === 'MODELSTORE_TEST_S3' ? { inFlight: () => requestsInFlight(info.endpoint) } : {}),
      });
      process.stdout.write(`S3 crashes (${label}): ${JSON.stringify(result)}\n`);
      expect(result.kills).toBe(runs);
      expect(result.downloads).toBeGreaterThan(0);
    } finally {
      storage.client.destroy();
      rmSync(work, { recursive: true, force: true });
    }
  }, 600_000);
});
