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
 * Parameters. Sizes are of object bodies (what a GET returns, what a PUT sends; LIST
 * responses are not counted, as CountingStorage counts bodies read), measured on this
 * code: a `versions/<id>.json` of an upload of a 1-byte file (981 B on the file system),
 * an entry of the single index (about 215 B a model: id, time, etag, size, library in
 * four maps), a LIST page of at most 1,000 keys (S3's and our file system's).
 * The append-only index's tunables (`log`) are read from core (`indexSettings` of
 * `dist/registry/index-log.js`) when the build has it: see {@link loadCoreSettings}.
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
  /** What those read: the pointer and the previous latest model's document. */
  uploadBaseBytesRead: 2 * 981,
  /** A domain pointer (`domains/<d>.json`): one model document. */
  pointerBytes: 981,
  log: {
    /** Ids per checkpoint part (core: indexSettings.partSize). */
    partSize: 2000,
    /** Log length from which compaction is due (core: indexSettings.compactAt). */
    compactAt: 500,
    /** Chance that an append lists the log to see whether compaction is due (core: indexSettings.checkChance). */
    checkChance: 1 / 16,
    /** A log entry's body (`{ id, kind, time, tag, size, library }`). */
    entryBytes: 120,
    /** A part's row per model: `["<uuid>",<ms>,"<11-char tag>",<size>,"<library>"],` */
    partBytesPerModel: 88,
    /** The pointer's line per part (`{ key, count, first, last }`), and its fixed part. */
    pointerBytesPerPart: 170,
    pointerBytesFixed: 80,
  },
  /** Where `log` came from. */
  source: 'the design (core not built with the append-only index)',
};

/** Reads the append-only index's tunables from core's build, when it has them. */
export async function loadCoreSettings() {
  const { coreIndexLog } = await import('./scale-generate.mjs');
  const module = await coreIndexLog();
  if (!module?.indexSettings) return false;
  const { partSize, compactAt, checkChance } = module.indexSettings;
  Object.assign(parameters.log, { partSize, compactAt, checkChance });
  parameters.source = `core's indexSettings (partSize ${partSize}, compactAt ${compactAt}, checkChance 1/${Math.round(1 / checkChance)})`;
  return true;
}

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

/**
 * The append-only log + checkpoint parts (core's index-log.ts), per operation at N models
 * (D domains). A checkpoint of P = ceil(N / partSize) parts; a tail of at most about
 * compactAt entries (the log is compacted when an append that checks finds it that long).
 */
export function appendOnly(N, D = N, writers = 25, tail, legacy = false) {
  const p = parameters;
  const l = p.log;
  const parts = (count) => Math.max(1, Math.ceil(count / l.partSize));
  const pointer = (count) => l.pointerBytesFixed + parts(count) * l.pointerBytesPerPart;
  const part = Math.min(N, l.partSize) * l.partBytesPerModel;
  // The tail when compaction runs: compactAt, plus the appends until one checks (1/checkChance on average).
  const T = tail ?? l.compactAt + Math.round(1 / l.checkChance);
  // An automatic compaction: the pointer (read to decide on reconciling), then the whole
  // index state — the log's LIST, the pointer, EVERY part — then the newest part rewritten
  // with the tail (split into full parts), the pointer swapped, the folded entries
  // deleted, and the checkpoint folder listed for unnamed parts.
  const rewritten = Math.ceil((Math.min(N, l.partSize) + T) / l.partSize);
  const compaction = {
    requests: 1 + pages(T) + 1 + parts(N) + rewritten + 1 + T + pages(parts(N)),
    bytesRead: 2 * pointer(N) + N * l.partBytesPerModel,
    bytesWritten: (Math.min(N, l.partSize) + T) * l.partBytesPerModel + pointer(N),
  };
  // A reconciling one (explicit compactIndex, or the hourly automatic one) lists versions/
  // too, and reads the first index's document (N × 215 B in a registry that had one, as
  // the generated ones do; `legacy`).
  const reconciling = { requests: compaction.requests + pages(N) + 1, bytesRead: compaction.bytesRead + (legacy ? N * p.singleIndexBytesPerModel : 0), bytesWritten: compaction.bytesWritten };
  // An upload: the base, its log entry, the domains log entry (its pointer moved), and
  // with checkChance a LIST of each log.
  const upload = { requests: p.uploadBase + 2 + 2 * l.checkChance, bytesRead: p.uploadBaseBytesRead, bytesWritten: p.archiveBytes + 2 * p.documentBytes + 2 * l.entryBytes };
  return {
    upload,
    // Amortized: one automatic compaction per T uploads.
    uploadAmortized: { requests: upload.requests + compaction.requests / T, bytesRead: upload.bytesRead + compaction.bytesRead / T, bytesWritten: upload.bytesWritten + compaction.bytesWritten / T },
    concurrentUploads: { requests: writers * upload.requests, bytesRead: writers * upload.bytesRead, bytesWritten: writers * upload.bytesWritten },
    compaction,
    reconcilingCompaction: reconciling,
    // The log's LIST, the pointer, the part the page starts in (two when it crosses a boundary).
    firstPage: { requests: 3, bytesRead: pointer(N) + part },
    nextPage: { requests: 3, bytesRead: pointer(N) + part },
    // versions/ listed (the truth), plus the index whole: the log's LIST, the pointer, every part.
    wholeList: { requests: pages(N) + 2 + parts(N), bytesRead: pointer(N) + N * l.partBytesPerModel },
    // domains/ listed, plus the index of domains whole (a domain's row is about the size of a model's).
    listDomains: { requests: pages(D) + 2 + parts(D), bytesRead: pointer(D) + D * l.partBytesPerModel },
  };
}

