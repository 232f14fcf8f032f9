// `//#test:env` (turbo root task that every package's `test` depends on): prepares the
// tools the tests start, once, before any test runs — MinIO and fake-gcs-server built
// with `go install` into .cache/go-bin, and the pinned Python venv (modelstore, cloud
// SDKs, moto) in .cache/python. Each ensure* is idempotent and takes a lock, so the
// launchers calling them again (or a second run of this script) cost a file check.
// Needs @modelstore/test-servers built (turbo runs its build first).
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let servers;
try {
  servers = await import(pathToFileURL(path.join(root, 'packages', 'test-servers', 'dist', 'index.js')).href);
} catch (error) {
  console.error(`test-env: @modelstore/test-servers is not built (run \`pnpm --filter @modelstore/test-servers build\`): ${error.message}`);
  process.exit(1);
}

const started = Date.now();
const timed = async (name, task) => {
  const t0 = Date.now();
  const result = await task();
  console.log(`test-env: ${name} ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${typeof result === 'string' ? result : result.python}`);
  return result;
};
const results = await Promise.allSettled([
  timed('minio', servers.ensureMinio),
  timed('fake-gcs-server', servers.ensureFakeGcsServer),
  timed('python venv', () => servers.ensurePythonEnv()),
  timed('python venv (adapter test models)', () => servers.ensurePythonEnv({ variant: 'models' })),
  timed('python venv (bench peers: MLflow)', () => servers.ensurePythonEnv({ variant: 'bench' })),
  timed('python venv (model signing)', () => servers.ensurePythonEnv({ variant: 'signing' })),
]);
const failures = results.filter((result) => result.status === 'rejected');
for (const failure of failures) console.error(`test-env: ${failure.reason?.message ?? failure.reason}`);
console.log(`test-env: ${failures.length === 0 ? 'everything ready' : `${failures.length} tool(s) missing`} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(failures.length === 0 ? 0 : 1);
