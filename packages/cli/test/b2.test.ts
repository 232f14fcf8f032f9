import { beforeAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { RawAdapter } from '@modelstore/adapter-raw';
import { openModelStore, type ModelMetadata } from '@modelstore/core';
import type { S3Storage } from '@modelstore/storage-s3';
import { ensurePythonEnv } from '@modelstore/test-servers';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { servers } from './helpers.js';

// Python modelstore 0.0.82 added a Backblaze B2 storage (modelstore/storage/backblaze.py): boto3 on
// B2's S3-compatible API, configured by MODEL_STORE_STORAGE=backblaze-b2 and the variables below,
// writing `storage: { type: "backblaze:b2", bucket, prefix }`. B2 itself is never called here:
// MODEL_STORE_B2_ENDPOINT points both libraries at the local S3 test server.

const script = path.join(__dirname, 'python', 'b2_registry.py');
let python: string;

function b2Env(rootPrefix: string): Record<string, string> {
  const { s3 } = servers();
  return {
    MODEL_STORE_STORAGE: 'backblaze-b2',
    MODEL_STORE_B2_BUCKET: s3.bucket,
    B2_APPLICATION_KEY_ID: s3.credentials.accessKeyId,
    B2_APPLICATION_KEY: s3.credentials.secretAccessKey,
    MODEL_STORE_B2_REGION: 'us-west-004',
    MODEL_STORE_B2_ENDPOINT: s3.endpoint,
    MODEL_STORE_B2_ROOT_PREFIX: rootPrefix,
  };
}

/** Runs the Python side with only the B2 variables (no AWS_* that boto3 could pick up instead). */
function runPython(args: string[], env: Record<string, string>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(python, [script, ...args], { env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), ...env }, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`python ${args[0]} failed: ${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>);
    });
  });
}

/** Python's `to_dict()` keeps unset fields as null; the JSON it stores leaves them out. */
const set = (location: object) => Object.fromEntries(Object.entries(location).filter(([, value]) => value !== null));

describe('Backblaze B2 (Python modelstore 0.0.82)', () => {
  let work: string;
  const adapters = [new RawAdapter()];
  beforeAll(async () => {
    ({ python } = await ensurePythonEnv());
  }, 20 * 60_000);
  beforeEach(() => {
    work = mkdtempSync(path.join(tmpdir(), 'modelstore-b2-'));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('MODEL_STORE_STORAGE=backblaze-b2 opens S3Storage on https://s3.<region>.backblazeb2.com, path-style, with the B2 application key', async () => {
    const env = { MODEL_STORE_STORAGE: 'backblaze-b2', MODEL_STORE_B2_BUCKET: 'team-models', B2_APPLICATION_KEY_ID: '004a1b2c', B2_APPLICATION_KEY: 'K004xyz', MODEL_STORE_B2_ROOT_PREFIX: 'registry' };
    for (const [region, host] of [
      [undefined, 's3.us-west-004.backblazeb2.com'],
      ['eu-central-003', 's3.eu-central-003.backblazeb2.com'],
    ] as const) {
      const store = await openModelStore(undefined, { adapters, env: region ? { ...env, MODEL_STORE_B2_REGION: region } : env });
      const storage = store.storage as S3Storage;
      // What the SDK would call: resolved from the client's configuration, no request is made.
      const endpoint = await storage.client.config.endpoint!();
      expect({ protocol: endpoint.protocol, hostname: endpoint.hostname }).toEqual({ protocol: 'https:', hostname: host });
      expect(await storage.client.config.region()).toBe(region ?? 'us-west-004');
      expect(storage.client.config.forcePathStyle).toBe(true);
      expect(await storage.client.config.credentials()).toMatchObject({ accessKeyId: '004a1b2c', secretAccessKey: 'K004xyz' });
      expect(storage.describe('operatorai-model-store/d/2026.01.01-00.00.00/m/artifacts.tar.gz')).toEqual({
        type: 'backblaze:b2',
        bucket: 'team-models',
        prefix: 'registry/operatorai-model-store/d/2026.01.01-00.00.00/m/artifacts.tar.gz',
      });
    }
  });

  it('Python writes to B2, Node reads the backblaze:b2 metadata, its state, and downloads the model', async () => {
    const env = b2Env(`b2-${randomBytes(5).toString('hex')}`);
    const file = path.join(work, 'weights.bin');
    const weights = randomBytes(64 * 1024);
    writeFileSync(file, weights);
    const written = await runPython(['upload', 'b2-python', file, 'py-model-1'], env);
    expect(written.version).toBe('0.0.82');
    const pythonMetadata = written.metadata as ModelMetadata;
    expect(set(pythonMetadata.storage)).toEqual({
      type: 'backblaze:b2',
      bucket: env.MODEL_STORE_B2_BUCKET,
      prefix: expect.stringMatching(new RegExp(`^${env.MODEL_STORE_B2_ROOT_PREFIX}/operatorai-model-store/b2-python/[0-9.-]+/py-model-1/artifacts\\.tar\\.gz$`)),
    });

    const store = await openModelStore(undefined, { adapters, env, cacheDir: path.join(work, 'cache') });
    expect(await store.listModels('b2-python')).toEqual(['py-model-1']);
    expect(await store.listModels('b2-python', { state: 'production' })).toEqual(['py-model-1']);
    const info = await store.getModelInfo('b2-python', 'py-model-1');
    expect(info.storage).toEqual(set(pythonMetadata.storage));
    expect(info.model.model_type.library).toBe('model_file');
    const to = await store.download('b2-python', { modelId: 'py-model-1', to: path.join(work, 'downloaded') });
    expect(readFileSync(path.join(to, 'weights.bin')).equals(weights)).toBe(true);
  }, 180_000);

  it('Node writes to B2 as backblaze:b2, Python 0.0.82 lists, reads and downloads it', async () => {
    const env = b2Env(`b2-${randomBytes(5).toString('hex')}`);
    const store = await openModelStore(undefined, { adapters, env });
    const file = path.join(work, 'weights.bin');
    writeFileSync(file, 'node weights');
    const { storage, model } = await store.upload('b2-node', { model: file, modelId: 'node-model-1' });
    expect(storage).toEqual({ type: 'backblaze:b2', bucket: env.MODEL_STORE_B2_BUCKET, prefix: expect.stringContaining(`${env.MODEL_STORE_B2_ROOT_PREFIX}/operatorai-model-store/b2-node/`) });
    const target = path.join(work, 'python-download');
    mkdirSync(target);
    const read = await runPython(['read', 'b2-node', model.model_id, target], env);
    expect(read.models).toEqual(['node-model-1']);
    expect(set((read.info as ModelMetadata).storage)).toEqual(storage);
    expect((read.files as Record<string, string>)['weights.bin']).toBe('node weights');
  }, 180_000);
});
