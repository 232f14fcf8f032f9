// A commit held in the server: the upload's archive is written, its commit request
// (the create-only write of versions/<id>.json) has reached the server but is not
// applied yet, and garbage collection runs meanwhile. Then the commit lands.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RawAdapter } from '@modelstore/adapter-raw';
import { InvalidOptionError, ModelStore, minimumGarbageAge } from '@modelstore/core';
import { startGcsServer, type GcsServer } from '@modelstore/test-servers';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { storageOn } from './server.js';

let gcs: GcsServer;
let work: string;
let modelFile: string;

beforeAll(async () => {
  gcs = await startGcsServer({ buckets: ['late'] });
  work = mkdtempSync(path.join(tmpdir(), 'modelstore-gcs-late-'));
  modelFile = path.join(work, 'weights.bin');
  writeFileSync(modelFile, randomBytes(64 * 1024));
});

afterAll(async () => {
  await gcs.close();
  rmSync(work, { recursive: true, force: true });
});

function storeOn() {
  const storage = storageOn({ endpoint: gcs.endpoint, bucket: 'late' });
  return new ModelStore({ storage, adapters: [new RawAdapter()], cacheDir: path.join(work, `cache-${randomBytes(4).toString('hex')}`) });
}

/** Starts an upload of `modelId` whose commit the server holds; resolves once it is held. */
async function uploadWithCommitHeld(store: ModelStore, modelId: string) {
  const commit = gcs.holdNext(new RegExp(`^POST /upload/.*name=.*/late/versions/${modelId}\\.json`));
  const upload = store.upload('late', { model: modelFile, modelId });
  await commit.arrived;
  return { upload, release: commit.release };
}

describe('garbage collection on GCS while a commit is held in the server', () => {
  it('keeps the archive with the smallest allowed grace period, and the model downloads once the commit lands', async () => {
    const store = storeOn();
    const { upload, release } = await uploadWithCommitHeld(store, 'm1');
    const refused = await store.collectGarbage({ olderThan: 0 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(InvalidOptionError.isInstance(refused)).toBe(true);
    const swept = await store.collectGarbage({ olderThan: minimumGarbageAge });
    expect(swept.removed).toEqual([]);
    expect(swept.kept.map((object) => object.key)).toEqual([expect.stringMatching(/\/m1\/artifacts\.tar\.gz$/)]);
    release();
    await upload;
    const to = path.join(work, 'm1');
    await store.download('late', { modelId: 'm1', to });
    expect(readFileSync(path.join(to, 'weights.bin')).equals(readFileSync(modelFile))).toBe(true);
  }, 60_000);

  it('without the grace period (the old olderThan: 0) the archive goes, and the committed model cannot be downloaded', async () => {
    const store = storeOn();
    const { upload, release } = await uploadWithCommitHeld(store, 'm2');
    // A false promise here: a commit is in flight. This is what gc did before the minimum.
    expect((await store.collectGarbage({ olderThan: 0, quiesced: true })).removed).toHaveLength(1);
    release();
    await upload;
    expect(await store.listModels('late')).toContain('m2');
    await expect(store.download('late', { modelId: 'm2', to: path.join(work, 'm2') })).rejects.toThrow();
  }, 60_000);
});
