import { describeSigningConformance } from '@modelstore/storage-conformance';
import type { S3Storage } from '../src/index.js';
import { server, storageOn } from './servers.js';

// Signed models on a bucket: MinIO, started by globalSetup.
describeSigningConformance({
  name: 'S3Storage on MinIO',
  createStorage: () => storageOn(server('MODELSTORE_TEST_MINIO')),
  destroyStorage: (storage) => (storage as S3Storage).client.destroy(),
});
