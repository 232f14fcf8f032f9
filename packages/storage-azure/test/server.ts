import { randomBytes } from 'node:crypto';
import { AzureBlobStorage, type AzureBlobStorageOptions } from '../src/index.js';

export interface AzuriteInfo {
  connectionString: string;
  container: string;
}

/** The azurite global-setup started. */
export function azurite(): AzuriteInfo {
  const value = process.env.MODELSTORE_TEST_AZURE;
  if (!value) throw new Error('MODELSTORE_TEST_AZURE is not set: the Azure tests start azurite in jest globalSetup');
  return JSON.parse(value) as AzuriteInfo;
}

/** A fresh AzureBlobStorage in its own random root prefix. */
export function storageOn(options: Partial<AzureBlobStorageOptions> = {}): AzureBlobStorage {
  const info = azurite();
  return new AzureBlobStorage({ container: info.container, connectionString: info.connectionString, rootPrefix: `test-${randomBytes(6).toString('hex')}`, ...options });
}
