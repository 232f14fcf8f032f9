import { describeRegistryConformance } from '@modelstore/storage-conformance';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileSystemStorage } from '../src/index.js';

describeRegistryConformance({
  name: 'FileSystemStorage',
  createStorage: () => new FileSystemStorage({ root: mkdtempSync(path.join(tmpdir(), 'modelstore-fs-registry-')) }),
  destroyStorage: (storage) => rmSync(storage.root, { recursive: true, force: true }),
  pythonFixture: path.resolve(__dirname, '../../../python/fixtures/python-modelstore'),
});
