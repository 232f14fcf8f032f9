// One scale measurement, in a process of its own (so one row's module warm-up, caches
// and memory are its own). Prints one JSON line. Usage: node scale-scenario.mjs <name> <json arguments>
//   uploads  — `sequential` uploads of a 1-byte file one after the other (after 2 not
//              counted: the process's first upload warms its modules), then
//              `concurrentRounds` rounds of `concurrent` uploads at once (wall time of each
//              round); with `baseline`, each paired with the same into an empty domain
//   reads    — listModels first page (limit 50), the next page, the whole list; storage
//              requests counted (CountingStorage); pages and the whole list checked id by id
//              against the generator's order (`expectedFile`), a sample read and downloaded
//   domains  — listDomains: storage requests and the count
import { RawAdapter } from '@modelstore/adapter-raw';
import { ModelStore } from '@modelstore/core';
import { CountingStorage } from '@modelstore/storage-conformance/counting-storage';
import { FileSystemStorage } from '@modelstore/storage-fs';
import { S3Storage } from '@modelstore/storage-s3';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const [name, rawArguments] = process.argv.slice(2);
const args = JSON.parse(rawArguments ?? '{}');

function openStorage(target = args) {
  if (target.backend === 'fs') return new FileSystemStorage({ root: target.root });
  return new S3Storage({ bucket: target.bucket, rootPrefix: target.rootPrefix, endpoint: target.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: target.credentials });
}

const seconds = (started) => (performance.now() - started) / 1000;

