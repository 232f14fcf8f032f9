import { beforeAll, describe, expect, it } from '@jest/globals';
import { InvalidArgumentError, StoreConfigurationError, openModelStore, storeBackendPackages, type ModelStoreError } from '@modelstore/core';
import { layout } from '@modelstore/core/internal';
import { ensurePythonEnv } from '@modelstore/test-servers';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as backend from '../src/index.js';
import { b2Endpoint, createStorage, describeOptions, fromEnvironment, fromStoreUri, pythonStorageNames, uriSchemes } from '../src/index.js';
import { server } from './servers.js';

function thrown(run: () => unknown): ModelStoreError {
  try {
    run();
  } catch (error) {
    return error as ModelStoreError;
  }
  throw new Error('expected an error');
}

describe("s3:// URIs and Python's variables map onto S3StorageOptions", () => {
  it('declares the schemes and MODEL_STORE_STORAGE values core routes to this package', () => {
    expect(storeBackendPackages.find((entry) => entry.package === '@modelstore/storage-s3')).toEqual({ package: '@modelstore/storage-s3', uriSchemes, pythonStorageNames });
    expect(describeOptions.map((option) => option.name)).toEqual(['region', 'endpoint', 'forcePathStyle', 'minio', 'backblaze', 'conditionalWrites', 'partSize', 'queueSize', 'maxAttempts', 'idleTimeoutMs', 'connectTimeoutMs']);
  });

  it('reads the bucket, the prefix and every known option with its type', () => {
    expect(fromStoreUri(new URL('s3://bucket/a/b?region=eu-west-1&forcePathStyle=true&partSize=5242880'))).toEqual({ bucket: 'bucket', rootPrefix: 'a/b', region: 'eu-west-1', forcePathStyle: true, partSize: 5242880 });
    expect(
      fromStoreUri(
        new URL('s3://models/team?endpoint=https://s3.us-west-004.backblazeb2.com&region=us-west-004&forcePathStyle=true&backblaze=true&conditionalWrites=false&queueSize=2&maxAttempts=3&idleTimeoutMs=1000&connectTimeoutMs=500&minio=0'),
      ),
    ).toEqual({
      bucket: 'models',
      rootPrefix: 'team',
      endpoint: 'https://s3.us-west-004.backblazeb2.com',
      region: 'us-west-004',
      forcePathStyle: true,
      backblaze: true,
      conditionalWrites: false,
      queueSize: 2,
      maxAttempts: 3,
      idleTimeoutMs: 1000,
      connectTimeoutMs: 500,
      minio: false,
    });
    expect(fromStoreUri(new URL('s3://bucket'))).toEqual({ bucket: 'bucket' });
  });

  it('an unknown option is an InvalidArgumentError listing the known ones', () => {
    const error = thrown(() => fromStoreUri(new URL('s3://models/registry?regoin=eu-west-1')));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(`${error.name}: ${error.message}`).toBe(
      'InvalidArgumentError: unknown option "regoin" for s3:// URIs (known: region, endpoint, forcePathStyle, minio, backblaze, conditionalWrites, partSize, queueSize, maxAttempts, idleTimeoutMs, connectTimeoutMs)',
    );
  });

  it('refuses secrets, an endpoint without a scheme, bad values and a missing bucket', () => {
    expect(thrown(() => fromStoreUri(new URL('s3://bucket?secretAccessKey=x'))).message).toMatch(/^Store URIs do not carry secrets/);
    expect(thrown(() => fromStoreUri(new URL('s3://bucket?accessKeyId=x'))).message).toMatch(/^Store URIs do not carry secrets/);
    expect(thrown(() => fromStoreUri(new URL('s3://bucket?endpoint=127.0.0.1:9000'))).message).toBe('endpoint "127.0.0.1:9000" has no scheme: add http:// or https:// (http://127.0.0.1:9000 for a local emulator)');
    expect(thrown(() => fromStoreUri(new URL('s3://bucket?partSize=big')))).toBeInstanceOf(InvalidArgumentError);
    expect(thrown(() => fromStoreUri(new URL('s3://bucket?forcePathStyle=yes')))).toBeInstanceOf(InvalidArgumentError);
    expect(thrown(() => fromStoreUri(new URL('s3:///prefix'))).message).toBe('s3:// URIs name a bucket: s3://<bucket>/<prefix>');
    expect(thrown(() => createStorage({ bucket: 'b', endpoint: 'minio:9000' }))).toBeInstanceOf(InvalidArgumentError);
  });

  it('MODEL_STORE_STORAGE=aws-s3: bucket required; region and prefix optional', () => {
    expect(fromEnvironment({ MODEL_STORE_STORAGE: 'aws-s3', MODEL_STORE_AWS_BUCKET: 'm' })).toEqual({ bucket: 'm' });
    expect(fromEnvironment({ MODEL_STORE_STORAGE: 'aws-s3', MODEL_STORE_AWS_BUCKET: 'm', MODEL_STORE_REGION: 'eu-west-2', MODEL_STORE_AWS_ROOT_PREFIX: 'p' })).toEqual({ bucket: 'm', region: 'eu-west-2', rootPrefix: 'p' });
    const error = thrown(() => fromEnvironment({ MODEL_STORE_STORAGE: 'aws-s3' })) as StoreConfigurationError;
    expect(error).toBeInstanceOf(StoreConfigurationError);
    expect(error.message).toBe('MODEL_STORE_STORAGE=aws-s3 needs MODEL_STORE_AWS_BUCKET to be set');
    expect(error.settings).toEqual(['MODEL_STORE_AWS_BUCKET']);
    expect(fromEnvironment({ MODEL_STORE_STORAGE: 'filesystem' })).toBeUndefined();
  });

  // Variable names and defaults from Python modelstore 0.0.82: modelstore/storage/backblaze.py
  // (BackblazeStorage.BUILD_FROM_ENVIRONMENT, __init__) and modelstore/utils/cli.py (NAME "backblaze-b2").
  const b2 = { MODEL_STORE_STORAGE: 'backblaze-b2', MODEL_STORE_B2_BUCKET: 'models', B2_APPLICATION_KEY_ID: '004abc', B2_APPLICATION_KEY: 'K004secret' };

  it("MODEL_STORE_STORAGE=backblaze-b2: B2's documented endpoint for the region (default us-west-004), path-style, the application key", () => {
    expect(fromEnvironment(b2)).toEqual({
      bucket: 'models',
      region: 'us-west-004',
      endpoint: 'https://s3.us-west-004.backblazeb2.com',
      forcePathStyle: true,
      backblaze: true,
      credentials: { accessKeyId: '004abc', secretAccessKey: 'K004secret' },
    });
    expect(fromEnvironment({ ...b2, MODEL_STORE_B2_REGION: 'eu-central-003' })).toMatchObject({ region: 'eu-central-003', endpoint: 'https://s3.eu-central-003.backblazeb2.com' });
    expect(fromEnvironment({ ...b2, MODEL_STORE_B2_REGION: 'us-east-005', MODEL_STORE_B2_ENDPOINT: 'http://127.0.0.1:9000', MODEL_STORE_B2_ROOT_PREFIX: 'team/registry' })).toMatchObject({
      region: 'us-east-005',
      endpoint: 'http://127.0.0.1:9000',
      rootPrefix: 'team/registry',
    });
    expect(fromEnvironment({ ...b2, MODEL_STORE_B2_ENDPOINT: 's3.us-west-002.backblazeb2.com' })).toMatchObject({ endpoint: 'https://s3.us-west-002.backblazeb2.com' });
    expect(b2Endpoint('ca-east-006')).toBe('https://s3.ca-east-006.backblazeb2.com');
    for (const name of ['MODEL_STORE_B2_BUCKET', 'B2_APPLICATION_KEY_ID', 'B2_APPLICATION_KEY'] as const) {
      const error = thrown(() => fromEnvironment({ ...b2, [name]: undefined }));
      expect(error).toBeInstanceOf(StoreConfigurationError);
      expect(error.message).toBe(`MODEL_STORE_STORAGE=backblaze-b2 needs ${name} to be set`);
    }
    expect(thrown(() => fromEnvironment({ ...b2, MODEL_STORE_B2_REGION: 'us-west/004' })).message).toBe('"us-west/004" is not a Backblaze B2 region (like us-west-004)');
  });

  const minio = { MODEL_STORE_STORAGE: 'minio', MODEL_STORE_MINIO_BUCKET: 'models', MINIO_ACCESS_KEY: 'a', MINIO_SECRET_KEY: 's' };

  it('MODEL_STORE_STORAGE=minio: bucket and both keys required; MINIO_ENDPOINT set but empty is refused', () => {
    expect(fromEnvironment({ ...minio, MINIO_ENDPOINT: 'http://127.0.0.1:9000', MODEL_STORE_MINIO_ROOT_PREFIX: 'p' })).toEqual({
      bucket: 'models',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      minio: true,
      credentials: { accessKeyId: 'a', secretAccessKey: 's' },
      rootPrefix: 'p',
    });
    for (const name of ['MODEL_STORE_MINIO_BUCKET', 'MINIO_ACCESS_KEY', 'MINIO_SECRET_KEY'] as const) {
      expect(thrown(() => fromEnvironment({ ...minio, [name]: '' })).message).toBe(`MODEL_STORE_STORAGE=minio needs ${name} to be set`);
    }
    const empty = thrown(() => fromEnvironment({ ...minio, MINIO_ENDPOINT: '' })) as StoreConfigurationError;
    expect(empty).toBeInstanceOf(StoreConfigurationError);
    expect(empty.settings).toEqual(['MINIO_ENDPOINT']);
  });

  describe('MODEL_STORE_STORAGE=minio as Python modelstore 0.0.82 reads it (modelstore/storage/minio.py, run in the pinned venv)', () => {
    let python: string;
    beforeAll(async () => {
      ({ python } = await ensurePythonEnv());
    }, 20 * 60_000);

    /** What Python's MinIOStorage() makes of the variables: the host its client calls, over HTTPS or not, and the storage type it records. */
    function pythonMinio(env: Record<string, string>): Promise<{ host: string; https: boolean; type: string }> {
      const script = [
        'import json',
        'from modelstore.storage.minio import MinIOStorage',
        's = MinIOStorage()',
        'url = s.client._base_url',
        'print(json.dumps({"host": url.host, "https": url.is_https, "type": s._storage_location("k").type}))',
      ].join('\n');
      return new Promise((resolve, reject) => {
        execFile(python, ['-c', script], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/', ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
          if (error) reject(new Error(`${error.message}\n${stderr}`));
          else resolve(JSON.parse(stdout) as { host: string; https: boolean; type: string });
        });
      });
    }

    for (const [label, extra] of [
      ['without MINIO_ENDPOINT: s3.amazonaws.com over HTTPS', {}],
      ['with MINIO_ENDPOINT=host:port: that host over HTTPS', { MINIO_ENDPOINT: '127.0.0.1:9000' }],
    ] as const) {
      it(label, async () => {
        const env = { ...minio, ...extra };
        const fromPython = await pythonMinio(env);
        const options = fromEnvironment(env)!;
        const endpoint = new URL(options.endpoint!);
        expect({ host: endpoint.host, https: endpoint.protocol === 'https:' }).toEqual({ host: fromPython.host, https: fromPython.https });
        expect(createStorage(options).describe('k').type).toBe(fromPython.type);
      }, 120_000);
    }
  });

  it("openModelStore opens s3:// URIs through this package's exports, against a real server", async () => {
    const info = server('MODELSTORE_TEST_S3');
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = info.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = info.credentials.secretAccessKey;
    try {
      const prefix = `options-${randomBytes(5).toString('hex')}`;
      const uri = `s3://${info.bucket}/${prefix}?endpoint=${encodeURIComponent(info.endpoint)}&forcePathStyle=true&region=us-east-1`;
      const store = await openModelStore(uri, { importer: async () => backend });
      await store.createModelState('production');
      expect(await store.listModelStates()).toEqual(['production']);
      expect(store.storage.describe(layout.domain('d'))).toMatchObject({ type: 'aws:s3', bucket: info.bucket, prefix: `${prefix}/${layout.domain('d')}` });
      await expect(openModelStore(`s3://${info.bucket}/${prefix}?regoin=us-east-1`, { importer: async () => backend })).rejects.toThrow('unknown option "regoin" for s3:// URIs');
    } finally {
      for (const [name, value] of [
        ['AWS_ACCESS_KEY_ID', saved.id],
        ['AWS_SECRET_ACCESS_KEY', saved.secret],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});
