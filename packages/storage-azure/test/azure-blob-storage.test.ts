import { describeStorageConformance } from '@modelstore/storage-conformance';
import { storageOn } from './server.js';

describeStorageConformance({
  name: 'AzureBlobStorage on azurite',
  // Four 4 MiB blocks in flight and one being filled; holding the whole object would be 64 MiB or more.
  streamingBudget: 56 * 1024 * 1024,
  createStorage: () => storageOn({ blockSize: 4 * 1024 * 1024, concurrency: 4 }),
});
