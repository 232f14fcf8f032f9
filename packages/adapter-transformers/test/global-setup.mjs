// Builds the test models once per run and starts MinIO. The tiny "bert" folders are written
// by test/python/make_tiny_bert.py with the locked models venv (onnx, tokenizers, numpy),
// together with the embeddings numpy computes for them; nothing is downloaded from any hub.
// The test workers get the paths and the server through MODELSTORE_TRANSFORMERS_TEST (JSON).
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePythonEnv, startMinio } from '@modelstore/test-servers';

const here = path.dirname(fileURLToPath(import.meta.url));
export const bucket = 'transformers';

function python(interpreter, args) {
  const result = spawnSync(interpreter, [path.join(here, 'python', 'make_tiny_bert.py'), ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`make_tiny_bert.py ${args.join(' ')} failed (${result.status ?? result.error}):\n${result.stdout}\n${result.stderr}`);
}

export default async function globalSetup() {
  const started = [];
  globalThis.__modelstoreServers = started;
  const work = mkdtempSync(path.join(tmpdir(), 'modelstore-transformers-'));
  globalThis.__modelstoreTransformersWork = work;
  const [models, modelstore, minio] = await Promise.all([ensurePythonEnv({ variant: 'models' }), ensurePythonEnv(), startMinio({ buckets: [bucket] }).then((server) => (started.push(server), server))]);
  const fixtures = {
    model: path.join(work, 'tiny-bert'),
    expected: path.join(work, 'expected.json'),
    parentRelative: path.join(work, 'hostile-parent'),
    absolute: path.join(work, 'hostile-absolute'),
  };
  python(models.python, [fixtures.model, '--expected', fixtures.expected]);
  python(models.python, [fixtures.parentRelative, '--hostile-location', '../../etc/passwd']);
  python(models.python, [fixtures.absolute, '--hostile-location', '/etc/passwd']);
  process.env.MODELSTORE_TRANSFORMERS_TEST = JSON.stringify({
    work,
    fixtures,
    python: modelstore.python,
    minio: { endpoint: minio.endpoint, ...minio.credentials, bucket },
  });
}
