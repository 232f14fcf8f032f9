import { MemoryStorage } from '@modelstore/core';
import path from 'node:path';
import { describeRegistryConformance, describeStorageConformance } from '../src/index.js';

describeStorageConformance({
  name: 'MemoryStorage',
  createStorage: () => new MemoryStorage(),
  holdsObjectsInMemory: true,
});

describeRegistryConformance({
  name: 'MemoryStorage',
  createStorage: () => new MemoryStorage(),
  pythonFixture: path.resolve(__dirname, '../../../python/fixtures/python-modelstore'),
});
