import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RawAdapter } from '@modelstore/adapter-raw';
import { ModelStore } from '@modelstore/core';
import { runFaultWorkload } from '@modelstore/storage-conformance/reliability';
import { startFaultProxy, type FaultProxy } from '@modelstore/test-servers';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { server, storageOn } from './servers.js';

// MODELSTORE_FAULT_OPERATIONS: 60 in `pnpm test`, 400 in `pnpm test:reliability`.
const operations = Number(process.env.MODELSTORE_FAULT_OPERATIONS ?? 60);
const rate = Number(process.env.MODELSTORE_FAULT_RATE ?? 0.1);
let proxy: FaultProxy;
let work: string;

beforeAll(async () => {
  proxy = await startFaultProxy({ target: server('MODELSTORE_TEST_S3').endpoint, seed: 11, stallMs: 5000 });
  work = mkdtempSync(path.join(tmpdir(), 'modelstore-s3-faults-'));
});

afterAll(async () => {
  await proxy.close();
  rmSync(work, { recursive: true, force: true });
});

describe('S3Storage through a fault proxy', () => {
  it(`loses and corrupts nothing when ${rate * 100}% of requests fail, stall or break mid-body`, async () => {
    const info = server('MODELSTORE_TEST_S3');
    const modelFile = path.join(work, 'weights.bin');
    // Larger than one part: every upload is a multipart upload.
    writeFileSync(modelFile, randomBytes(6 * 1024 * 1024));
    const faulty = storageOn({ ...info, endpoint: proxy.endpoint }, { partSize: 5 * 1024 * 1024, idleTimeoutMs: 1000, connectTimeoutMs: 1000 });
    const direct = storageOn(info, { rootPrefix: faulty.rootPrefix });
    proxy.setRate(rate);
    const result = await runFaultWorkload({
      store: new ModelStore({ storage: faulty, adapters: [new RawAdapter()], cacheDir: path.join(work, 'cache') }),
      verifier: new ModelStore({ storage: direct, adapters: [new RawAdapter()], cacheDir: path.join(work, 'cache-direct') }),
      domain: 'faults',
      state: 'production',
      modelFile,
      work,
      operations,
      seed: 5,
      beforeCheck: () => proxy.setRate(0),
    });
    process.stdout.write(`S3 faults: ${JSON.stringify({ ...result, injected: proxy.counts })}\n`);
    expect(result.untyped).toEqual([]);
    expect([result.lost, result.leftovers]).toEqual([0, 0]);
    expect(result.succeeded).toBeGreaterThan(0);
    expect(proxy.counts['500'] + proxy.counts['503'] + proxy.counts.stall + proxy.counts.reset).toBeGreaterThan(0);
    faulty.client.destroy();
    direct.client.destroy();
  }, 600_000);
});
