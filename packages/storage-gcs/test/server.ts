import { randomBytes } from 'node:crypto';
import { GcsStorage, type GcsStorageOptions } from '../src/index.js';

export interface GcsServerInfo {
  endpoint: string;
  bucket: string;
}

/** The server global-setup started. */
export function server(): GcsServerInfo {
  const value = process.env.MODELSTORE_TEST_GCS;
  if (!value) throw new Error('MODELSTORE_TEST_GCS is not set: the GCS tests start their server in jest globalSetup');
  return JSON.parse(value) as GcsServerInfo;
}

/** A fresh GcsStorage in its own random root prefix. */
export function storageOn(info: GcsServerInfo = server(), options: Partial<GcsStorageOptions> = {}): GcsStorage {
  return new GcsStorage({ bucket: info.bucket, rootPrefix: `test-${randomBytes(6).toString('hex')}`, apiEndpoint: info.endpoint, projectId: 'modelstore-test', ...options });
}
