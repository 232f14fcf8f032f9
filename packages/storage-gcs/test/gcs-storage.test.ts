import { describeStorageConformance } from '@modelstore/storage-conformance';
import { gcsServers, server, storageOn } from './server.js';

// The whole suite on our GCS server and on fake-gcs-server.
for (const { label, name } of gcsServers) {
  describeStorageConformance({
    name: `GcsStorage on ${label}`,
    // One 4 MiB resumable chunk buffered for retries, and the copies made sending it; holding the whole object would be 64 MiB or more.
    streamingBudget: 56 * 1024 * 1024,
    createStorage: () => storageOn(server(name), { chunkSize: 4 * 1024 * 1024 }),
  });
}
