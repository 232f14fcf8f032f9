// A worker of the index reliability tests (test/index-reliability.test.ts), on a file
// system registry. Compactions are made frequent (a log of 8 entries is due, every
// append checks) so that kills and races land in them.
//   churn <root> <domain> <journal> <seed>: uploads (and now and then deletes) models,
//     compacting explicitly every few operations, until killed. Before each operation it
//     appends `upload <id>` / `delete <id>` / `compact` to the journal, synchronously, and
//     `done <id>` / `deleted <id>` / `compacted` after it; and before each write of a
//     compaction (its own or one an upload runs) `part`, `pointer` or `fold`.
//   write <root> <domain> <count> <tag> <startAt>: uploads <count> models, prints their ids as JSON.
//   compact <root> <domain> <stopFile>: compacts the domain's index in a loop until
//     <stopFile> exists, prints how many compactions it published as JSON.
import { appendFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ModelStore } from '@modelstore/core';
import { indexSettings } from '@modelstore/core/internal';
import { RawAdapter } from '@modelstore/adapter-raw';
import { FileSystemStorage } from '@modelstore/storage-fs';

const [mode, root, domain, ...rest] = process.argv.slice(2);
indexSettings.compactAt = 8;
indexSettings.checkChance = 1;
indexSettings.partSize = 16;
const scratch = mkdtempSync(path.join(tmpdir(), 'modelstore-index-worker-'));
const journalOf = mode === 'churn' ? rest[0] : undefined;
/** The storage; in churn mode each write of a compaction (a part, the pointer, a folded log entry's removal) is journalled first and delayed 15 ms. */
function storageOf() {
  const storage = new FileSystemStorage({ root });
  if (journalOf === undefined) return storage;
  const kind = (method, key) =>
    method === 'put' && key.includes('/modelstore-index/checkpoint/') ? 'part' : method === 'put' && key.endsWith('/_last_checkpoint') ? 'pointer' : method === 'delete' && key.includes('/modelstore-index/') ? 'fold' : undefined;
  return new Proxy(storage, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (typeof value !== 'function') return value;
      return async (key, ...args) => {
        const what = kind(property, key);
        if (what) {
          appendFileSync(journalOf, `${what}\n`);
          // A slow store: widens each compaction so that kills land inside it often.
          await new Promise((resolve) => setTimeout(resolve, 15));
        }
        return value.call(target, key, ...args);
      };
    },
  });
}
const store = new ModelStore({ storage: storageOf(), adapters: [new RawAdapter()], cacheDir: path.join(scratch, 'cache') });
const modelFile = path.join(scratch, 'model.bin');
writeFileSync(modelFile, Buffer.alloc(4096, 7));

if (mode === 'churn') {
  const [journal, seedText] = rest;
  // A single writer: nothing else compacts meanwhile, so folded tombstones and unnamed parts may go at once.
  indexSettings.graceMs = 0;
  let seed = Number(seedText) >>> 0;
  const random = () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  const note = (line) => appendFileSync(journal, `${line}\n`);
  const live = (await store.listModels(domain).catch(() => [])).slice();
  for (let step = 0; ; step++) {
    const roll = random();
    if (roll < 0.15 && live.length > 2) {
      const id = live.splice(Math.floor(random() * live.length), 1)[0];
      note(`delete ${id}`);
      await store.deleteModel(domain, id);
      note(`deleted ${id}`);
    } else if (roll < 0.3) {
      note('compact');
      await store.compactIndex(domain);
      note('compacted');
    } else {
      const id = `m-${process.pid}-${step}`;
      note(`upload ${id}`);
      await store.upload(domain, { model: modelFile, modelId: id });
      note(`done ${id}`);
      live.push(id);
    }
  }
} else if (mode === 'write') {
  const [count, tag, startAt] = rest;
  while (Date.now() < Number(startAt)) await new Promise((resolve) => setTimeout(resolve, 2));
  const ids = [];
  for (let i = 0; i < Number(count); i++) ids.push((await store.upload(domain, { model: modelFile, modelId: `w-${tag}-${i}` })).model.model_id);
  process.stdout.write(JSON.stringify(ids));
} else if (mode === 'compact') {
  const [stopFile] = rest;
  let published = 0;
  let runs = 0;
  const failures = [];
  while (!existsSync(stopFile)) {
    runs++;
    try {
      if ((await store.compactIndex(domain)).published) published++;
    } catch (error) {
      failures.push(String(error));
    }
  }
  process.stdout.write(JSON.stringify({ runs, published, failures }));
} else {
  throw new Error(`unknown mode ${mode}`);
}
