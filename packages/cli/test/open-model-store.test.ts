import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { RawAdapter } from '@modelstore/adapter-raw';
import { InvalidArgumentError, MissingDependencyError, StoreConfigurationError, openModelStore, parseStoreUri, storeTargetFromEnv, type ModelStore } from '@modelstore/core';
import { layout } from '@modelstore/core/internal';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { servers } from './helpers.js';

/** Sets process variables for one test (the SDKs read them from the process). */
function withEnv(values: Record<string, string>): () => void {
  const saved = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
  Object.assign(process.env, values);
  return () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

describe('openModelStore', () => {
  let work: string;
  let restore: () => void = () => undefined;
  beforeEach(() => {
    work = mkdtempSync(path.join(tmpdir(), 'modelstore-open-'));
    writeFileSync(path.join(work, 'model.bin'), 'weights');
  });
  afterEach(() => {
    restore();
    rmSync(work, { recursive: true, force: true });
  });

  /** Uploads through one store and checks the other sees the same registry. */
  async function expectSameRegistry(viaUri: ModelStore, viaEnv: ModelStore, sameLocation = true): Promise<void> {
    const { model } = await viaUri.upload('shared', { model: path.join(work, 'model.bin') });
    expect(await viaEnv.listModels('shared')).toEqual([model.model_id]);
    expect((await viaEnv.getDomain('shared')).model.model_id).toBe(model.model_id);
    const again = await viaEnv.upload('shared', { model: path.join(work, 'model.bin') });
    expect((await viaUri.listModels('shared')).sort()).toEqual([model.model_id, again.model.model_id].sort());
    if (sameLocation) expect(viaEnv.storage.describe(layout.domain('shared'))).toEqual(viaUri.storage.describe(layout.domain('shared')));
  }
  const adapters = [new RawAdapter()];
  const prefix = () => `open-${randomBytes(5).toString('hex')}`;

  it('opens the same file system registry from MODEL_STORE_* as from file:// and a plain path', async () => {
    const root = path.join(work, 'registry');
    const env = { MODEL_STORE_STORAGE: 'filesystem', MODEL_STORE_ROOT_PREFIX: root };
    await expectSameRegistry(await openModelStore(`file://${root}`, { adapters }), await openModelStore(undefined, { adapters, env }));
    expect((await openModelStore(root, { adapters })).storage.describe('k')).toEqual((await openModelStore(undefined, { adapters, env })).storage.describe('k'));
  });

  it('opens the same S3 registry from MODEL_STORE_STORAGE=aws-s3 (endpoint from AWS_ENDPOINT_URL_S3) as from s3://', async () => {
    const { s3 } = servers();
    const root = prefix();
    restore = withEnv({ AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey, AWS_ENDPOINT_URL_S3: s3.endpoint });
    const viaUri = await openModelStore(`s3://${s3.bucket}/${root}?endpoint=${encodeURIComponent(s3.endpoint)}&forcePathStyle=true&region=us-east-1`, { adapters });
    const viaEnv = await openModelStore(undefined, { adapters, env: { MODEL_STORE_STORAGE: 'aws-s3', MODEL_STORE_AWS_BUCKET: s3.bucket, MODEL_STORE_REGION: 'us-east-1', MODEL_STORE_AWS_ROOT_PREFIX: root } });
    await expectSameRegistry(viaUri, viaEnv);
  });

  it('opens the same S3 registry from MODEL_STORE_STORAGE=minio as from s3://...&minio=true', async () => {
    const { s3 } = servers();
    const root = prefix();
    restore = withEnv({ AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey });
    const viaUri = await openModelStore(`s3://${s3.bucket}/${root}?endpoint=${encodeURIComponent(s3.endpoint)}&forcePathStyle=true&minio=true&region=us-east-1`, { adapters });
    const viaEnv = await openModelStore(undefined, {
      adapters,
      env: {
        MODEL_STORE_STORAGE: 'minio',
        MINIO_ENDPOINT: s3.endpoint,
        MINIO_ACCESS_KEY: s3.credentials.accessKeyId,
        MINIO_SECRET_KEY: s3.credentials.secretAccessKey,
        MODEL_STORE_MINIO_BUCKET: s3.bucket,
        MODEL_STORE_MINIO_ROOT_PREFIX: root,
      },
    });
    await expectSameRegistry(viaUri, viaEnv);
    expect(viaEnv.storage.describe('k').type).toBe(`minio:${s3.endpoint.replace('http://', '')}`);
  });

  it('opens the same GCS registry from MODEL_STORE_STORAGE=google-cloud-storage as from gs://', async () => {
    const { gcs } = servers();
    const root = prefix();
    restore = withEnv({ STORAGE_EMULATOR_HOST: gcs.endpoint });
    const viaUri = await openModelStore(`gs://${gcs.bucket}/${root}?apiEndpoint=${encodeURIComponent(gcs.endpoint)}&projectId=p`, { adapters });
    const viaEnv = await openModelStore(undefined, { adapters, env: { MODEL_STORE_STORAGE: 'google-cloud-storage', MODEL_STORE_GCP_BUCKET: gcs.bucket, MODEL_STORE_GCP_PROJECT: 'p', MODEL_STORE_GCP_ROOT_PREFIX: root } });
    await expectSameRegistry(viaUri, viaEnv);
  });

  it('opens the same Azure registry from MODEL_STORE_STORAGE=azure-container as from azure://', async () => {
    const { azure } = servers();
    const root = prefix();
    restore = withEnv({ AZURE_STORAGE_CONNECTION_STRING: azure.connectionString });
    const viaUri = await openModelStore(`azure://${azure.container}/${root}`, { adapters });
    const viaEnv = await openModelStore(undefined, { adapters, env: { MODEL_STORE_STORAGE: 'azure-container', MODEL_STORE_AZURE_CONTAINER: azure.container, MODEL_STORE_AZURE_ROOT_PREFIX: root } });
    await expectSameRegistry(viaUri, viaEnv);
  });

  it('reads URIs and says what is wrong with bad ones, with typed errors', async () => {
    expect(parseStoreUri('s3://bucket/a/b?region=eu-west-1').package).toBe('@modelstore/storage-s3');
    expect(parseStoreUri('./relative').uri.href).toBe(pathToFileURL(path.resolve('./relative')).href);
    const importer = (name: string) => import(name);
    const rejection = async (uri: string, env: Record<string, string> = {}) =>
      openModelStore(uri, { importer, env }).then(
        () => undefined,
        (error: unknown) => error as Error,
      );
    expect(await rejection('s3://bucket?secretAccessKey=x')).toBeInstanceOf(InvalidArgumentError);
    expect((await rejection('file://host/path'))?.message).toMatch(/file:\/\/\/absolute\/path/);
    expect((await rejection('s3://models/registry?regoin=eu-west-1'))?.message).toMatch(/^unknown option "regoin" for s3:\/\/ URIs \(known: region, endpoint, /);
    expect(await rejection('', { MODEL_STORE_STORAGE: 'aws-s3' })).toBeInstanceOf(StoreConfigurationError);
    expect((await rejection('', { MODEL_STORE_STORAGE: 'aws-s3' }))?.message).toBe('MODEL_STORE_STORAGE=aws-s3 needs MODEL_STORE_AWS_BUCKET to be set');
    expect(() => storeTargetFromEnv({ MODEL_STORE_STORAGE: 'ftp' })).toThrow(/is not one of/);
    const missing = await openModelStore('s3://b', {
      importer: async (name) => {
        throw Object.assign(new Error(`Cannot find package '${name}'`), { code: 'ERR_MODULE_NOT_FOUND' });
      },
    }).then(
      () => undefined,
      (error: unknown) => error as MissingDependencyError,
    );
    expect(missing).toBeInstanceOf(MissingDependencyError);
    expect(missing?.packageName).toBe('@modelstore/storage-s3');
    expect(missing?.message).toBe('This store needs @modelstore/storage-s3: npm install @modelstore/storage-s3');
  });
});
