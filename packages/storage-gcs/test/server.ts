import { randomBytes } from 'node:crypto';
import { GcsStorage, type GcsStorageOptions } from '../src/index.js';

export interface GcsServerInfo {
  endpoint: string;
  bucket: string;
}

/** The environment variable naming each server global-setup started. */
export type GcsServerName = 'MODELSTORE_TEST_GCS' | 'MODELSTORE_TEST_FAKE_GCS';

/** Our GCS server and fake-gcs-server, by display name. */
export const gcsServers: Array<{ label: string; name: GcsServerName }> = [
  { label: 'the modelstore GCS server', name: 'MODELSTORE_TEST_GCS' },
  { label: 'fake-gcs-server', name: 'MODELSTORE_TEST_FAKE_GCS' },
];

/** A server global-setup started (our own by default). */
export function server(name: GcsServerName = 'MODELSTORE_TEST_GCS'): GcsServerInfo {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the GCS tests start their servers in jest globalSetup`);
  return JSON.parse(value) as GcsServerInfo;
}

/** A fresh GcsStorage in its own random root prefix. */
export function storageOn(info: GcsServerInfo = server(), options: Partial<GcsStorageOptions> = {}): GcsStorage {
  return new GcsStorage({ bucket: info.bucket, rootPrefix: `test-${randomBytes(6).toString('hex')}`, apiEndpoint: info.endpoint, projectId: 'modelstore-test', ...options });
}
