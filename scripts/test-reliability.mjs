// `pnpm test:reliability`: the long versions of the reliability checks that run
// shorter inside `pnpm test`, all seeded — hostile-input fuzzing (1,000 archives, 1,000
// random model folders through packArchive and 1,000 through the RawAdapter, and
// 1,000 metadata documents); 16 writers x 20 uploads with state changes on one
// domain on every backend and every server (S3: our server, MinIO, moto; GCS: our
// server, fake-gcs-server; Azurite); 30 SIGKILLs of a process uploading, deleting and
// labelling on every backend (S3: our server and MinIO); 400 operations through a
// fault proxy breaking 10% of requests on S3 (our server and MinIO), GCS and Azurite;
// the append-only index: 30 SIGKILLs of a process uploading, deleting and compacting, and
// 16 processes x 20 uploads while another compacts (file system), pages against listings.
// Each run prints a result line (JSON) that RELIABILITY.md reports. `pnpm
// test:reliability` runs scripts/test-env.mjs first (MinIO, fake-gcs-server, the venv).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const jest = path.join(root, 'node_modules', 'jest', 'bin', 'jest.js');
const env = {
  ...process.env,
  MODELSTORE_INDEX_KILLS: '30',
  MODELSTORE_INDEX_UPLOADS: '20',
  MODELSTORE_CRASH_RUNS: '30',
  MODELSTORE_FAULT_OPERATIONS: '400',
  MODELSTORE_FUZZ_CASES: '1000',
  MODELSTORE_RACE_WRITERS: '16',
  MODELSTORE_RACE_UPLOADS: '20',
  NODE_OPTIONS: '--openssl-legacy-provider',
};
const runs = [
  ['core', ['test/fuzz']],
  ['adapter-raw', ['test/fuzz']],
  ['storage-conformance', ['test/memory-storage', 'test/interleaving', '-t', 'loses no update|first uploads']],
  ['storage-fs', ['test/registry.test.ts', '-t', 'loses no update']],
  ['storage-fs', ['test/crash']],
  ['storage-fs', ['test/index-reliability']],
  ['storage-s3', ['test/registry', '-t', 'loses no update']],
  ['storage-s3', ['test/crash', 'test/faults']],
  ['storage-gcs', ['test/registry', '-t', 'loses no update']],
  ['storage-gcs', ['test/crash', 'test/faults']],
  ['storage-azure', ['test/registry', '-t', 'loses no update']],
  ['storage-azure', ['test/crash', 'test/faults']],
];
let failed = 0;
for (const [folder, args] of runs) {
  const result = spawnSync(process.execPath, ['--expose-gc', jest, ...args], { cwd: path.join(root, 'packages', folder), env, stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
console.log(`reliability: ${runs.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
