import { describeSigningConformance } from '@modelstore/storage-conformance';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileSystemStorage } from '../src/index.js';

// Signed models on a folder store.
describeSigningConformance({
  name: 'FileSystemStorage',
  createStorage: () => new FileSystemStorage({ root: mkdtempSync(path.join(tmpdir(), 'modelstore-fs-signing-')) }),
  destroyStorage: (storage) => rmSync((storage as FileSystemStorage).root, { recursive: true, force: true }),
});
