import { MemoryStorage } from '@modelstore/core';
import { describeStorageConformance } from '../src/index.js';

describeStorageConformance({
  name: 'MemoryStorage',
  createStorage: () => new MemoryStorage(),
  holdsObjectsInMemory: true,
});
