import { describeRegistryConformance } from '@modelstore/storage-conformance';
import path from 'node:path';
import { server, storageOn } from './servers.js';

describeRegistryConformance({
  name: 'S3Storage on the modelstore S3 server',
  createStorage: () => storageOn(server('MODELSTORE_TEST_S3')),
  destroyStorage: (storage) => storage.client.destroy(),
  pythonFixture: path.resolve(__dirname, '../../../python/fixtures/python-modelstore'),
});
