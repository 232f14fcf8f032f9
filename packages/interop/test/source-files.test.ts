// A model file that cannot be stored as listed (a dangling link in the model folder, a
// checkpoint truncated or grown while it is uploaded) fails the upload with a typed,
// non-retryable SourceFileError naming the file — even though the failure happens
// inside the archive stream a backend is consuming — and nothing is committed: the
// registry holds no object at all afterwards. On the file system, our S3 and GCS test
// servers, MinIO, fake-gcs-server and Azurite.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SourceFileError, type Storage } from '@modelstore/core';
import { GcsStorage } from '@modelstore/storage-gcs';
import { S3Storage } from '@modelstore/storage-s3';
import { allKeys, startGcsServer, startS3Server, type GcsServer, type S3Server } from '@modelstore/test-servers';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { backends, nodeStore, workDir } from './helpers.js';

let s3: S3Server;
let gcs: GcsServer;
beforeAll(async () => {
  [s3, gcs] = await Promise.all([startS3Server({ buckets: ['sources'] }), startGcsServer({ buckets: ['sources'] })]);
});
afterAll(async () => {
  await Promise.all([s3?.close(), gcs?.close()]);
});

const registries: Array<{ name: string; create(): Storage }> = [
  ...backends().map((backend) => ({ name: backend.name, create: () => backend.create().node })),
  {
    name: 'the modelstore S3 server',
    create: () =>
      new S3Storage({
        bucket: 'sources',
        rootPrefix: `sources-${randomBytes(5).toString('hex')}`,
        endpoint: s3.endpoint,
        forcePathStyle: true,
        region: 'us-east-1',
        credentials: s3.credentials,
      }),
  },
  {
    name: 'the modelstore GCS server',
    create: () => new GcsStorage({ bucket: 'sources', rootPrefix: `sources-${randomBytes(5).toString('hex')}`, apiEndpoint: gcs.endpoint, projectId: 'modelstore-test' }),
  },
];

/** 96 MiB that do not compress (so the archive is read while it is sent, not before), shared by every test. */
let weights: string;
beforeAll(() => {
  weights = path.join(workDir('weights'), 'weights.bin');
  writeFileSync(weights, randomBytes(96 << 20));
});

describe.each(registries)('a source file that cannot be stored, on $name', ({ create }) => {
  it('a dangling link in the model folder: SourceFileError naming it, nothing written', async () => {
    const storage = create();
    const folder = workDir('dangling');
    writeFileSync(path.join(folder, 'config.json'), '{}');
    symlinkSync('checkpoint-500.ckpt', path.join(folder, 'last.ckpt'));
    const error = await nodeStore(storage)
      .upload('sources', { model: folder })
      .catch((e: unknown) => e);
    expect(SourceFileError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'SOURCE_FILE', reason: 'dangling-link', path: path.join(folder, 'last.ckpt'), retryable: false });
    expect(await allKeys(storage)).toEqual([]);
  });

  for (const [what, change, message] of [
    ['truncated', (file: string) => truncateSync(file, 1000), /ended after 1000 of its 4194304 bytes/],
    ['grown', (file: string) => appendFileSync(file, 'more'), /grew beyond its 4194304 bytes/],
  ] as Array<[string, (file: string) => void, RegExp]>) {
    it(`a checkpoint ${what} while it is uploaded: SourceFileError naming it, not a storage error; nothing committed`, async () => {
      const storage = create();
      const folder = workDir(what);
      mkdirSync(path.join(folder, 'model'));
      // The checkpoint comes after the weights in the archive, so it is read once bytes are already flowing.
      symlinkSync(weights, path.join(folder, 'model', 'a-weights.bin'));
      const checkpoint = path.join(folder, 'model', 'z-checkpoint.ckpt');
      writeFileSync(checkpoint, randomBytes(4 << 20));
      let changed = false;
      const store = nodeStore(storage);
      const error = await store
        .upload('sources', {
          model: [path.join(folder, 'model', 'a-weights.bin'), checkpoint],
          onProgress: () => {
            if (!changed) {
              changed = true;
              change(checkpoint);
            }
          },
        })
        .catch((e: unknown) => e);
      expect(changed).toBe(true);
      expect(SourceFileError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ code: 'SOURCE_FILE', reason: 'changed', path: checkpoint, retryable: false });
      expect((error as Error).message).toMatch(message);
      expect(await allKeys(storage)).toEqual([]);
      expect(await store.listDomains()).toEqual([]);
    });
  }
});
