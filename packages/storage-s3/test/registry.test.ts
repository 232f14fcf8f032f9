import { describeRegistryConformance } from '@modelstore/storage-conformance';
import path from 'node:path';
import { conditionalServers, server, storageOn } from './servers.js';

// The whole registry suite (races included) on our S3 server and on MinIO and moto.
for (const { label, name } of conditionalServers) {
  describeRegistryConformance({
    name: `S3Storage on ${label}`,
    createStorage: () => storageOn(server(name)),
    destroyStorage: (storage) => storage.client.destroy(),
    pythonFixture: path.resolve(__dirname, '../../../python/fixtures/python-modelstore'),
  });
}
