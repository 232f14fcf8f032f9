// `pnpm bench`: every scenario beside its baseline, in one run, as a markdown table
// and bench/results.json. Each measured operation runs in a child process of its own.
// Usage: node bench/run.mjs [--quick]   (--quick: smaller files and fewer models)
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { layout } from '@modelstore/core';
import { FileSystemStorage } from '@modelstore/storage-fs';
import { startS3Server } from '@modelstore/test-servers';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const quick = process.argv.includes('--quick');
const here = path.dirname(fileURLToPath(import.meta.url));
const work = mkdtempSync(path.join(os.tmpdir(), 'modelstore-bench-'));
const MiB = 1024 * 1024;
const sizes = quick ? { large: 64, huge: 128, s3: 32, models: 1000 } : { large: 1024, huge: 2048, s3: 256, models: 10_000 };
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

/** Runs a scenario in a child process; asynchronously, since the S3 server runs in this one. */
async function scenario(name, args) {
  const child = spawn(process.execPath, [path.join(here, 'scenario.mjs'), name, JSON.stringify(args)], { env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data) => (stdout += data));
  child.stderr.on('data', (data) => (stderr += data));
  const [code] = await once(child, 'close');
  if (code !== 0) throw new Error(`scenario ${name} failed:\n${stderr}`);
  return JSON.parse(stdout.trim().split('\n').pop());
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

const s3 = await startS3Server({ buckets: ['bench'] });
try {
  // File system, 1 GiB: ours against cp and tar -czf of the same file.
  const large = await weightsFile('large.bin', sizes.large);
  const bytes = sizes.large * MiB;
  const cp = [];
  for (let i = 0; i < repetitions; i++) {
    cp.push(timed('cp', [large, path.join(work, 'copy.bin')]));
    rmSync(path.join(work, 'copy.bin'));
  }
  const tarSeconds = [timed('tar', ['-czf', path.join(work, 'large.tar.gz'), '-C', work, 'large.bin'])];
  rmSync(path.join(work, 'large.tar.gz'));
  const fsRuns = [];
  for (let i = 0; i < repetitions; i++) {
    const runDir = mkdtempSync(path.join(work, 'fs-'));
    fsRuns.push(await scenario('fs-roundtrip', { work: runDir, file: large }));
    rmSync(runDir, { recursive: true, force: true });
  }
  const cpMedian = median(cp);
  const fsPeak = Math.max(...fsRuns.map((run) => run.peakRssBytes));
  row(`file system, ${sizes.large} MiB`, 'cp (baseline)', cp, bytes, cpMedian);
  row(`file system, ${sizes.large} MiB`, 'tar -czf (baseline)', tarSeconds, bytes, cpMedian);
  row(
    `file system, ${sizes.large} MiB`,
    'ModelStore upload',
    fsRuns.map((run) => run.uploadSeconds),
    bytes,
    cpMedian,
    fsPeak,
    `archive ${(fsRuns[0].archiveBytes / bytes).toFixed(3)} of the input`,
  );
  row(
    `file system, ${sizes.large} MiB`,
    'ModelStore download',
    fsRuns.map((run) => run.downloadSeconds),
    bytes,
    cpMedian,
    fsPeak,
  );
  results.scenarios.fileSystem = { bytes, cp, tar: tarSeconds, runs: fsRuns };

  // 2 GiB round trip: the memory budget.
  const huge = await weightsFile('huge.bin', sizes.huge);
  rmSync(large);
  const hugeDir = mkdtempSync(path.join(work, 'huge-'));
  const hugeRun = await scenario('fs-roundtrip', { work: hugeDir, file: huge });
  rmSync(hugeDir, { recursive: true, force: true });
  rmSync(huge);
  row(`file system, ${sizes.huge} MiB`, 'upload + download', [hugeRun.uploadSeconds + hugeRun.downloadSeconds], sizes.huge * MiB * 2, undefined, hugeRun.peakRssBytes, 'peak RSS budget: 200 MiB');
  results.scenarios.memory = { bytes: sizes.huge * MiB, run: hugeRun };

  // S3 (the S3 test server in this process): ModelStore against bare lib-storage.
  const s3File = await weightsFile('s3.bin', sizes.s3);
  const s3Args = { work, file: s3File, endpoint: s3.endpoint, credentials: s3.credentials, bucket: 'bench' };
  const ours = [];
  const bare = [];
  for (let i = 0; i < repetitions; i++) {
    bare.push(await scenario('s3-bare', s3Args));
    ours.push(await scenario('s3-modelstore', s3Args));
  }
  const s3Bytes = sizes.s3 * MiB;
  row(
    `S3 server, ${sizes.s3} MiB`,
    'lib-storage Upload (baseline)',
    bare.map((run) => run.uploadSeconds),
    s3Bytes,
    median(bare.map((run) => run.uploadSeconds)),
    Math.max(...bare.map((run) => run.peakRssBytes)),
  );
  row(
    `S3 server, ${sizes.s3} MiB`,
    'ModelStore upload',
    ours.map((run) => run.uploadSeconds),
    s3Bytes,
    median(bare.map((run) => run.uploadSeconds)),
    Math.max(...ours.map((run) => run.peakRssBytes)),
  );
  row(
    `S3 server, ${sizes.s3} MiB`,
    'GetObject (baseline)',
    bare.map((run) => run.downloadSeconds),
    s3Bytes,
    median(bare.map((run) => run.downloadSeconds)),
  );
  row(
    `S3 server, ${sizes.s3} MiB`,
    'ModelStore download',
    ours.map((run) => run.downloadSeconds),
    s3Bytes,
    median(bare.map((run) => run.downloadSeconds)),
    undefined,
    'includes gunzip, untar, two sha256',
  );
  results.scenarios.s3 = { bytes: s3Bytes, bare, ours };

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
        modelstore: 'bench',
        code: { runtime: 'bench', created: at.toISOString(), created_at: at.toISOString() },
      }),
    };
  };
  const index = { models: Object.fromEntries(Array.from({ length: count }, (_, i) => [metadataOf(i).id, created + i * 1000])) };
  const seed = async (put) => {
    for (let start = 0; start < count; start += 64) {
      await Promise.all(
        order.slice(start, start + 64).map(async (i) => {
          const { id, json } = metadataOf(i);
          await put(layout.version('scale', id), json);
          if (i % 50 === 0) await put(layout.stateVersion('scale', 'production', id), json);
        }),
      );
    }
    await put(layout.domain('scale'), metadataOf(count - 1).json);
    await put(layout.state('production'), JSON.stringify({ created: '2026/01/01/00:00:00', state_name: 'production' }));
    await put(layout.index('scale'), JSON.stringify(index));
  };
  const fsRoot = path.join(work, 'scale-registry');
  const fsStorage = new FileSystemStorage({ root: fsRoot });
  await seed((key, body) => fsStorage.put(key, body));
  const client = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: s3.credentials });
  await seed((key, body) => client.send(new PutObjectCommand({ Bucket: 'bench', Key: `scale/${key}`, Body: body })));
  client.destroy();
  results.scenarios.scale = {};
  for (const backend of ['fs', 's3']) {
    const run = await scenario('scale', { backend, root: fsRoot, work, endpoint: s3.endpoint, credentials: s3.credentials, bucket: 'bench', rootPrefix: 'scale', someId: metadataOf(4321 % count).id });
    results.scenarios.scale[backend] = run;
    for (const [operation, measured] of Object.entries(run)) {
      if (operation === 'peakRssBytes') continue;
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
} finally {
  await s3.close();
  rmSync(work, { recursive: true, force: true });
}

const header = ['scenario', 'operation', 'seconds (median)', 'spread', 'MiB/s', 'speed vs baseline', 'peak RSS MiB', 'notes'];
const table = [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
console.log(`\nmodelstore benchmarks — ${results.machine.cpus} × ${results.machine.cpu}, ${results.machine.memoryGiB} GiB, Node ${results.machine.node}${quick ? ' (quick)' : ''}\n`);
console.log(table);
writeFileSync(path.join(here, quick ? 'results-quick.json' : 'results.json'), `${JSON.stringify({ ...results, table }, null, 2)}\n`);
