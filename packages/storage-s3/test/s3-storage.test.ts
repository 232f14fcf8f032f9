import { describeStorageConformance } from '@modelstore/storage-conformance';
import { conditionalServers, server, storageOn } from './servers.js';

// The whole suite on our S3 server and on the real third-party ones (MinIO, moto).
for (const { label, name } of conditionalServers) {
  describeStorageConformance({
    name: `S3Storage on ${label}`,
    createStorage: () => storageOn(server(name), { partSize: 5 * 1024 * 1024, queueSize: 2 }),
    destroyStorage: (storage) => storage.client.destroy(),
    // Two 5 MiB parts in flight, one being filled, and the SDK's copies of them: about
    // 24 MiB on an idle machine, up to 44 MiB measured on a loaded one. Holding the
    // whole object would be 64 MiB or more.
    streamingBudget: 56 * 1024 * 1024,
  });
}

describeStorageConformance({
  name: 'S3Storage on s3rver (no conditional writes)',
  createStorage: () => storageOn(server('MODELSTORE_TEST_S3RVER'), { conditionalWrites: false, partSize: 5 * 1024 * 1024, queueSize: 2 }),
  destroyStorage: (storage) => storage.client.destroy(),
  // s3rver 3.7.1 lists "a/1" before "a-c" (file system order, not S3's byte order),
  // answers "Range: bytes=0-0" with the whole object, and writes an object in place
  // (fs.createWriteStream on the object's own path), so concurrent writers of one key
  // can interleave. All three are checked against our server.
  skip: ['list', 'range reads', 'concurrency'],
  // The same parts in flight as above (up to 44 MiB measured on a loaded machine: 42 MiB
  // failed the default 40 MiB once); holding the whole object would be 64 MiB or more.
  streamingBudget: 56 * 1024 * 1024,
});
