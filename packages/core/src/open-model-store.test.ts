import { describe, expect, it } from '@jest/globals';
import { ModelStoreError } from './errors.js';
import { b2Endpoint, parseStoreUri, storeTargetFromEnv } from './open-model-store.js';

// Variable names and defaults from Python modelstore 0.0.82: modelstore/storage/backblaze.py
// (BackblazeStorage.BUILD_FROM_ENVIRONMENT, __init__) and modelstore/utils/cli.py (NAME "backblaze-b2").
const b2 = { MODEL_STORE_STORAGE: 'backblaze-b2', MODEL_STORE_B2_BUCKET: 'models', B2_APPLICATION_KEY_ID: '004abc', B2_APPLICATION_KEY: 'K004secret' };

describe('storeTargetFromEnv: MODEL_STORE_STORAGE=backblaze-b2', () => {
  it('opens the bucket through S3Storage on B2\'s documented endpoint for the default region, us-west-004', () => {
    expect(storeTargetFromEnv(b2)).toEqual({
      package: '@modelstore/storage-s3',
      className: 'S3Storage',
      options: {
        bucket: 'models',
        region: 'us-west-004',
        endpoint: 'https://s3.us-west-004.backblazeb2.com',
        forcePathStyle: true,
        backblaze: true,
        credentials: { accessKeyId: '004abc', secretAccessKey: 'K004secret' },
      },
    });
  });

  it('derives the endpoint from MODEL_STORE_B2_REGION, and takes MODEL_STORE_B2_ENDPOINT and MODEL_STORE_B2_ROOT_PREFIX as given', () => {
    expect(storeTargetFromEnv({ ...b2, MODEL_STORE_B2_REGION: 'eu-central-003' }).options).toMatchObject({ region: 'eu-central-003', endpoint: 'https://s3.eu-central-003.backblazeb2.com' });
    expect(storeTargetFromEnv({ ...b2, MODEL_STORE_B2_REGION: 'us-east-005', MODEL_STORE_B2_ENDPOINT: 'http://127.0.0.1:9000', MODEL_STORE_B2_ROOT_PREFIX: 'team/registry' }).options).toMatchObject({
      region: 'us-east-005',
      endpoint: 'http://127.0.0.1:9000',
      rootPrefix: 'team/registry',
    });
    expect(storeTargetFromEnv({ ...b2, MODEL_STORE_B2_ENDPOINT: 's3.us-west-002.backblazeb2.com' }).options).toMatchObject({ endpoint: 'https://s3.us-west-002.backblazeb2.com' });
    expect(b2Endpoint('ca-east-006')).toBe('https://s3.ca-east-006.backblazeb2.com');
  });

  it('names the missing variable: the bucket and both halves of the application key are required', () => {
    for (const name of ['MODEL_STORE_B2_BUCKET', 'B2_APPLICATION_KEY_ID', 'B2_APPLICATION_KEY'] as const) {
      const env: Record<string, string | undefined> = { ...b2, [name]: undefined };
      expect(() => storeTargetFromEnv(env)).toThrow(ModelStoreError);
      expect(() => storeTargetFromEnv(env)).toThrow(`MODEL_STORE_STORAGE=backblaze-b2 needs ${name} to be set`);
    }
    expect(() => storeTargetFromEnv({ ...b2, MODEL_STORE_B2_REGION: 'us-west/004' })).toThrow(/is not a Backblaze B2 region/);
    expect(() => storeTargetFromEnv({ MODEL_STORE_STORAGE: 'backblaze' })).toThrow(/minio, backblaze-b2/);
  });

  it('s3:// URIs take backblaze=true as a boolean, for a B2 bucket opened by URI', () => {
    expect(parseStoreUri('s3://models/team?endpoint=https://s3.us-west-004.backblazeb2.com&region=us-west-004&forcePathStyle=true&backblaze=true').options).toEqual({
      bucket: 'models',
      rootPrefix: 'team',
      endpoint: 'https://s3.us-west-004.backblazeb2.com',
      region: 'us-west-004',
      forcePathStyle: true,
      backblaze: true,
    });
  });
});

describe('storeTargetFromEnv: MODEL_STORE_STORAGE=minio', () => {
  it('defaults MINIO_ENDPOINT to s3.amazonaws.com over HTTPS, as Python\'s MinIOStorage does', () => {
    const env = { MODEL_STORE_STORAGE: 'minio', MODEL_STORE_MINIO_BUCKET: 'models', MINIO_ACCESS_KEY: 'a', MINIO_SECRET_KEY: 's' };
    expect(storeTargetFromEnv(env).options).toMatchObject({ endpoint: 'https://s3.amazonaws.com', minio: true, forcePathStyle: true });
    expect(() => storeTargetFromEnv({ ...env, MINIO_SECRET_KEY: undefined } as Record<string, string | undefined>)).toThrow(/needs MINIO_SECRET_KEY/);
  });
});
