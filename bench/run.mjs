// `pnpm bench`: every scenario beside its baseline and its peers, in one run, as a markdown
// table and bench/results.json. Each measured operation runs in a child process of its own:
// ours through bench/scenario.mjs, the Python peers (modelstore 0.0.82, MLflow) through
// bench/peers.py with their venv's python. Every download is checked (size and sha256)
// against the source file; a difference, a failed peer or a missing row fails the run.
// Usage: node bench/run.mjs [--quick]   (--quick: smaller files, one repetition, and
// bench/results-quick.json instead of results.json; `pnpm test` runs it as //#test:bench)
import { layout } from '@modelstore/core/internal';
import { FileSystemStorage } from '@modelstore/storage-fs';
import { S3Storage } from '@modelstore/storage-s3';
import { ensurePythonEnv, startMinio, startS3Server } from '@modelstore/test-servers';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { budgetTable as scaleBudgetTable, scaleSection } from './scale.mjs';

const quick = process.argv.includes('--quick');
const runStarted = performance.now();
const here = path.dirname(fileURLToPath(import.meta.url));
const work = mkdtempSync(path.join(os.tmpdir(), 'modelstore-bench-'));
const MiB = 1024 * 1024;
const sizes = quick ? { large: 16, huge: 32, s3: 16, models: 500 } : { large: 1024, huge: 2048, s3: 256, models: 10_000 };
const repetitions = quick ? 1 : 3;
const rows = [];
const results = { machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version }, quick, scenarios: {} };

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const spread = (values) => (values.length > 1 ? `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}` : '-');
const mibps = (bytes, seconds) => bytes / MiB / seconds;

