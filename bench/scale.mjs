// The scale section of `pnpm bench`: a registry at 10,000 and 100,000 models per domain
// (and 10,000 domains), on the file system and on MinIO, each row beside the
// empty-domain baseline, and the budgets of the append-only index checked:
//   sequential upload ≤ 1.2× empty, 25 concurrent uploads ≤ 1.5× empty (wall time),
//   first page of 50 ≤ 5 storage requests, the following page likewise,
//   the whole list ≤ 25 requests per 10,000 models, listDomains at 10,000 domains ≤ 25.
// Registries are made by bench/scale-generate.mjs (one real upload, rewritten N times);
// every measurement runs in a process of its own (bench/scale-scenario.mjs).
//
// run.mjs calls scaleSection(); alone (starts its own MinIO):
//   node bench/scale.mjs [--quick] [--sizes 10000,100000] [--backends fs,minio] [--domains 10000]
//     [--python-models 100000 | --no-python] [--sequential 20] [--rounds 3]   (--domains 0: no listDomains)
import { FileSystemStorage } from '@modelstore/storage-fs';
import { S3Storage } from '@modelstore/storage-s3';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateDomain, generateDomains, generatePythonDomain } from './scale-generate.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const spread = (values) => (values.length > 1 ? `${Math.min(...values).toFixed(3)}–${Math.max(...values).toFixed(3)}` : '-');

/** The budgets (the append-only index's targets). */
export const scaleBudgets = { sequential: 1.2, concurrent: 1.5, firstPage: 5, nextPage: 5, wholePer10000: 25, listDomains: 25 };

async function scenario(name, args) {
  const child = spawn(process.execPath, [path.join(here, 'scale-scenario.mjs'), name, JSON.stringify(args)], { env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data) => (stdout += data));
  child.stderr.on('data', (data) => (stderr += data));
  const [code] = await once(child, 'close');
  if (code !== 0) throw new Error(`scale scenario ${name} failed (exit ${code}):\n${stderr.slice(-4000)}`);
  const result = JSON.parse(stdout.trim().split('\n').pop());
  if (result.problems?.length) throw new Error(`scale scenario ${name} (${JSON.stringify(args)}):\n${result.problems.join('\n')}`);
  return result;
}

/**
 * Runs the section. `minio`: a running MinIO (`startMinio({ buckets: ['bench'] })`).
 * @returns { rows (run.mjs's cells), budgets (cells of the budget table), results, seconds }
 */
