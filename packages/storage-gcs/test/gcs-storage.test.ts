import { describeStorageConformance } from '@modelstore/storage-conformance';
import { storageOn } from './server.js';

describeStorageConformance({
  name: 'GcsStorage on the modelstore GCS server',
  // One 4 MiB resumable chunk buffered for retries, and the copies made sending it; holding the whole object would be 64 MiB or more.
  streamingBudget: 56 * 1024 * 1024,
  createStorage: () => storageOn(undefined, { chunkSize: 4 * 1024 * 1024 }),
});
