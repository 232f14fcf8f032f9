import { describeRegistryConformance } from '@modelstore/storage-conformance';
import path from 'node:path';
import { storageOn } from './server.js';

describeRegistryConformance({
  name: 'GcsStorage on the modelstore GCS server',
  createStorage: () => storageOn(),
  pythonFixture: path.resolve(__dirname, '../../../python/fixtures/python-modelstore'),
});
