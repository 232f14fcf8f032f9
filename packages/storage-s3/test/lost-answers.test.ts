import { afterAll, describe, expect, it } from '@jest/globals';
import { RawAdapter } from '@modelstore/adapter-raw';
import { ModelStore } from '@modelstore/core';
import { startFaultProxy, type FaultProxy } from '@modelstore/test-servers';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { server, storageOn } from './servers.js';

let proxy: FaultProxy | undefined;
const work = mkdtempSync(path.join(tmpdir(), 'modelstore-s3-lost-'));
afterAll(async () => {
  await proxy?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('S3 uploads whose CompleteMultipartUpload answer is lost', () => {
  it("succeeds: the retry finds the upload gone, the archive is read back and is the upload's own", async () => {
    const info = server('MODELSTORE_TEST_S3');
    let stalls = 1;
    // The first CompleteMultipartUpload is applied by the server, but its answer never comes.
    proxy = await startFaultProxy({ target: info.endpoint, stallMs: 20_000, decide: ({ method, url }) => (method === 'POST' && url.includes('uploadId=') && stalls-- > 0 ? 'stall' : undefined) });
    const storage = storageOn({ ...info, endpoint: proxy.endpoint }, { partSize: 5 * 1024 * 1024, idleTimeoutMs: 500 });
    const modelFile = path.join(work, 'weights.bin');
    writeFileSync(modelFile, randomBytes(6 * 1024 * 1024));
    const store = new ModelStore({ storage, adapters: [new RawAdapter()], cacheDir: path.join(work, 'cache') });
    const metadata = await store.upload('lost', { model: modelFile });
    expect(proxy.counts.stall).toBe(1);
    const to = path.join(work, 'out');
    await store.download('lost', { modelId: metadata.model.model_id, to });
    expect(readFileSync(path.join(to, 'weights.bin')).equals(readFileSync(modelFile))).toBe(true);
    storage.client.destroy();
  }, 60_000);
});
