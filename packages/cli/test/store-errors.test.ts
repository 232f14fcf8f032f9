import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { modelstore, servers } from './helpers.js';

// What users get wrong about the store: the exit code (2 = usage error) and the --json error document.
describe('modelstore: store URIs and variables that are wrong', () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), 'modelstore-store-errors-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** Runs `modelstore --json ...args ls`, expecting a failure; returns the exit code and the parsed error. */
  async function failing(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; error: Record<string, unknown>; stderr: string }> {
    const result = await modelstore(['--json', ...args, 'ls'], { cwd: work, env });
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    const { error } = JSON.parse(result.stdout) as { error: Record<string, unknown> };
    expect(result.stderr).toBe(`modelstore: ${String(error.message)}\n`);
    return { code: result.code, error, stderr: result.stderr };
  }

  it('an unknown scheme: exit 2, INVALID_ARGUMENT, the schemes there are', async () => {
    expect(await failing(['--store', 'ftp://x/y'])).toMatchObject({
      code: 2,
      error: { code: 'INVALID_ARGUMENT', argument: 'uri', message: 'Unknown store URI scheme "ftp://": use file://, s3://, gs://, gcs://, azure:// (or a plain path)' },
    });
  });

  it('a scheme without its //: exit 2, not a folder named "s3:models" in the current directory', async () => {
    expect(await failing(['--store', 's3:models/registry'])).toMatchObject({ code: 2, error: { code: 'INVALID_ARGUMENT', message: '"s3:models/registry" is missing the // after s3: write s3://models/registry' } });
    expect(readdirSync(work)).toEqual([]);
  });

  it('file://relative: exit 2, INVALID_ARGUMENT, with the path to give instead', async () => {
    expect(await failing(['--store', 'file://models/team'])).toMatchObject({
      code: 2,
      error: { code: 'INVALID_ARGUMENT', message: 'file:// URIs name an absolute local path: file:///absolute/path (got host "models"); give a relative path without file://, e.g. ./models/team' },
    });
  });

  it('an unknown URI option: exit 2, INVALID_ARGUMENT, the known options', async () => {
    const { code, error } = await failing(['--store', 's3://models/registry?regoin=eu-west-1']);
    expect(code).toBe(2);
    expect(error).toEqual({
      code: 'INVALID_ARGUMENT',
      argument: 'regoin',
      message: 'unknown option "regoin" for s3:// URIs (known: region, endpoint, forcePathStyle, minio, backblaze, conditionalWrites, partSize, queueSize, maxAttempts, idleTimeoutMs, connectTimeoutMs)',
    });
    expect((await failing(['--store', 'azure://c?connectionString=x'])).code).toBe(2);
  });

  it('a GCS apiEndpoint without a scheme: exit 2 at once, saying to add http:// or https://', async () => {
    const { gcs } = servers();
    const endpoint = gcs.endpoint.replace(/^https?:\/\//, '');
    const started = Date.now();
    const { code, error } = await failing(['--store', `gs://${gcs.bucket}/p?apiEndpoint=${encodeURIComponent(endpoint)}`]);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect({ code, error }).toEqual({
      code: 2,
      error: { code: 'INVALID_ARGUMENT', argument: 'apiEndpoint', message: `apiEndpoint "${endpoint}" has no scheme: add http:// or https:// (http://${endpoint} for a local emulator)` },
    });
  });

  it('no store: exit 2, STORE_CONFIGURATION, naming --store, MODELSTORE_STORE and MODEL_STORE_*', async () => {
    const { code, error } = await failing([]);
    expect(code).toBe(2);
    expect(error.code).toBe('STORE_CONFIGURATION');
    expect(error.settings).toEqual(['--store', 'MODELSTORE_STORE', 'MODEL_STORE_STORAGE']);
    expect(error.message).toMatch(/^No store given: .*--store.*MODELSTORE_STORE.*MODEL_STORE_STORAGE and its MODEL_STORE_\* variables/);
  });

  it('MODEL_STORE_STORAGE=filesystem without MODEL_STORE_ROOT_PREFIX, or an unknown MODEL_STORE_STORAGE: exit 2, STORE_CONFIGURATION, what to set', async () => {
    expect(await failing([], { MODEL_STORE_STORAGE: 'filesystem' })).toMatchObject({
      code: 2,
      error: { code: 'STORE_CONFIGURATION', settings: ['MODEL_STORE_ROOT_PREFIX'], message: 'MODEL_STORE_STORAGE=filesystem needs MODEL_STORE_ROOT_PREFIX to be set' },
    });
    expect(await failing([], { MODEL_STORE_STORAGE: 'hdfs' })).toMatchObject({ code: 2, error: { code: 'STORE_CONFIGURATION', settings: ['MODEL_STORE_STORAGE'] } });
    expect(await failing([], { MODEL_STORE_STORAGE: 'minio', MODEL_STORE_MINIO_BUCKET: 'b', MINIO_ACCESS_KEY: 'a' })).toMatchObject({
      code: 2,
      error: { code: 'STORE_CONFIGURATION', settings: ['MINIO_SECRET_KEY'] },
    });
  });

  it('MODELSTORE_STORE that is wrong is reported as the --store it stands for', async () => {
    expect(await failing([], { MODELSTORE_STORE: 's3://models?regoin=x' })).toMatchObject({ code: 2, error: { code: 'INVALID_ARGUMENT', argument: 'regoin' } });
  });

  it('without --json: the message on stderr, nothing on stdout, exit 2', async () => {
    const result = await modelstore(['--store', 'ftp://x/y', 'ls'], { cwd: work });
    expect(result).toEqual({ code: 2, stdout: '', stderr: 'modelstore: Unknown store URI scheme "ftp://": use file://, s3://, gs://, gcs://, azure:// (or a plain path)\n' });
  });
});
