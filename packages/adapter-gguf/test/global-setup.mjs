// Builds the tiny test models once per run with the locked Python environment
// (python/requirements-models.txt: the `gguf` package writes them, numpy computes what they
// must generate), prepares Python modelstore 0.0.82 (python/requirements.txt) to read what
// the adapter stores, and starts one MinIO for the tests. The workers get everything through
// MODELSTORE_GGUF_TEST (JSON); the models' folder and the server go in globalTeardown.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareAdapterTests } from '@modelstore/test-servers';

const python = path.join(path.dirname(fileURLToPath(import.meta.url)), 'python');

export default async function globalSetup() {
  await prepareAdapterTests({
    name: 'gguf',
    buckets: ['gguf'],
    paths: { models: 'models' },
    pythonScripts: ({ models }) => [
      [path.join(python, 'make_tiny_llama.py'), models],
      [path.join(python, 'make_big_header.py'), path.join(models, 'big-header.gguf')],
    ],
  });
}
