import { describeStorageConformance } from '@modelstore/storage-conformance';
import { storageOn } from './server.js';

describeStorageConformance({
  name: 'AzureBlobStorage on azurite',
  createStorage: () => storageOn({ blockSize: 4 * 1024 * 1024, concurrency: 4 }),
});
