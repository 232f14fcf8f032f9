// The simulation model of the registry at scale: storage requests and bytes per
// operation (upload, compaction, first page, next page, the whole list, listDomains) at
// 10^4 … 10^7 models per domain (and as many domains), for
//   - "single index": one `<domain>/modelstore-index.json` that every upload reads and
//     rewrites by compare-and-swap (the index core had before the append-only log), and
//   - "append-only log": a create-only log entry per upload, folded by compaction into a
//     checkpoint of newest-first parts named by a manifest, behind a small pointer.
// Derived from the parameters below; then, when a scale run's results exist
// (bench/results.json's `scale`, or bench/scale-results.json from `node bench/scale.mjs`),
// checked against the measured requests and bytes at the measured sizes.
//
// Usage: node bench/scale-model.mjs [results.json] [--markdown]
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * Parameters. Sizes are of object bodies (what a GET returns, what a PUT sends), measured
 * on this code: a `versions/<id>.json` of an upload of a 1-byte file (981 B on the file
 * system), an entry of the single index (about 215 B a model: id, time, etag, size,
 * library in four maps), a LIST page of at most 1,000 keys (S3's and our file system's).
 */
export const parameters = {
  listPage: 1000,
  documentBytes: 981,
  archiveBytes: 160,
  singleIndexBytesPerModel: 215,
  /** The requests of an upload besides the index: head of the id and of its deleted
   * state, the archive, the document, the domain pointer read, the previous latest's
   * document read, the pointer's compare-and-swap. */
  uploadBase: 7,
  /** The pointer read by an upload (the previous latest model's document and the pointer). */
  uploadBaseBytesRead: 2 * 981,
  /** The append-only log (the design's numbers until core's are read: see `fromCore`). */
  log: {
    entryBytes: 200,
    /** Ids per checkpoint part. */
    partSize: 1000,
    /** Bytes per id in a part (id, time, etag, size, library). */
    partBytesPerModel: 160,
    /** A manifest line per part (key, count, newest and oldest time). */
    manifestBytesPerPart: 120,
    /** Compaction when the tail exceeds this many entries. */
    compactionThreshold: 1000,
    /** Requests an upload spends on the log besides the entry: noticing the tail's length (a LIST of the log). */
    uploadNotice: 1,
    pointerBytes: 200,
  },
  /** A domain pointer (`domains/<d>.json`): one model document. */
  pointerBytes: 981,
};

const pages = (count) => Math.max(1, Math.ceil(count / parameters.listPage));

/** Today's single index, per operation at N models (D domains for listDomains). */
export function singleIndex(N, D = N, writers = 25) {
  const p = parameters;
  const index = N * p.singleIndexBytesPerModel;
  return {
    upload: { requests: p.uploadBase + 2, bytesRead: p.uploadBaseBytesRead + index, bytesWritten: p.archiveBytes + 2 * p.documentBytes + index },
    // W writers on one document: each round one wins; the others re-read and rewrite:
    // W(W+1)/2 attempts in all, each a read and a write of the index.
    concurrentUploads: { requests: writers * p.uploadBase + writers * (writers + 1), bytesRead: ((writers * (writers + 1)) / 2) * index, bytesWritten: ((writers * (writers + 1)) / 2) * index },
    compaction: undefined,
    // No paging: any page is the whole list.
    firstPage: { requests: pages(N) + 1, bytesRead: index },
    nextPage: { requests: pages(N) + 1, bytesRead: index },
    wholeList: { requests: pages(N) + 1, bytesRead: index },
    // Each domain's pointer read and the document it names checked (a HEAD).
    listDomains: { requests: pages(D) + 2 * D, bytesRead: D * p.pointerBytes },
  };
}

/** The append-only log + checkpoints, per operation at N models (D domains). */
export function appendOnly(N, D = N, writers = 25) {
  const p = parameters;
  const l = p.log;
  const T = l.compactionThreshold;
  const parts = Math.ceil(N / l.partSize);
  const manifest = parts * l.manifestBytesPerPart;
  const part = Math.min(N, l.partSize) * l.partBytesPerModel;
  // Compaction folds a tail of T entries: list the log, read the pointer, the manifest and
  // the newest part, write the new newest part(s) and manifest, swap the pointer, delete the
  // folded entries; and lists versions/ to reconcile models the log never saw (Python's).
  const compaction = {
    requests: pages(T) + 3 + Math.ceil(T / l.partSize) + 1 + 1 + 1 + T + pages(N),
    bytesRead: l.pointerBytes + manifest + part,
    bytesWritten: (T + l.partSize) * l.partBytesPerModel + manifest + l.pointerBytes,
  };
  const upload = { requests: p.uploadBase + 1 + l.uploadNotice, bytesRead: p.uploadBaseBytesRead, bytesWritten: p.archiveBytes + 2 * p.documentBytes + l.entryBytes };
  return {
    upload,
    // Amortized: one compaction per T uploads.
    uploadAmortized: { requests: upload.requests + compaction.requests / T, bytesRead: upload.bytesRead + compaction.bytesRead / T, bytesWritten: upload.bytesWritten + compaction.bytesWritten / T },
    concurrentUploads: { requests: writers * upload.requests, bytesRead: writers * upload.bytesRead, bytesWritten: writers * upload.bytesWritten },
    compaction,
    // Pointer, manifest, newest part, the tail's LIST, the deleted state's LIST.
    firstPage: { requests: 5, bytesRead: l.pointerBytes + manifest + part },
    // The cursor names the part: one GET (plus the tail and deleted LISTs to stay exact).
    nextPage: { requests: 3, bytesRead: part },
    // versions/ listed (the truth) plus the checkpoint for times.
    wholeList: { requests: pages(N) + 2 + parts + 1, bytesRead: l.pointerBytes + manifest + N * l.partBytesPerModel },
    // A registry-level checkpoint of domains (D entries) + the LIST of domains/ for Python's.
    listDomains: { requests: 3 + Math.ceil(D / l.partSize) + pages(D), bytesRead: l.pointerBytes + Math.ceil(D / l.partSize) * l.manifestBytesPerPart + D * l.partBytesPerModel },
  };
}

