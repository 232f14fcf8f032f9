// Fast generators of big registries, for the scale section of `pnpm bench`.
//
// generateDomain: a domain of N models in OUR layout, exactly what N uploads of a 1-byte
// file write: one real upload (ModelStore + RawAdapter) is the template, whose
// `versions/<id>.json` is rewritten N − 1 times (model id, `created`, `created_at`, the
// archive folder, `upload_id`) and whose archive (identical bytes: the archive holds no
// id or time) is written beside each; the domain pointer names the newest model, and the
// index is what core keeps: the creation index document with every model's etag, time,
// size and library, then — when core has `compactIndex` — one compaction, which folds
// it into core's current index format. Models are one second apart, the oldest at
// 2026-01-01T00:00:00Z; the template (uploaded now) is the newest.
//
// generateDomains: N domains of one model each (for listDomains), the same way; with
// core's index of domains (log entries by core's own module, then one compaction) when
// this build of core has one.
//
// On the file system the objects are written with plain file writes (no fsync: a
// benchmark fixture, not a registry that must survive a power cut); through any other
// Storage with `put`, many at once.
//
// Usage alone: node bench/scale-generate.mjs <root folder> <domain> <count>
import { RawAdapter } from '@modelstore/adapter-raw';
import { ModelStore } from '@modelstore/core';
import { archiveFolder, createdStamp, layout } from '@modelstore/core/internal';
import { FileSystemStorage } from '@modelstore/storage-fs';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

/** The oldest generated model's creation time. */
export const generatedEpoch = Date.UTC(2026, 0, 1);

