// Builds the tiny test models once per run with the locked Python environment
// (python/requirements-models.txt: the `gguf` package writes them, numpy computes what they
// must generate), prepares Python modelstore 0.0.82 (python/requirements.txt) to read what
// the adapter stores, and starts one MinIO for the tests. The workers get everything through
// MODELSTORE_GGUF_TEST (JSON); the models' folder and the server go in globalTeardown.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ensurePythonEnv, startMinio } from '@modelstore/test-servers';

export const bucket = 'gguf';

export default async function globalSetup() {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const work = mkdtempSync(path.join(tmpdir(), 'modelstore-gguf-'));
  globalThis.__modelstoreGgufWork = work;
  globalThis.__modelstoreServers = [];
  const [python, modelstore, minio] = await Promise.all([ensurePythonEnv({ variant: 'models' }), ensurePythonEnv(), startMinio({ buckets: [bucket] }).then((server) => (globalThis.__modelstoreServers.push(server), server))]);
  const models = path.join(work, 'models');
  await promisify(execFile)(python.python, [path.join(here, 'python', 'make_tiny_llama.py'), models], { timeout: 120_000 });
  await promisify(execFile)(python.python, [path.join(here, 'python', 'make_big_header.py'), path.join(models, 'big-header.gguf')], { timeout: 120_000 });
  process.env.MODELSTORE_GGUF_TEST = JSON.stringify({ models, work, python: python.python, modelstorePython: modelstore.python, minio: { endpoint: minio.endpoint, ...minio.credentials, bucket } });
}