const human = (bytes) =>
  bytes === undefined ? '-' : bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${Math.round(bytes)} B`;
const count = (value) => (value === undefined ? '-' : Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(1));

export function modelTable(sizes = [1e4, 1e5, 1e6, 1e7]) {
  const lines = [['index', 'operation', ...sizes.map((n) => `${n.toExponential(0).replace('e+', '×10^')} models`)]];
  const ops = [
    ['upload', 'upload (one, sequential)'],
    ['uploadAmortized', 'upload + its share of compaction'],
    ['concurrentUploads', '25 concurrent uploads (all of them)'],
    ['compaction', 'compaction (one, automatic)'],
    ['reconcilingCompaction', 'compaction reconciling with versions/ (hourly or compactIndex)'],
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
        lines.push([
          backend,
          N.toLocaleString('en-US'),
          `${operation} (${name})`,
          `${count(modelled.requests)} req, ${human(modelled.bytesRead)}`,
          `${got.requests} req, ${human(got.bytesRead)}`,
          `${(got.requests / modelled.requests).toFixed(2)} req, ${modelled.bytesRead ? (got.bytesRead / modelled.bytesRead).toFixed(2) : '-'} bytes`,
        ]);
      };
      add('first page of 50', model.firstPage, reads.firstPage);
      add('next page of 50', model.nextPage, reads.nextPage);
      add('the whole list', model.wholeList, reads.whole);
      const uploads = measured.uploads?.[size];
      if (uploads?.requests !== undefined) add('upload (sequential, after the N)', model.upload, { requests: uploads.requests, bytesRead: uploads.bytesRead });
      // compactIndex after the uploads: a reconciling compaction of their tail.
      const compaction = measured.compactions?.[size];
      if (compaction?.available && reads.paging) add(`compactIndex, a tail of ${compaction.tail}`, appendOnly(N, N, 25, compaction.tail, true).reconcilingCompaction, compaction);
    }
    if (measured.domains) {
      const D = measured.domains.count;
      const model = measured.reads && Object.values(measured.reads)[0]?.paging ? appendOnly(D, D) : singleIndex(D, D);
      lines.push([
        backend,
        `${D.toLocaleString('en-US')} domains`,
        'listDomains',
        `${count(model.listDomains.requests)} req`,
        `${measured.domains.requests} req`,
        `${(measured.domains.requests / model.listDomains.requests).toFixed(2)} req`,
      ]);
    }
  }
  return [lines[0], lines[0].map(() => '---'), ...lines.slice(1)].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await loadCoreSettings();
  console.log(`Requests and bytes per operation (model; append-only parameters from ${parameters.source}):\n`);
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