export async function scaleSection({ minio, work, quick = false, sizes, domainsCount, backends = ['fs', 'minio'], python, pythonCount, pythonPagesBefore = true, sequential, concurrentRounds, log = () => {}, progress = () => {} }) {
  const started = performance.now();
  // Models per domain, per backend: an array for every backend, or { fs: [...], minio: [...] }.
  sizes ??= quick ? [500] : [10_000, 100_000];
  if (Array.isArray(sizes)) sizes = Object.fromEntries(backends.map((backend) => [backend, sizes]));
  domainsCount ??= quick ? 100 : 10_000;
  sequential ??= quick ? 3 : 20;
  concurrentRounds ??= quick ? 1 : 3;
  const rows = [];
  const budgets = [];
  const results = { sizes, domainsCount, sequential, concurrent: 25, concurrentRounds, backends: {} };
  let runs = 0;
  /** The generator's order (newest first) in a file, for a scenario to check the whole list against. */
  const expectedFile = (ids) => {
    const file = path.join(work, `expected-${runs++}.json`);
    writeFileSync(file, JSON.stringify(ids));
    return file;
  };
  for (const backend of backends) {
    const label = backend === 'fs' ? 'file system' : 'MinIO';
    const backendResults = { generate: {}, uploads: {}, reads: {} };
    results.backends[backend] = backendResults;
    /** A fresh registry: its storage, the scenario arguments that open it, and a cleanup. */
    const registry = () => {
      const id = `scale-${backend}-${runs++}`;
      if (backend === 'fs') {
        const root = mkdtempSync(path.join(work, `${id}-`));
        return { storage: new FileSystemStorage({ root }), fsRoot: root, open: { backend, root }, close: () => rmSync(root, { recursive: true, force: true }) };
      }
      const options = { bucket: 'bench', rootPrefix: `${id}-${Date.now()}`, endpoint: minio.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: minio.credentials };
      const storage = new S3Storage(options);
      return { storage, open: { backend, bucket: options.bucket, rootPrefix: options.rootPrefix, endpoint: minio.endpoint, credentials: minio.credentials }, close: () => storage.client.destroy() };
    };
    const uploadsOf = async (target, domain, baseline) => scenario('uploads', { ...target.open, work: path.join(work, `uploads-${runs++}`), domain, sequential, concurrent: 25, concurrentRounds, baseline: { ...baseline.open, domain } });
    const group = (count) => (count === 0 ? `at scale, empty domain, ${label}` : `at scale, ${count.toLocaleString('en-US')} models, ${label}`);

    for (const count of sizes[backend] ?? []) {
      const target = registry();
      try {
        log(`scale: ${label}, ${count} models: generating`);
        const generated = await generateDomain({ storage: target.storage, domain: 'models', count, fsRoot: target.fsRoot, concurrency: backend === 'fs' ? 64 : 32, work });
        backendResults.generate[count] = { seconds: generated.seconds, writeSeconds: generated.writeSeconds, indexSeconds: generated.indexSeconds };
        log(`scale: ${label}, ${count} models: generated in ${generated.seconds.toFixed(1)} s; reads`);
        const reads = await scenario('reads', {
          ...target.open,
          work: path.join(work, `reads-${runs++}`),
          domain: 'models',
          expectedFile: expectedFile(generated.ids),
          sample: [generated.ids[0], generated.ids[1], generated.ids[Math.floor(count / 2)], generated.ids.at(-1)],
        });
        backendResults.reads[count] = reads;
        progress(results);
        log(`scale: ${label}, ${count} models: uploads (each paired with one into an empty domain)`);
        // The baseline: an empty domain of a fresh registry (the uploads create it), measured
        // in the same process, each upload and round just before its pair.
        const empty = registry();
        let measured;
        try {
          measured = await uploadsOf(target, 'models', empty);
        } finally {
          empty.close();
        }
        backendResults.uploads[count] = measured;
        progress(results);
        // compactIndex now: a reconciling compaction of the uploads' log entries.
        const compaction = await scenario('compact', { ...target.open, work: path.join(work, `compact-${runs++}`), domain: 'models' });
        backendResults.compactions ??= {};
        backendResults.compactions[count] = { ...compaction, tail: measured.uploaded };
        progress(results);
        const compactionRow = compaction.available && [
          group(count),
          `compactIndex (reconciling; a log of ${measured.uploaded} entries)`,
          compaction.seconds.toFixed(3),
          '-',
          '-',
          '-',
          '-',
          `${compaction.requests} storage requests (${compaction.writes} writes), ${(compaction.bytesRead / 2 ** 20).toFixed(1)} MiB read`,
        ];
        const { baseline } = measured;
        const baseSequential = median(baseline.sequential);
        const baseConcurrent = median(baseline.concurrent);
        rows.push([group(count), `upload, 1 byte, sequential, into an empty domain (baseline, median of ${sequential})`, baseSequential.toFixed(3), spread(baseline.sequential), '-', '1.00', '-', 'paired with the next row']);
        rows.push([
          group(count),
          `25 concurrent uploads into an empty domain (baseline, wall time${concurrentRounds > 1 ? `, median of ${concurrentRounds}` : ''})`,
          baseConcurrent.toFixed(3),
          spread(baseline.concurrent),
          '-',
          '1.00',
          '-',
          'paired with the next rows',
        ]);
        const seqRatio = median(measured.sequential) / baseSequential;
        const concRatio = median(measured.concurrent) / baseConcurrent;
        const per10000 = (reads.whole.requests * 10_000) / count;
        // ≤ 25 requests per 10,000 models: a domain under 10,000 models is allowed 25.
        const wholeAllowed = scaleBudgets.wholePer10000 * Math.max(1, count / 10_000);
        rows.push([
          group(count),
          `upload, 1 byte, sequential (median of ${sequential})`,
          median(measured.sequential).toFixed(3),
          spread(measured.sequential),
          '-',
          (1 / seqRatio).toFixed(2),
          '-',
          `time ${seqRatio.toFixed(2)}× the empty domain's; generated in ${generated.seconds.toFixed(0)} s`,
        ]);
        rows.push([
          group(count),
          `25 concurrent uploads (wall time${concurrentRounds > 1 ? `, median of ${concurrentRounds}` : ''})`,
          median(measured.concurrent).toFixed(3),
          spread(measured.concurrent),
          '-',
          (1 / concRatio).toFixed(2),
          '-',
          `time ${concRatio.toFixed(2)}× the empty domain's`,
        ]);
        const pageNote = reads.paging ? '' : 'no paging in this build: listModels ignores limit and returns the whole list; ';
        rows.push([group(count), 'listModels first page of 50', reads.firstPage.seconds.toFixed(3), '-', '-', '-', '-', `${pageNote}${reads.firstPage.requests} storage requests, ${(reads.firstPage.bytesRead / 1024).toFixed(0)} KiB read`]);
        if (reads.nextPage)
          rows.push([group(count), 'listModels next page of 50', reads.nextPage.seconds.toFixed(3), '-', '-', '-', '-', `${reads.nextPage.requests} storage requests, ${(reads.nextPage.bytesRead / 1024).toFixed(0)} KiB read`]);
        rows.push([
          group(count),
          'listModels, the whole list',
          reads.whole.seconds.toFixed(3),
          '-',
          '-',
          '-',
          '-',
          `${reads.whole.requests} storage requests${count >= 10_000 ? ` (${per10000.toFixed(1)} per 10,000)` : ''}, ${count} ids, ${(reads.whole.bytesRead / 2 ** 20).toFixed(1)} MiB read`,
        ]);
        const holds = (ok) => (ok ? 'yes' : '**no**');
        budgets.push([
          label,
          count,
          'sequential upload vs empty domain',
          `${median(measured.sequential).toFixed(3)} s vs ${baseSequential.toFixed(3)} s = ${seqRatio.toFixed(2)}×`,
          `≤ ${scaleBudgets.sequential}×`,
          holds(seqRatio <= scaleBudgets.sequential),
        ]);
        budgets.push([
          label,
          count,
          '25 concurrent uploads vs empty domain',
          `${median(measured.concurrent).toFixed(2)} s vs ${baseConcurrent.toFixed(2)} s = ${concRatio.toFixed(2)}×`,
          `≤ ${scaleBudgets.concurrent}×`,
          holds(concRatio <= scaleBudgets.concurrent),
        ]);
        budgets.push([
          label,
          count,
          'first page of 50 (requests)',
          reads.paging ? `${reads.firstPage.requests}` : `no paging (the whole list: ${reads.firstPage.requests})`,
          `≤ ${scaleBudgets.firstPage}`,
          holds(reads.paging && reads.firstPage.requests <= scaleBudgets.firstPage),
        ]);
        budgets.push([label, count, 'next page of 50 (requests)', reads.nextPage ? `${reads.nextPage.requests}` : 'no paging', `≤ ${scaleBudgets.nextPage}`, holds(reads.nextPage && reads.nextPage.requests <= scaleBudgets.nextPage)]);
        budgets.push([
          label,
          count,
          'whole list (requests per 10,000)',
          count >= 10_000 ? `${reads.whole.requests} (${per10000.toFixed(1)} per 10,000)` : `${reads.whole.requests}`,
          `≤ ${scaleBudgets.wholePer10000}`,
          holds(reads.whole.requests <= wholeAllowed),
        ]);
        if (compactionRow) rows.push(compactionRow);
      } finally {
        target.close();
      }
    }

    if (domainsCount > 0) {
      const registryOfDomains = registry();
      try {
        log(`scale: ${label}, ${domainsCount + 1} domains (${domainsCount} and the template's): generating`);
        const generated = await generateDomains({ storage: registryOfDomains.storage, prefix: 'domain', count: domainsCount, fsRoot: registryOfDomains.fsRoot, concurrency: backend === 'fs' ? 64 : 32, work });
        const listed = await scenario('domains', { ...registryOfDomains.open, work: path.join(work, `domains-${runs++}`), expectedFile: expectedFile(generated.domains) });
        backendResults.domains = { count: generated.domains.length, generateSeconds: generated.seconds, ...listed };
        progress(results);
        rows.push([
          `at scale, ${generated.domains.length.toLocaleString('en-US')} domains, ${label}`,
          'listDomains',
          listed.seconds.toFixed(3),
          '-',
          '-',
          '-',
          '-',
          `${listed.requests} storage requests; generated in ${generated.seconds.toFixed(0)} s`,
        ]);
        budgets.push([label, `${generated.domains.length} domains`, 'listDomains (requests)', `${listed.requests}`, `≤ ${scaleBudgets.listDomains}`, listed.requests <= scaleBudgets.listDomains ? 'yes' : '**no**']);
      } finally {
        registryOfDomains.close();
      }
    }
  }

  // Interop: a domain Python modelstore grew (no index of ours), read by this library.
  if (python) {
    pythonCount ??= quick ? 500 : 100_000;
    const root = mkdtempSync(path.join(work, 'scale-python-'));
    try {
      log(`scale: Python-grown domain of ${pythonCount} models: generating`);
      const generated = await generatePythonDomain({ root, domain: 'python-grown', count: pythonCount, python, work });
      const open = { backend: 'fs', root };
      const check = { domain: 'python-grown', expectedFile: expectedFile(generated.ids), sample: [generated.ids[0], generated.ids[1], generated.ids.at(-1)] };
      // Before any compaction a page is the whole listing sliced (the next page as costly as
      // the first, not measured then); with `pythonPagesBefore: false` (pnpm bench) only the whole list.
      const before = await scenario('reads', { ...open, work: path.join(work, `reads-${runs++}`), ...check, skipNextPage: true, skipPages: !pythonPagesBefore });
      const compaction = await scenario('compact', { ...open, work: path.join(work, `compact-${runs++}`), domain: 'python-grown' });
      const after = compaction.available ? await scenario('reads', { ...open, work: path.join(work, `reads-${runs++}`), ...check }) : undefined;
      results.python = { count: pythonCount, generateSeconds: generated.seconds, before, compaction, after };
      progress(results);
      const group = `at scale, ${pythonCount.toLocaleString('en-US')} models Python grew (no index), file system`;
      const readRows = (reads, when) => {
        const pageNote = reads.paging ? '' : 'no paging in this build: the whole list; ';
        if (reads.firstPage) rows.push([group, `listModels first page of 50${when}`, reads.firstPage.seconds.toFixed(3), '-', '-', '-', '-', `${pageNote}${reads.firstPage.requests} storage requests`]);
        if (reads.nextPage) rows.push([group, `listModels next page of 50${when}`, reads.nextPage.seconds.toFixed(3), '-', '-', '-', '-', `${reads.nextPage.requests} storage requests`]);
        rows.push([
          group,
          `listModels, the whole list${when}`,
          reads.whole.seconds.toFixed(3),
          '-',
          '-',
          '-',
          '-',
          `${reads.whole.requests} storage requests, ${reads.whole.count} ids in Python's order; generated in ${generated.seconds.toFixed(0)} s`,
        ]);
      };
      readRows(before, '');
      if (compaction.available) {
        rows.push([group, 'compactIndex (first, builds the index)', compaction.seconds.toFixed(3), '-', '-', '-', '-', `${compaction.requests} storage requests, ${compaction.writes} writes`]);
        readRows(after, ', after compactIndex');
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }

  const seconds = (performance.now() - started) / 1000;
  results.seconds = seconds;
  return { rows, budgets, results, seconds };
}

export function budgetTable(budgets) {
  const header = ['backend', 'models', 'budget', 'measured', 'target', 'holds'];
  return [header, header.map(() => '---'), ...budgets].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

// Alone: its own MinIO, prints the rows and the budgets, writes bench/scale-results.json.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { startMinio, ensurePythonEnv } = await import('@modelstore/test-servers');
  const option = (name) => {
    const at = process.argv.indexOf(name);
    return at === -1 ? undefined : process.argv[at + 1];
  };
  const quick = process.argv.includes('--quick');
  const backends = option('--backends')?.split(',') ?? ['fs', 'minio'];
  const minio = backends.includes('minio') ? await startMinio({ buckets: ['bench'] }) : undefined;
  const work = mkdtempSync(path.join(os.tmpdir(), 'modelstore-scale-'));
  try {
    const section = await scaleSection({
      minio,
      work,
      quick,
      backends,
      sizes: option('--sizes')?.split(',').map(Number),
      domainsCount: option('--domains') ? Number(option('--domains')) : undefined,
      python: process.argv.includes('--no-python') ? undefined : (await ensurePythonEnv()).python,
      pythonCount: option('--python-models') ? Number(option('--python-models')) : undefined,
      sequential: option('--sequential') ? Number(option('--sequential')) : undefined,
      concurrentRounds: option('--rounds') ? Number(option('--rounds')) : undefined,
      log: (line) => console.error(line),
      // What was measured so far survives a run stopped midway.
      progress: (results) => writeFileSync(path.join(here, quick ? 'scale-results-quick.json' : 'scale-results.json'), `${JSON.stringify({ partial: true, results }, null, 2)}\n`),
    });
    const header = ['scenario', 'operation', 'seconds (median)', 'spread', 'MiB/s', 'speed vs baseline', 'peak RSS MiB', 'notes'];
    console.log([header, header.map(() => '---'), ...section.rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n'));
    console.log(`\n${budgetTable(section.budgets)}\n\nscale section: ${section.seconds.toFixed(0)} s`);
    writeFileSync(path.join(here, quick ? 'scale-results-quick.json' : 'scale-results.json'), `${JSON.stringify(section, null, 2)}\n`);
  } finally {
    // The work folder first: a close that never settles would end the process before it.
    rmSync(work, { recursive: true, force: true });
    await minio?.close();
  }
}
