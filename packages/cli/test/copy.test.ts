import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { modelstore, stores, treeDigest } from './helpers.js';

describe('modelstore cp', () => {
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(path.join(tmpdir(), 'modelstore-cli-cp-'));
    writeFileSync(path.join(work, 'model.bin'), randomBytes(3 * 1024 * 1024));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('promotes a model from a file system store to S3, and from S3 to Azure, byte-identical', async () => {
    const { s3, azure, env } = stores();
    const run = (...args: string[]) => modelstore(args, { cwd: work, env });
    expect((await run('--store', './dev', 'upload', 'churn', 'model.bin', '--id', 'candidate')).code).toBe(0);
    const original = treeDigest(JSON.parse((await run('--store', './dev', '--json', 'download', 'churn', 'candidate', '--to', 'from-dev')).stdout).directory);

    const toS3 = await run('--store', './dev', '--json', 'cp', 'churn', 'candidate', '--to', s3, '--state', 'staging');
    expect(toS3.code).toBe(0);
    expect(JSON.parse(toS3.stdout).storage.type).toBe('aws:s3');
    expect(JSON.parse((await run('--store', s3, '--json', 'ls', 'churn', '--state', 'staging')).stdout)[0].modelId).toBe('candidate');

    const toAzure = await run('--store', s3, '--json', 'cp', 'churn', 'candidate', '--to', azure, '--state', 'production');
    expect(toAzure.code).toBe(0);
    expect(JSON.parse(toAzure.stdout).storage.type).toBe('azure:blob-storage');

    for (const [store, to] of [
      [s3, 'from-s3'],
      [azure, 'from-azure'],
    ] as const) {
      const result = await run('--store', store, '--json', 'download', 'churn', 'candidate', '--to', to);
      expect(result.code).toBe(0);
      expect(treeDigest(JSON.parse(result.stdout).directory)).toEqual(original);
    }
    // A second promotion of the same model is "already there"; the same id with other contents is refused.
    const again = await run('--store', './dev', 'cp', 'churn', 'candidate', '--to', s3);
    expect(again).toEqual({ code: 0, stdout: 'candidate\n', stderr: `modelstore: churn/candidate is already there in ${s3} (same archive sha256); nothing copied\n` });
    writeFileSync(path.join(work, 'model.bin'), randomBytes(1024));
    expect((await run('--store', './other', 'upload', 'churn', 'model.bin', '--id', 'candidate')).code).toBe(0);
    expect((await run('--store', './other', 'cp', 'churn', 'candidate', '--to', s3)).code).toBe(4);
  }, 120_000);
});
