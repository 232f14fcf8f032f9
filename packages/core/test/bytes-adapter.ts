// The adapter the core tests upload with: a Buffer is the model, stored as model.bin.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ModelAdapter } from '../src/index.js';

const saveBytes = async (model: Buffer) => ({ files: [{ path: 'model.bin', source: model }] });

/** Uploads a Buffer as `model.bin`; loads it back as a Buffer. */
export const bytesAdapter: ModelAdapter<Buffer, Buffer> = {
  specificationVersion: 'v1',
  library: 'bytes',
  matches: (model) => Buffer.isBuffer(model),
  save: saveBytes,
  load: async (directory) => readFileSync(path.join(directory, 'model.bin')),
};

/** The same adapter, loading `model.bin` back as UTF-8 text. */
export const textAdapter: ModelAdapter<Buffer, string> = {
  ...(bytesAdapter as unknown as ModelAdapter<Buffer, string>),
  load: async (directory) => readFileSync(path.join(directory, 'model.bin'), 'utf8'),
};
