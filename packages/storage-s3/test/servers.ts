import { S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { S3Storage, type S3StorageOptions } from '../src/index.js';

export interface ServerInfo {
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  bucket: string;
}

/** The environment variable naming each server global-setup started. */
export type ServerName = 'MODELSTORE_TEST_S3' | 'MODELSTORE_TEST_S3RVER' | 'MODELSTORE_TEST_MINIO' | 'MODELSTORE_TEST_MOTO';

/** The servers with conditional writes, by display name: ours and the third-party ones. */
export const conditionalServers: Array<{ label: string; name: ServerName }> = [
  { label: 'the modelstore S3 server', name: 'MODELSTORE_TEST_S3' },
  { label: 'MinIO', name: 'MODELSTORE_TEST_MINIO' },
  { label: 'moto', name: 'MODELSTORE_TEST_MOTO' },
];

/** The servers global-setup started. */
export function server(name: ServerName): ServerInfo {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the S3 tests start their servers in jest's globalSetup`);
  return JSON.parse(value) as ServerInfo;
}

/** A fresh S3Storage on `info`, in its own random root prefix. */
export function storageOn(info: ServerInfo, options: Partial<S3StorageOptions> = {}): S3Storage {
  return new S3Storage({
    bucket: info.bucket,
    rootPrefix: `test-${randomBytes(6).toString('hex')}`,
    endpoint: info.endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: info.credentials,
    ...options,
  });
}

export function clientOn(info: ServerInfo): S3Client {
  return new S3Client({ endpoint: info.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: info.credentials });
}