/** A uuid4-shaped id, fixed by `seed` (so runs repeat), not ordered like the times. */
export function generatedId(seed) {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${'89ab'[Number.parseInt(hex[16], 16) % 4]}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Runs `work(i)` for i in [0, count) with `concurrency` at once. */
export async function forEachConcurrently(count, concurrency, work) {
  let next = 0;
  const runner = async () => {
    while (next < count) {
      const i = next++;
      await work(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, runner));
}

/** A 1-byte file to upload (in `folder`). */
export function oneByteFile(folder) {
  mkdirSync(folder, { recursive: true });
  const file = path.join(folder, 'one.bin');
  writeFileSync(file, 'x');
  return file;
}

/** Reads a whole object of `storage` as a Buffer. */
async function readAll(storage, key) {
  const object = await storage.get(key);
  if (!object) throw new Error(`generator: ${key} is missing after the template upload`);
  const chunks = [];
  for await (const chunk of object.body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Every object under `prefix` (all list pages). */
export async function listAll(storage, prefix) {
  const objects = [];
  let cursor;
  do {
    const page = await storage.list(prefix, cursor ? { cursor } : {});
    objects.push(...page.objects);
    cursor = page.cursor;
  } while (cursor);
  return objects;
}

/** The template: one real upload of a 1-byte file into `domain`; its document text and archive bytes. */
async function template(storage, domain, work) {
  const store = new ModelStore({ storage, adapters: [new RawAdapter()], cacheDir: path.join(work, 'cache') });
  const metadata = await store.upload(domain, { model: oneByteFile(path.join(work, 'template-file')) });
  const id = metadata.model.model_id;
  const created = new Date(metadata.code.created_at);
  const text = (await readAll(storage, layout.version(domain, id))).toString('utf8');
  const archive = await readAll(storage, layout.archive(domain, created, id));
  return { metadata, id, created, text, archive };
}

/** The template's document for another model id / time / domain (every occurrence rewritten). */
function rewrite(t, { id, at, domain, fromDomain }) {
  let text = t.text
    .replaceAll(t.id, id)
    .replaceAll(`"created":"${createdStamp(t.created)}"`, `"created":"${createdStamp(at)}"`)
    .replaceAll(`"created_at":"${t.created.toISOString()}"`, `"created_at":"${at.toISOString()}"`)
    .replaceAll(`/${archiveFolder(t.created)}/`, `/${archiveFolder(at)}/`)
    .replaceAll(t.metadata.archive.upload_id, generatedId(`upload-${id}`));
  if (domain !== fromDomain) text = text.replaceAll(`"domain":"${fromDomain}"`, `"domain":"${domain}"`).replaceAll(`/${fromDomain}/`, `/${domain}/`);
  return text;
}

/** Core's append-only index module (`dist/registry/index-log.js`), when this build of core has one; else undefined. */
export async function coreIndexLog() {
  const file = path.join(path.dirname(createRequire(import.meta.url).resolve('@modelstore/core')), 'registry', 'index-log.js');
  return existsSync(file) ? import(pathToFileURL(file).href) : undefined;
}

/** A writer of objects: plain file writes under `fsRoot`, else the Storage's `put`. */
function writer(storage, fsRoot) {
  if (!fsRoot) return (key, body) => storage.put(key, body);
  const made = new Set();
  return async (key, body) => {
    const file = path.join(fsRoot, key);
    const folder = path.dirname(file);
    if (!made.has(folder)) {
      await mkdir(folder, { recursive: true });
      made.add(folder);
    }
    await writeFile(file, body);
  };
}

/** Writes the creation index document (today's format) for every listed model of `domain`; then `compactIndex` when core has it. */
async function writeIndex(storage, store, domain, times, sizes, library) {
  const listed = await listAll(storage, layout.versions(domain));
  const models = {};
  const etags = {};
  const sizeOf = {};
  const libraries = {};
  for (const object of listed) {
    const rest = object.key.slice(layout.versions(domain).length);
    if (rest.includes('/') || !rest.endsWith('.json')) continue;
    const id = rest.slice(0, -'.json'.length);
    if (!times.has(id)) continue;
    models[id] = times.get(id);
    etags[id] = object.etag;
    sizeOf[id] = sizes;
    libraries[id] = library;
  }
  await storage.put(layout.index(domain), JSON.stringify({ models, etags, sizes: sizeOf, libraries }));
  if (typeof store.compactIndex === 'function') await store.compactIndex(domain);
}

/**
 * A domain of `count` models (count ≥ 1) in `storage` (pass `fsRoot` when it is a
 * FileSystemStorage of that root, for plain file writes).
 * @returns { ids (newest first, the exact order listModels must give), seconds }
 */
export async function generateDomain({ storage, domain, count, fsRoot, concurrency = 64, work }) {
  const started = performance.now();
  const scratch = mkdtempSync(path.join(work ?? os.tmpdir(), 'generate-'));
  try {
    const t = await template(storage, domain, scratch);
    const write = writer(storage, fsRoot);
    const ids = new Array(count - 1);
    const times = new Map([[t.id, t.created.getTime()]]);
    await forEachConcurrently(count - 1, concurrency, async (i) => {
      const id = generatedId(`${domain}-${i}`);
      const at = new Date(generatedEpoch + i * 1000);
      ids[i] = id;
      times.set(id, at.getTime());
      await write(layout.archive(domain, at, id), t.archive);
      await write(layout.version(domain, id), rewrite(t, { id, at, domain, fromDomain: domain }));
    });
    const written = performance.now();
    const store = new ModelStore({ storage, cacheDir: path.join(scratch, 'cache') });
    await writeIndex(storage, store, domain, times, t.metadata.archive.size, t.metadata.model.model_type.library);
    const now = performance.now();
    return { ids: [t.id, ...ids.reverse()], templateId: t.id, seconds: (now - started) / 1000, writeSeconds: (written - started) / 1000, indexSeconds: (now - written) / 1000 };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * `count` domains (`<prefix>-<i>`, zero-padded) of one model each, plus the template's
 * domain `<prefix>-template` (so count + 1 domains in all).
 * @returns { domains (sorted), seconds }
 */
export async function generateDomains({ storage, prefix, count, fsRoot, concurrency = 64, work }) {
  const started = performance.now();
  const scratch = mkdtempSync(path.join(work ?? os.tmpdir(), 'generate-'));
  try {
    const fromDomain = `${prefix}-template`;
    const t = await template(storage, fromDomain, scratch);
    const write = writer(storage, fsRoot);
    const domains = [];
    await forEachConcurrently(count, concurrency, async (i) => {
      const domain = `${prefix}-${String(i).padStart(6, '0')}`;
      const id = generatedId(domain);
      const at = new Date(generatedEpoch + i * 1000);
      domains.push(domain);
      const text = rewrite(t, { id, at, domain, fromDomain });
      await write(layout.archive(domain, at, id), t.archive);
      await write(layout.version(domain, id), text);
      await write(layout.domain(domain), text);
    });
    // Core's index of domains (when this build has one): what each upload that moved a
    // pointer records — one log entry with the pointer's version — appended by core's
    // own module, then folded by core's compaction, as the uploads' automatic compactions would.
    const indexLog = await coreIndexLog();
    if (indexLog) {
      const root = layout.domainsIndexRoot();
      const times = new Map(domains.map((domain) => [domain, generatedEpoch + Number(domain.slice(prefix.length + 1)) * 1000]));
      const pointers = (await listAll(storage, layout.domains())).filter((object) => times.has(object.key.slice(layout.domains().length, -'.json'.length)));
      await forEachConcurrently(pointers.length, concurrency, async (i) => {
        const domain = pointers[i].key.slice(layout.domains().length, -'.json'.length);
        await indexLog.appendLog(storage, root, 'a', { id: domain, time: times.get(domain), tag: indexLog.tagOf(pointers[i].etag) });
      });
      await indexLog.compactIndexLog(storage, root);
    }
    return { domains: [...domains, fromDomain].sort(), seconds: (performance.now() - started) / 1000 };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * A domain of `count` models as Python modelstore grows it, on the file system, WITHOUT
 * this library's index: the real Python modelstore (`python`, a venv with modelstore)
 * uploads one 1-byte file (the sample, the newest model); its `versions/<id>.json` is
 * rewritten count − 1 times as Python writes one — a uuid4 model id, `code.created`
 * (`YYYY/MM/DD/HH:MM:SS`, the writer's local time: UTC here) and the archive folder
 * (`YYYY.MM.DD-HH.MM.SS`) of the same instant, its `json.dumps` spacing kept — with the
 * document's modification time set to that instant (as when Python wrote it then), and
 * the sample's archive beside each (its bytes unchanged: Python's archive holds no id,
 * only the sample's tar member times). Models one second apart from {@link generatedEpoch}.
 * @returns { ids (newest first), seconds }
 */
export async function generatePythonDomain({ root, domain, count, python, concurrency = 64, work }) {
  const started = performance.now();
  const scratch = mkdtempSync(path.join(work ?? os.tmpdir(), 'generate-python-'));
  try {
    const file = oneByteFile(path.join(scratch, 'file'));
    const script = 'import json, sys\nfrom modelstore import ModelStore\nstore = ModelStore.from_file_system(sys.argv[1], create_directory=True)\nmeta = store.upload(sys.argv[2], model=sys.argv[3])\nprint(json.dumps(meta))';
    const printed = execFileSync(python, ['-c', script, root, domain, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const sample = JSON.parse(printed.trim().split('\n').pop());
    const sampleId = sample.model.model_id;
    const stamp = sample.code.created;
    const [, y, mo, d, h, mi, sec] = /^(\d{4})\/(\d{2})\/(\d{2})\/(\d{2}):(\d{2}):(\d{2})$/.exec(stamp).map(Number);
    const sampleAt = new Date(Date.UTC(y, mo - 1, d, h, mi, sec));
    const text = await readFile(path.join(root, layout.version(domain, sampleId)), 'utf8');
    const archive = await readFile(path.join(root, layout.archive(domain, sampleAt, sampleId)));
    const write = writer(undefined, root);
    const ids = new Array(count - 1);
    await forEachConcurrently(count - 1, concurrency, async (i) => {
      const id = generatedId(`python-${domain}-${i}`);
      const at = new Date(generatedEpoch + i * 1000);
      ids[i] = id;
      const document = text
        .replaceAll(sampleId, id)
        .replaceAll(`"created": "${stamp}"`, `"created": "${createdStamp(at)}"`)
        .replaceAll(`/${archiveFolder(sampleAt)}/`, `/${archiveFolder(at)}/`);
      await write(layout.archive(domain, at, id), archive);
      const key = path.join(root, layout.version(domain, id));
      await write(layout.version(domain, id), document);
      await utimes(key, at, at);
    });
    return { ids: [sampleId, ...ids.reverse()], sampleId, seconds: (performance.now() - started) / 1000 };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

// Alone: generate a domain on the file system and check it.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [root, domain, count] = process.argv.slice(2);
  if (!root || !domain || !count) {
    console.error('usage: node bench/scale-generate.mjs <root folder> <domain> <count>');
    process.exit(2);
  }
  const storage = new FileSystemStorage({ root: path.resolve(root) });
  const { ids, seconds } = await generateDomain({ storage, domain, count: Number(count), fsRoot: path.resolve(root) });
  console.log(`${ids.length} models in ${domain} in ${seconds.toFixed(1)} s`);
}