const human = (bytes) => (bytes === undefined ? '-' : bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${Math.round(bytes)} B`);
const count = (value) => (value === undefined ? '-' : Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(1));

export function modelTable(sizes = [1e4, 1e5, 1e6, 1e7]) {
  const lines = [['index', 'operation', ...sizes.map((n) => `${n.toExponential(0).replace('e+', '×10^')} models`)]];
  const ops = [
    ['upload', 'upload (one, sequential)'],
    ['uploadAmortized', 'upload + its share of compaction'],
    ['concurrentUploads', '25 concurrent uploads (all of them)'],
    ['compaction', 'compaction (one)'],
    ['firstPage', 'first page of 50'],
    ['nextPage', 'next page of 50'],
    ['wholeList', 'the whole list'],
    ['listDomains', 'listDomains (as many domains)'],
  ];
  for (const [name, model] of [
    ['single index', singleIndex],
    ['append-only log', appendOnly],
  ]) {
    for (const [op, label] of ops) {
      const cells = sizes.map((n) => model(n)[op]);
      if (cells.every((cell) => cell === undefined)) continue;
      lines.push([name, label, ...cells.map((cell) => (cell ? `${count(cell.requests)} req, ${human(cell.bytesRead)} read${cell.bytesWritten === undefined ? '' : `, ${human(cell.bytesWritten)} written`}` : '-'))]);
    }
  }
  return [lines[0], lines[0].map(() => '---'), ...lines.slice(1)].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** Model against a scale run's measurements (requests, bytes read) at the sizes it measured. */
export function checkAgainst(section) {
  const lines = [['backend', 'models', 'operation', 'model', 'measured', 'measured / model']];
  const results = section.results ?? section;
  for (const [backend, measured] of Object.entries(results.backends ?? {})) {
    for (const [size, reads] of Object.entries(measured.reads ?? {})) {
      const N = Number(size);
      const model = reads.paging ? appendOnly(N) : singleIndex(N);
      const name = reads.paging ? 'append-only log' : 'single index';
      const add = (operation, modelled, got) => {
        if (!modelled || !got) return;
        lines.push([backend, N.toLocaleString('en-US'), `${operation} (${name})`, `${count(modelled.requests)} req, ${human(modelled.bytesRead)}`, `${got.requests} req, ${human(got.bytesRead)}`, `${(got.requests / modelled.requests).toFixed(2)} req, ${modelled.bytesRead ? (got.bytesRead / modelled.bytesRead).toFixed(2) : '-'} bytes`]);
      };
      add('first page of 50', model.firstPage, reads.firstPage);
      add('next page of 50', model.nextPage, reads.nextPage);
      add('the whole list', model.wholeList, reads.whole);
      const uploads = measured.uploads?.[size];
      if (uploads?.requests !== undefined) add('upload (sequential, after the N)', model.upload, { requests: uploads.requests, bytesRead: uploads.bytesRead });
    }
    if (measured.domains) {
      const D = measured.domains.count;
      const model = measured.reads && Object.values(measured.reads)[0]?.paging ? appendOnly(D, D) : singleIndex(D, D);
      lines.push([backend, `${D.toLocaleString('en-US')} domains`, 'listDomains', `${count(model.listDomains.requests)} req`, `${measured.domains.requests} req`, `${(measured.domains.requests / model.listDomains.requests).toFixed(2)} req`]);
    }
  }
  return [lines[0], lines[0].map(() => '---'), ...lines.slice(1)].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log('Requests and bytes per operation (model):\n');
  console.log(modelTable());
  const given = process.argv.slice(2).find((argument) => !argument.startsWith('--'));
  const candidates = given ? [given] : [path.join(here, 'results.json'), path.join(here, 'scale-results.json')];
  for (const file of candidates) {
    if (!existsSync(file)) continue;
    const loaded = JSON.parse(readFileSync(file, 'utf8'));
    const section = loaded.scale ?? loaded;
    if (!section.results && !section.backends) continue;
    console.log(`\nModel against the measurements in ${path.relative(process.cwd(), file)}:\n`);
    console.log(checkAgainst(section));
    break;
  }
}
