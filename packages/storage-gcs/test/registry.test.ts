import { describeRegistryConformance } from '@modelstore/storage-conformance';
import path from 'node:path';
import { gcsServers, server, storageOn } from './server.js';

// The whole registry suite (races included) on our GCS server and on fake-gcs-server.
for (const { label, name } of gcsServers) {
  describeRegistryConformance({
    name: `GcsStorage on ${label}`,
    createStorage: () => storageOn(server(name)),
    pythonFixture: path.resolve(__dirname, '../../../python/fixtures/python-modelstore'),
  });
}
