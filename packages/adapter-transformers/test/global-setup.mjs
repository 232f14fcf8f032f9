// Builds the test models once per run and starts MinIO. The tiny "bert" folders are written
// by test/python/make_tiny_bert.py with the locked models venv (onnx, tokenizers, numpy),
// together with the embeddings numpy computes for them; nothing is downloaded from any hub.
// The test workers get the paths and the server through MODELSTORE_TRANSFORMERS_TEST (JSON).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareAdapterTests } from '@modelstore/test-servers';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'python', 'make_tiny_bert.py');

export default async function globalSetup() {
  await prepareAdapterTests({
    name: 'transformers',
    buckets: ['transformers'],
    paths: { model: 'tiny-bert', expected: 'expected.json', parentRelative: 'hostile-parent', absolute: 'hostile-absolute' },
    pythonScripts: (fixtures) => [
      [script, fixtures.model, '--expected', fixtures.expected],
      [script, fixtures.parentRelative, '--hostile-location', '../../etc/passwd'],
      [script, fixtures.absolute, '--hostile-location', '/etc/passwd'],
    ],
  });
}
