// Uploads then downloads one model in a fresh process, reporting times and peak RSS.
import { ModelStore } from '@modelstore/core';
import { RawAdapter } from '@modelstore/adapter-raw';
import { FileSystemStorage } from '@modelstore/storage-fs';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const [work, modelFile] = process.argv.slice(2);
const compressionLevel = process.env.MODELSTORE_BENCH_COMPRESSION === undefined ? 'auto' : Number(process.env.MODELSTORE_BENCH_COMPRESSION);

/** Peak resident set size of this process so far (Linux VmHWM; sampled elsewhere). */
let sampledPeak = 0;
const sampler = setInterval(() => (sampledPeak = Math.max(sampledPeak, process.memoryUsage().rss)), 20);
function peakRss() {
  try {
    const kib = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
    return kib * 1024;
  } catch {
    return Math.max(sampledPeak, process.memoryUsage().rss);
  }
}

const baselineRssBytes = process.memoryUsage().rss;
const store = new ModelStore({ storage: new FileSystemStorage({ root: path.join(work, 'registry') }), adapters: [new RawAdapter()], cacheDir: path.join(work, 'cache'), compressionLevel });
let started = performance.now();
const metadata = await store.upload('bench', { model: modelFile });
execFileSync('sync');
const uploadSeconds = (performance.now() - started) / 1000;
started = performance.now();
await store.download('bench', { modelId: metadata.model.model_id, to: path.join(work, 'downloaded') });
execFileSync('sync');
const downloadSeconds = (performance.now() - started) / 1000;
clearInterval(sampler);
process.stdout.write(JSON.stringify({ uploadSeconds, downloadSeconds, peakRssBytes: peakRss(), baselineRssBytes, compressionLevel }));
