import { describeStorageConformance } from '@modelstore/storage-conformance';
import { storageOn } from './server.js';

describeStorageConformance({
  name: 'GcsStorage on the modelstore GCS server',
  createStorage: () => storageOn(undefined, { chunkSize: 4 * 1024 * 1024 }),
});