/** A file of float32 weights with realistic values (normal, small), not zeros. */
async function weightsFile(name, mebibytes) {
  const file = path.join(work, name);
  const out = createWriteStream(file);
  const chunk = new Float32Array(MiB / 4);
  let seed = 12345;
  // biome-ignore lint/suspicious/noAssignInExpressions: a one-line seeded generator
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) + 1) / 4294967297;
  for (let i = 0; i < mebibytes; i++) {
    for (let j = 0; j < chunk.length; j += 2) {
      const radius = Math.sqrt(-2 * Math.log(random())) * 0.02;
      const angle = 2 * Math.PI * random();
      chunk[j] = radius * Math.cos(angle);
      chunk[j + 1] = radius * Math.sin(angle);
    }
    if (!out.write(Buffer.from(chunk.buffer.slice(0)))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return file;
}

async function sha256Of(file) {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

const sourceDigests = new Map();
/** Checks that `downloaded` holds the bytes of `source` (size, then sha256), then removes it. */
async function verifyDownload(label, source, downloaded) {
  if (!sourceDigests.has(source)) sourceDigests.set(source, { size: statSync(source).size, sha256: await sha256Of(source) });
  const expected = sourceDigests.get(source);
  let size;
  try {
    size = statSync(downloaded).size;
  } catch (error) {
    throw new Error(`${label}: the download did not write ${downloaded} (${error.code ?? error.message})`);
  }
  if (size !== expected.size) throw new Error(`${label}: downloaded ${size} bytes, the source has ${expected.size}`);
  const sha256 = await sha256Of(downloaded);
  if (sha256 !== expected.sha256) throw new Error(`${label}: downloaded bytes differ from the source (sha256 ${sha256}, expected ${expected.sha256})`);
  rmSync(downloaded, { force: true });
  return true;
}

/** Runs a child process that prints one JSON line last; asynchronously, since the S3 server runs in this one. */
async function child(label, command, args, options = {}) {
  const started = performance.now();
  const process_ = spawn(command, args, { ...options, env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
  let stdout = '';
  let stderr = '';
  process_.stdout.on('data', (data) => (stdout += data));
  process_.stderr.on('data', (data) => (stderr += data));
  const [code] = await once(process_, 'close');
  if (code !== 0) throw new Error(`${label} failed (exit ${code}):\n${stderr.slice(-4000)}`);
  try {
    return { ...JSON.parse(stdout.trim().split('\n').pop()), processSeconds: (performance.now() - started) / 1000 };
  } catch {
    throw new Error(`${label} printed no JSON result:\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`);
  }
}

/** One of our scenarios (bench/scenario.mjs) in a child process; its download verified against `args.file`. */
async function scenario(name, args) {
  const result = await child(`scenario ${name}`, process.execPath, [path.join(here, 'scenario.mjs'), name, JSON.stringify(args)]);
  if (result.downloaded) result.verified = await verifyDownload(`scenario ${name}`, args.file, result.downloaded);
  return result;
}

/** One Python peer (bench/peers.py) with `python`, in a fresh folder of its own; its download verified. */
async function peer(name, python, args) {
  const runDir = mkdtempSync(path.join(work, `${name}-`));
  try {
    const result = await child(`peer ${name}`, python, [path.join(here, 'peers.py'), name, JSON.stringify({ ...args, work: runDir })], { cwd: runDir });
    result.verified = await verifyDownload(`peer ${name}`, args.file, result.downloaded);
    return result;
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
}

/** Runs `modelstore` with `args`; checks it printed a header and `rows` rows; returns the seconds. */
function timedLs(cli, args, env, rows) {
  const started = performance.now();
  const output = execFileSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 * MiB });
  const seconds = (performance.now() - started) / 1000;
  const lines = output.trim().split('\n');
  if (lines.length !== rows + 1 || !lines[0].startsWith('MODEL ID')) throw new Error(`modelstore ls printed ${lines.length - 1} rows, expected ${rows}:\n${output.slice(0, 2000)}`);
  return seconds;
}

function timed(command, args) {
  const started = performance.now();
  execFileSync(command, args, { stdio: 'ignore' });
  return (performance.now() - started) / 1000;
}

function row(group, operation, seconds, bytes, baselineSeconds, peakRssBytes, note = '') {
  const secondsMedian = median(seconds);
  rows.push([
    group,
    operation,
    secondsMedian.toFixed(2),
    spread(seconds),
    bytes ? mibps(bytes, secondsMedian).toFixed(0) : '-',
    baselineSeconds ? (baselineSeconds / secondsMedian).toFixed(2) : '-',
    peakRssBytes ? (peakRssBytes / MiB).toFixed(0) : '-',
    note,
  ]);
}

const peakOf = (runs) => Math.max(...runs.map((run) => run.peakRssBytes));
const uploads = (runs) => runs.map((run) => run.uploadSeconds);
const downloads = (runs) => runs.map((run) => run.downloadSeconds);
const importNote = (runs) => `import ${median(runs.map((run) => run.importSeconds)).toFixed(2)} s not counted`;

// The Python environments and MinIO, prepared at once (each is a file check once built).
const prepared = performance.now();
const preparing = await Promise.allSettled([ensurePythonEnv(), ensurePythonEnv({ variant: 'bench' }), startMinio({ buckets: ['bench'] }), startS3Server({ buckets: ['bench'] })]);
if (preparing.some((outcome) => outcome.status === 'rejected')) {
  await Promise.all(preparing.map((outcome) => (outcome.status === 'fulfilled' && outcome.value.close ? outcome.value.close() : undefined)));
  rmSync(work, { recursive: true, force: true });
  for (const outcome of preparing) if (outcome.status === 'rejected') console.error(`bench: ${outcome.reason?.message ?? outcome.reason}`);
  process.exit(1);
}
const [pythonEnv, benchEnv, minio, s3] = preparing.map((outcome) => outcome.value);
results.prepareSeconds = (performance.now() - prepared) / 1000;
const python = pythonEnv.python;
const mlflowPython = benchEnv.python;
try {
  const pythonVersions = execFileSync(python, ['-c', 'import importlib.metadata as m; print(m.version("modelstore"), m.version("minio"))'], { encoding: 'utf8' }).trim().split(' ');
  const mlflowVersions = execFileSync(mlflowPython, ['-c', 'import importlib.metadata as m; print(m.version("mlflow-skinny"), m.version("boto3"))'], { encoding: 'utf8' }).trim().split(' ');
  results.peers = { modelstore: pythonVersions[0], minioPy: pythonVersions[1], mlflowSkinny: mlflowVersions[0], boto3: mlflowVersions[1] };

  // File system: ours and the Python peers against cp and tar -czf of the same file.
  const large = await weightsFile('large.bin', sizes.large);
  const bytes = sizes.large * MiB;
  const fsGroup = `file system, ${sizes.large} MiB`;
  const cp = [];
  for (let i = 0; i < repetitions; i++) {
    const copy = path.join(work, 'copy.bin');
    cp.push(timed('cp', [large, copy]));
    await verifyDownload('cp', large, copy);
  }
  // The file system store fsyncs what it writes (a model must survive a crash once
  // upload returns); cp does not. This baseline is cp followed by an fsync of the copy.
  const cpSync = [];
  for (let i = 0; i < repetitions; i++) {
    const copy = path.join(work, 'copy-synced.bin');
    cpSync.push(timed('sh', ['-c', 'cp "$0" "$1" && sync "$1"', large, copy]));
    rmSync(copy);
  }
  const tarSeconds = [timed('tar', ['-czf', path.join(work, 'large.tar.gz'), '-C', work, 'large.bin'])];
  rmSync(path.join(work, 'large.tar.gz'));
  const fsRuns = [];
  const pyFsRuns = [];
  const mlflowFsRuns = [];
  for (let i = 0; i < repetitions; i++) {
    const runDir = mkdtempSync(path.join(work, 'fs-'));
    fsRuns.push(await scenario('fs-roundtrip', { work: runDir, file: large }));
    rmSync(runDir, { recursive: true, force: true });
    pyFsRuns.push(await peer('modelstore-fs', python, { file: large }));
    mlflowFsRuns.push(await peer('mlflow-fs', mlflowPython, { file: large }));
  }
  const cpMedian = median(cp);
  row(fsGroup, 'cp (baseline)', cp, bytes, cpMedian);
  row(fsGroup, 'cp + fsync (baseline)', cpSync, bytes, cpMedian, undefined, 'the durability the store gives');
  row(fsGroup, 'tar -czf (baseline)', tarSeconds, bytes, cpMedian);
  row(fsGroup, 'ModelStore upload', uploads(fsRuns), bytes, cpMedian, peakOf(fsRuns), `archive ${(fsRuns[0].archiveBytes / bytes).toFixed(3)} of the input`);
  row(fsGroup, 'Python modelstore upload', uploads(pyFsRuns), bytes, cpMedian, peakOf(pyFsRuns), `archive ${(pyFsRuns[0].archiveBytes / bytes).toFixed(3)} of the input (gzip level 9); ${importNote(pyFsRuns)}`);
  row(fsGroup, 'MLflow log_artifact', uploads(mlflowFsRuns), bytes, cpMedian, peakOf(mlflowFsRuns), `a copy, no archive; ${importNote(mlflowFsRuns)}`);
  row(fsGroup, 'ModelStore download', downloads(fsRuns), bytes, cpMedian, peakOf(fsRuns));
  row(fsGroup, 'Python modelstore download', downloads(pyFsRuns), bytes, cpMedian, peakOf(pyFsRuns));
  row(fsGroup, 'MLflow download_artifacts', downloads(mlflowFsRuns), bytes, cpMedian, peakOf(mlflowFsRuns));
  results.scenarios.fileSystem = { bytes, cp, cpSync, tar: tarSeconds, runs: fsRuns, pythonModelstore: pyFsRuns, mlflow: mlflowFsRuns };

  // 2 GiB round trip: the memory budget.
  const huge = await weightsFile('huge.bin', sizes.huge);
  rmSync(large);
  const hugeDir = mkdtempSync(path.join(work, 'huge-'));
  const hugeRun = await scenario('fs-roundtrip', { work: hugeDir, file: huge });
  rmSync(hugeDir, { recursive: true, force: true });
  rmSync(huge);
  row(`file system, ${sizes.huge} MiB`, 'upload + download', [hugeRun.uploadSeconds + hugeRun.downloadSeconds], sizes.huge * MiB * 2, undefined, hugeRun.peakRssBytes, 'peak RSS budget: 200 MiB');
  results.scenarios.memory = { bytes: sizes.huge * MiB, run: hugeRun };

  // MinIO (a real server, its own process): ours and the peers against the bare AWS SDK, same bucket, same bytes.
  const s3File = await weightsFile('s3.bin', sizes.s3);
  const minioGroup = `MinIO, ${sizes.s3} MiB`;
  const minioArgs = { file: s3File, endpoint: minio.endpoint, credentials: minio.credentials, bucket: 'bench' };
  const peerMinioArgs = { file: s3File, endpoint: minio.endpoint, ...minio.credentials, bucket: 'bench' };
  const bare = [];
  const ours = [];
  const pyMinio = [];
  const mlflowMinio = [];
  for (let i = 0; i < repetitions; i++) {
    const runDir = mkdtempSync(path.join(work, 'minio-'));
    bare.push(await scenario('s3-bare', { ...minioArgs, work: runDir }));
    ours.push(await scenario('s3-modelstore', { ...minioArgs, work: runDir }));
    rmSync(runDir, { recursive: true, force: true });
    pyMinio.push(await peer('modelstore-minio', python, { ...peerMinioArgs, prefix: `python-modelstore-${i}` }));
    mlflowMinio.push(await peer('mlflow-minio', mlflowPython, { ...peerMinioArgs, prefix: `mlflow-${i}` }));
  }
  const s3Bytes = sizes.s3 * MiB;
  const bareUpload = median(uploads(bare));
  const bareDownload = median(downloads(bare));
  row(minioGroup, 'lib-storage Upload (baseline)', uploads(bare), s3Bytes, bareUpload, peakOf(bare), 'a read stream, 5 MiB parts, 4 at once');
  row(minioGroup, 'ModelStore upload', uploads(ours), s3Bytes, bareUpload, peakOf(ours));
  row(minioGroup, 'Python modelstore upload', uploads(pyMinio), s3Bytes, bareUpload, peakOf(pyMinio), `from_minio (minio-py ${results.peers.minioPy}); gzip level 9; ${importNote(pyMinio)}`);
  row(minioGroup, 'MLflow log_artifact', uploads(mlflowMinio), s3Bytes, bareUpload, peakOf(mlflowMinio), `s3:// artifact location (boto3 ${results.peers.boto3}); ${importNote(mlflowMinio)}`);
  row(minioGroup, 'GetObject (baseline)', downloads(bare), s3Bytes, bareDownload, peakOf(bare), 'piped to a file');
  row(minioGroup, 'ModelStore download', downloads(ours), s3Bytes, bareDownload, peakOf(ours), "includes gunzip, untar, the archive's sha256 checked");
  row(minioGroup, 'Python modelstore download', downloads(pyMinio), s3Bytes, bareDownload, peakOf(pyMinio), 'includes gunzip, untar; no digest checked');
  row(minioGroup, 'MLflow download_artifacts', downloads(mlflowMinio), s3Bytes, bareDownload, peakOf(mlflowMinio));
  results.scenarios.minio = { bytes: s3Bytes, bare, ours, pythonModelstore: pyMinio, mlflow: mlflowMinio };
  rmSync(s3File);

  // Scale: a domain of many models (metadata only), written in a shuffled order.
  const count = sizes.models;
  const created = Date.UTC(2026, 0, 1);
  const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => ((a * 7919) % count) - ((b * 7919) % count));
  const metadataOf = (i) => {
    const at = new Date(created + i * 1000);
    const id = `model-${String(i).padStart(6, '0')}`;
    return {
      id,
      at,
      json: JSON.stringify({
        model: { domain: 'scale', model_id: id, model_type: { library: 'model_file' }, parameters: {} },
        storage: { type: 'bench', prefix: layout.archive('scale', at, id) },
        archive: { sha256: '0'.repeat(64), size: 1000 + i, files: {} },
        modelstore: 'bench',
        code: { runtime: 'bench', created: at.toISOString(), created_at: at.toISOString() },
      }),
    };
  };
  // Written through the Storage interface, so that the index can carry the etag of each
  // `versions/<id>.json` as the backend reports it: core uses an index entry only when the
  // listing shows that very version of the document (see the index format in core).
  const seed = async (storage) => {
    const etags = {};
    for (let start = 0; start < count; start += 64) {
      await Promise.all(
        order.slice(start, start + 64).map(async (i) => {
          const { id, json } = metadataOf(i);
          etags[id] = (await storage.put(layout.version('scale', id), json)).etag;
          if (i % 50 === 0) await storage.put(layout.stateVersion('scale', 'production', id), json);
        }),
      );
    }
    await storage.put(layout.domain('scale'), metadataOf(count - 1).json);
    await storage.put(layout.state('production'), JSON.stringify({ created: '2026/01/01/00:00:00', state_name: 'production' }));
    const models = Object.fromEntries(Array.from({ length: count }, (_, i) => [metadataOf(i).id, created + i * 1000]));
    const sizesOf = Object.fromEntries(Array.from({ length: count }, (_, i) => [metadataOf(i).id, 1000 + i]));
    const libraries = Object.fromEntries(Array.from({ length: count }, (_, i) => [metadataOf(i).id, 'model_file']));
    await storage.put(layout.index('scale'), JSON.stringify({ models, etags, sizes: sizesOf, libraries }));
  };
  const fsRoot = path.join(work, 'scale-registry');
  await seed(new FileSystemStorage({ root: fsRoot }));
  const s3Storage = new S3Storage({ bucket: 'bench', rootPrefix: 'scale', endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: s3.credentials });
  await seed(s3Storage);
  s3Storage.client.destroy();
  results.scenarios.scale = {};
  for (const backend of ['fs', 's3']) {
    const run = await scenario('scale', { backend, root: fsRoot, work, endpoint: s3.endpoint, credentials: s3.credentials, bucket: 'bench', rootPrefix: 'scale', someId: metadataOf(4321 % count).id });
    results.scenarios.scale[backend] = run;
    for (const [operation, measured] of Object.entries(run)) {
      if (operation === 'peakRssBytes' || operation === 'processSeconds') continue;
      row(
        `scale, ${count} models, ${backend === 'fs' ? 'file system' : 'S3 server'}`,
        operation,
        [measured.seconds],
        undefined,
        undefined,
        undefined,
        `${measured.requests} storage requests${measured.count === undefined ? '' : `, ${measured.count} ids`}`,
      );
    }
  }

  // `modelstore ls <domain>` as a user runs it (a process of its own): it lists through
  // listModelSummaries, whose storage requests the scale rows above count.
  const cli = path.join(here, '..', 'packages', 'cli', 'dist', 'bin.js');
  const lsFs = [];
  for (let i = 0; i < repetitions; i++) lsFs.push(timedLs(cli, ['--store', `file://${fsRoot}`, 'ls', 'scale'], {}, count));
  row(`scale, ${count} models, file system`, 'modelstore ls scale (whole process)', lsFs, undefined, undefined, undefined, `${results.scenarios.scale.fs.listModelSummaries.requests} storage requests (listModelSummaries), ${count} rows`);
  results.scenarios.scale.cliLs = { fs: lsFs };

  // Cold start: import core + storage-fs and open a store.
  const nodeAlone = [];
  const cold = [];
  for (let i = 0; i < 5; i++) {
    nodeAlone.push(timed(process.execPath, ['-e', '0']));
    cold.push(timed(process.execPath, [path.join(here, 'cold-start.mjs'), work]));
  }
  row('cold start (whole process)', 'node -e 0 (baseline)', nodeAlone, undefined, median(nodeAlone));
  row('cold start (whole process)', 'import core + storage-fs, open, listDomains', cold, undefined, median(nodeAlone), undefined, `${((median(cold) - median(nodeAlone)) * 1000).toFixed(0)} ms over bare node`);
  results.scenarios.coldStart = { nodeAlone, cold };

  // At scale (bench/scale.mjs): uploads beside the empty domain, pages, the whole list and
  // listDomains on generated registries, file system and MinIO, and a domain Python grew.
  // MinIO at 100,000 models included: writing its 200,000 objects takes about 10 minutes
  // here, so the scale section is most of `pnpm bench`'s time (BENCHMARKS.md).
  // The Python-grown domain's first page before any compaction (the whole listing sliced:
  // one read per document, 100,000 at 100,000 models) is measured by bench/scale.mjs alone.
  const scale = await scaleSection({
    minio,
    work,
    quick,
    python,
    pythonPagesBefore: quick,
    sizes: quick ? undefined : { fs: [10_000, 100_000], minio: [10_000, 100_000] },
    log: (line) => console.error(line),
  });
  rows.push(...scale.rows);
  results.scale = { ...scale.results, budgets: scale.budgets };
} catch (error) {
  // What was measured before the failure is kept on the screen (a full run is minutes long).
  if (rows.length > 0) console.error(`\nrows measured before the failure:\n${markdownTable(rows)}\n`);
  console.error(`bench: FAILED: ${error.stack ?? error}`);
  process.exitCode = 1;
} finally {
  await Promise.all([s3.close(), minio.close()]);
  rmSync(work, { recursive: true, force: true });
}
if (process.exitCode === 1) process.exit(1);

function markdownTable(cellRows) {
  const header = ['scenario', 'operation', 'seconds (median)', 'spread', 'MiB/s', 'speed vs baseline', 'peak RSS MiB', 'notes'];
  return [header, header.map(() => '---'), ...cellRows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}
const table = markdownTable(rows);
console.log(`\nmodelstore benchmarks — ${results.machine.cpus} × ${results.machine.cpu}, ${results.machine.memoryGiB} GiB, Node ${results.machine.node}${quick ? ' (quick)' : ''}\n`);
console.log(table);

// ModelStore against each peer, same bytes, same backend: the peer's median seconds over
// ours (above 1: ModelStore is faster).
const { fileSystem, minio: onMinio } = results.scenarios;
results.comparisons = [];
for (const [backend, ourRuns, pyRuns, mlflowRuns] of [
  [`file system, ${sizes.large} MiB`, fileSystem.runs, fileSystem.pythonModelstore, fileSystem.mlflow],
  [`MinIO, ${sizes.s3} MiB`, onMinio.ours, onMinio.pythonModelstore, onMinio.mlflow],
]) {
  for (const [operation, pick] of [
    ['upload', uploads],
    ['download', downloads],
  ]) {
    const oursSeconds = median(pick(ourRuns));
    const pythonSeconds = median(pick(pyRuns));
    const mlflowSeconds = median(pick(mlflowRuns));
    results.comparisons.push({ backend, operation, modelstoreSeconds: oursSeconds, pythonModelstoreSeconds: pythonSeconds, mlflowSeconds, vsPythonModelstore: pythonSeconds / oursSeconds, vsMlflow: mlflowSeconds / oursSeconds });
  }
}
const comparisonHeader = ['backend', 'operation', 'ModelStore s', 'Python modelstore s', 'ModelStore vs Python modelstore', 'MLflow s', 'ModelStore vs MLflow'];
const comparisonTable = [
  comparisonHeader,
  comparisonHeader.map(() => '---'),
  ...results.comparisons.map((c) => [c.backend, c.operation, c.modelstoreSeconds.toFixed(2), c.pythonModelstoreSeconds.toFixed(2), `${c.vsPythonModelstore.toFixed(2)}×`, c.mlflowSeconds.toFixed(2), `${c.vsMlflow.toFixed(2)}×`]),
]
  .map((cells) => `| ${cells.join(' | ')} |`)
  .join('\n');
console.log(`\nModelStore against its peers (peer's seconds / ModelStore's: above 1, ModelStore is faster); Python modelstore ${results.peers.modelstore}, mlflow-skinny ${results.peers.mlflowSkinny}\n`);
console.log(comparisonTable);
const scaleTable = scaleBudgetTable(results.scale.budgets);
console.log(`\nAt scale: the budgets (${results.scale.seconds.toFixed(0)} s for the scale section)\n`);
console.log(scaleTable);
writeFileSync(path.join(here, quick ? 'results-quick.json' : 'results.json'), `${JSON.stringify({ ...results, table, comparisonTable, scaleTable }, null, 2)}\n`);

// The smoke test's checks (`pnpm test` runs --quick): every row there, every download verified.
const expectedRows = [
  ...['cp (baseline)', 'cp + fsync (baseline)', 'tar -czf (baseline)', 'ModelStore upload', 'Python modelstore upload', 'MLflow log_artifact', 'ModelStore download', 'Python modelstore download', 'MLflow download_artifacts'].map(
    (operation) => [`file system, ${sizes.large} MiB`, operation],
  ),
  [`file system, ${sizes.huge} MiB`, 'upload + download'],
  ...['lib-storage Upload (baseline)', 'ModelStore upload', 'Python modelstore upload', 'MLflow log_artifact', 'GetObject (baseline)', 'ModelStore download', 'Python modelstore download', 'MLflow download_artifacts'].map((operation) => [
    `MinIO, ${sizes.s3} MiB`,
    operation,
  ]),
  ...['listModels', 'listModelSummaries', 'modelstore ls scale (whole process)'].map((operation) => [`scale, ${sizes.models} models, file system`, operation]),
];
// At scale: the rows of every backend and size (their scenarios already checked order and counts).
for (const [backend, key] of [
  ['file system', 'fs'],
  ['MinIO', 'minio'],
]) {
  for (const size of results.scale.sizes[key]) {
    for (const operation of [
      `upload, 1 byte, sequential, into an empty domain (baseline, median of ${results.scale.sequential})`,
      `upload, 1 byte, sequential (median of ${results.scale.sequential})`,
      'listModels first page of 50',
      'listModels, the whole list',
    ])
      expectedRows.push([`at scale, ${size.toLocaleString('en-US')} models, ${backend}`, operation]);
  }
  expectedRows.push([`at scale, ${(results.scale.domainsCount + 1).toLocaleString('en-US')} domains, ${backend}`, 'listDomains']);
}
expectedRows.push([`at scale, ${results.scale.python.count.toLocaleString('en-US')} models Python grew (no index), file system`, 'listModels, the whole list']);
const problems = [];
for (const [group, operation] of expectedRows) {
  const found = rows.find((cells) => cells[0] === group && cells[1] === operation);
  if (!found) problems.push(`missing row: ${group} / ${operation}`);
  else if (!(Number(found[2]) >= 0) || found[2] === 'NaN') problems.push(`row without a time: ${group} / ${operation}`);
}
const roundTrips = [...fileSystem.runs, ...fileSystem.pythonModelstore, ...fileSystem.mlflow, results.scenarios.memory.run, ...onMinio.bare, ...onMinio.ours, ...onMinio.pythonModelstore, ...onMinio.mlflow];
const unverified = roundTrips.filter((run) => run.verified !== true).length;
if (unverified > 0) problems.push(`${unverified} download(s) not verified`);
if (results.comparisons.some((c) => !Number.isFinite(c.vsPythonModelstore) || !Number.isFinite(c.vsMlflow))) problems.push('a comparison ratio is not a number');
if (problems.length > 0) {
  console.error(`\nbench: FAILED\n${problems.join('\n')}`);
  process.exit(1);
}
console.log(`\nbench: ${expectedRows.length} rows of transfers, ${roundTrips.length} round trips, every download's size and sha256 equal to the source's; ${((performance.now() - runStarted) / 1000).toFixed(0)} s in all`);
