// Builds the test models once per run with Python's safetensors package (the locked
// `models` venv), makes sure Python modelstore's venv exists (the tests ask it for the
// metadata Node wrote), and starts one MinIO. Tests read it all from
// MODELSTORE_SAFETENSORS_TEST (JSON); globalTeardown stops MinIO and removes the folder.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ensurePythonEnv, startMinio } from '@modelstore/test-servers';

export const bucket = 'safetensors';

export default async function globalSetup() {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const work = mkdtempSync(path.join(tmpdir(), 'modelstore-safetensors-'));
  globalThis.__safetensorsWork = work;
  globalThis.__safetensorsServers = [];
  const [models, python, minio] = await Promise.all([ensurePythonEnv({ variant: 'models' }), ensurePythonEnv(), startMinio({ buckets: [bucket] }).then((server) => (globalThis.__safetensorsServers.push(server), server))]);
  const out = path.join(work, 'models');
  await promisify(execFile)(models.python, [path.join(here, 'python', 'make_models.py'), out], { timeout: 120_000 });
  process.env.MODELSTORE_SAFETENSORS_TEST = JSON.stringify({
    work,
    models: out,
    python: python.python,
    minio: { endpoint: minio.endpoint, ...minio.credentials, bucket },
  });
}
