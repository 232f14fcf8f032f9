// `//#test:env` (turbo root task that every package's `test` depends on): prepares the
// tools the tests start, once, before any test runs — MinIO and fake-gcs-server built
// with `go install` into .cache/go-bin, and the pinned Python venv (modelstore, cloud
// SDKs, moto) in .cache/python, and Debian's Chromium for the ui browser tests (apt-get,
// when /usr/bin/chromium is missing). Each ensure* is idempotent and takes a lock, so the
// launchers calling them again (or a second run of this script) cost a file check.
// Needs @modelstore/test-servers built (turbo runs its build first).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
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
/** Debian's Chromium for the `modelstore ui` browser tests (playwright-core drives /usr/bin/chromium; no browser download). */
const chromium = '/usr/bin/chromium';
const ensureChromium = async () => {
  if (existsSync(chromium)) return `${chromium} (already installed)`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error(`${chromium} is missing: install it as root with \`apt-get update && apt-get install -y chromium\` (the ui browser tests drive it)`);
  }
  const apt = (args) =>
    new Promise((resolve, reject) => {
      const child = spawn('apt-get', args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
      let stderr = '';
      child.stderr.on('data', (data) => (stderr += data.toString()));
      child.on('error', (error) => reject(new Error(`apt-get ${args.join(' ')}: ${error.message}`)));
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`apt-get ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`))));
    });
  await apt(['update']);
  await apt(['install', '-y', 'chromium']);
  if (!existsSync(chromium)) throw new Error(`apt-get installed chromium but ${chromium} is not there`);
  return `${chromium} (installed with apt-get)`;
};
const results = await Promise.allSettled([
  timed('minio', servers.ensureMinio),
  timed('fake-gcs-server', servers.ensureFakeGcsServer),
  timed('python venv', () => servers.ensurePythonEnv()),
  timed('python venv (adapter test models)', () => servers.ensurePythonEnv({ variant: 'models' })),
  timed('python venv (bench peers: MLflow)', () => servers.ensurePythonEnv({ variant: 'bench' })),
  timed('python venv (model signing)', () => servers.ensurePythonEnv({ variant: 'signing' })),
  timed('chromium (ui browser tests)', ensureChromium),
]);
const failures = results.filter((result) => result.status === 'rejected');
for (const failure of failures) console.error(`test-env: ${failure.reason?.message ?? failure.reason}`);
console.log(`test-env: ${failures.length === 0 ? 'everything ready' : `${failures.length} tool(s) missing`} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(failures.length === 0 ? 0 : 1);