const scenarios = {
  async uploads() {
    mkdirSync(args.work, { recursive: true });
    const file = path.join(args.work, 'one.bin');
    writeFileSync(file, 'x');
    const open = (target) => {
      const inner = openStorage(target);
      const storage = new CountingStorage(inner);
      return { inner, storage, store: new ModelStore({ storage, adapters: [new RawAdapter()], cacheDir: path.join(args.work, 'cache') }), domain: target.domain };
    };
    // With `baseline` (an empty registry), every measured upload into the big domain is
    // paired with one into the empty domain just before it, and each concurrent round
    // likewise: the two series see the same machine load, so their ratio holds on a busy machine.
    const targets = [open(args), ...(args.baseline ? [open(args.baseline)] : [])];
    for (const target of targets) for (let i = 0; i < 2; i++) await target.store.upload(target.domain, { model: file });
    const series = targets.map(() => ({ sequential: [], concurrent: [], requests: [], bytesRead: [] }));
    for (let i = 0; i < args.sequential; i++) {
      for (const [t, target] of [...targets.entries()].reverse()) {
        target.storage.reset();
        const started = performance.now();
        await target.store.upload(target.domain, { model: file });
        series[t].sequential.push(seconds(started));
        // Storage requests and body bytes read of each sequential upload (CountingStorage).
        series[t].requests.push(target.storage.calls.length);
        series[t].bytesRead.push(target.storage.bytesRead);
      }
    }
    for (let round = 0; round < args.concurrentRounds; round++) {
      for (const [t, target] of [...targets.entries()].reverse()) {
        const started = performance.now();
        await Promise.all(Array.from({ length: args.concurrent }, () => target.store.upload(target.domain, { model: file })));
        series[t].concurrent.push(seconds(started));
      }
    }
    for (const target of targets) target.inner.client?.destroy();
    const middle = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const summary = ({ sequential, concurrent, requests, bytesRead }) => ({ sequential, concurrent, requests: middle(requests), bytesRead: middle(bytesRead) });
    return { ...summary(series[0]), ...(series[1] ? { baseline: summary(series[1]) } : {}), uploaded: 2 + args.sequential + args.concurrent * args.concurrentRounds };
  },

  async reads() {
    const inner = openStorage();
    const storage = new CountingStorage(inner);
    const store = new ModelStore({ storage, cacheDir: path.join(args.work, 'cache') });
    const measure = async (action) => {
      storage.reset();
      const started = performance.now();
      const result = await action();
      return { seconds: seconds(started), requests: storage.calls.length, bytesRead: storage.bytesRead, result };
    };
    // With `skipPages`, the whole list only (a domain with no checkpoint: a page is the whole listing sliced).
    const first = args.skipPages ? undefined : await measure(() => store.listModels(args.domain, { limit: 50 }));
    // A core without paging ignores `limit` and returns the whole list (an array).
    const paging = first !== undefined && !Array.isArray(first.result);
    const firstIds = first === undefined ? undefined : paging ? first.result.models : first.result.slice(0, 50);
    const problems = [];
    const expectedFirst = JSON.parse(readFileSync(args.expectedFile, 'utf8')).slice(0, 100);
    if (firstIds && JSON.stringify(firstIds) !== JSON.stringify(expectedFirst.slice(0, 50))) problems.push(`first page differs from the expected order: ${firstIds.slice(0, 3)} … against ${expectedFirst.slice(0, 3)} …`);
    let next;
    if (paging && !args.skipNextPage) {
      if (!first.result.cursor) problems.push('the first page of 50 has no cursor');
      else {
        next = await measure(() => store.listModels(args.domain, { limit: 50, cursor: first.result.cursor }));
        if (JSON.stringify(next.result.models) !== JSON.stringify(expectedFirst.slice(50, 100))) problems.push('the next page differs from the expected order');
      }
    }
    const whole = await measure(() => store.listModels(args.domain));
    // The whole list against the generator's order, id by id.
    const expected = JSON.parse(readFileSync(args.expectedFile, 'utf8'));
    if (whole.result.length !== expected.length) problems.push(`the whole list has ${whole.result.length} ids, expected ${expected.length}`);
    const differs = expected.findIndex((id, position) => whole.result[position] !== id);
    if (differs !== -1) problems.push(`the whole list differs from the expected order at position ${differs}: ${whole.result[differs]} instead of ${expected[differs]}`);
    // A sample of the generated models reads and downloads like any upload.
    for (const id of args.sample ?? []) {
      const metadata = await store.getModelInfo(args.domain, id);
      if (metadata.model.model_id !== id) problems.push(`getModelInfo(${id}) gave ${metadata.model.model_id}`);
      const folder = await store.download(args.domain, { modelId: id, to: path.join(args.work, `download-${id}`) });
      const bytes = readFileSync(path.join(folder, args.sampleFile ?? 'one.bin'), 'utf8');
      if (bytes !== 'x') problems.push(`download of ${id} gave ${JSON.stringify(bytes)}`);
    }
    inner.client?.destroy();
    const strip = ({ result, ...rest }) => rest;
    return {
      paging,
      firstPage: first ? { ...strip(first), count: firstIds.length } : undefined,
      nextPage: next ? { ...strip(next), count: next.result.models.length } : undefined,
      whole: { ...strip(whole), count: whole.result.length },
      problems,
    };
  },

  /** `compactIndex(domain)` when core has it: seconds and storage requests. */
  async compact() {
    const inner = openStorage();
    const storage = new CountingStorage(inner);
    const store = new ModelStore({ storage, cacheDir: path.join(args.work, 'cache') });
    if (typeof store.compactIndex !== 'function') return { available: false };
    const started = performance.now();
    await store.compactIndex(args.domain);
    const result = { available: true, seconds: seconds(started), requests: storage.calls.length, bytesRead: storage.bytesRead, writes: storage.calls.filter((call) => call.startsWith('put ')).length };
    inner.client?.destroy();
    return result;
  },

  async domains() {
    const inner = openStorage();
    const storage = new CountingStorage(inner);
    const store = new ModelStore({ storage, cacheDir: path.join(args.work, 'cache') });
    const started = performance.now();
    const domains = await store.listDomains();
    const expected = JSON.parse(readFileSync(args.expectedFile, 'utf8'));
    const same = JSON.stringify([...domains].sort()) === JSON.stringify([...expected].sort());
    const result = { seconds: seconds(started), requests: storage.calls.length, count: domains.length, problems: same ? [] : [`listDomains gave ${domains.length} domains, not the ${expected.length} generated`] };
    inner.client?.destroy();
    return result;
  },
};

const result = await scenarios[name]();
process.stdout.write(`${JSON.stringify(result)}\n`);
