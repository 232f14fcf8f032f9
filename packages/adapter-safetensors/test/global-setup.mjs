// Builds the test models once per run with Python's safetensors package (the locked
// `models` venv), makes sure Python modelstore's venv exists (the tests ask it for the
// metadata Node wrote), and starts one MinIO. Tests read it all from
// MODELSTORE_SAFETENSORS_TEST (JSON); globalTeardown stops MinIO and removes the folder.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareAdapterTests } from '@modelstore/test-servers';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'python', 'make_models.py');

export default async function globalSetup() {
  await prepareAdapterTests({ name: 'safetensors', buckets: ['safetensors'], paths: { models: 'models' }, pythonScripts: ({ models }) => [[script, models]] });
}
