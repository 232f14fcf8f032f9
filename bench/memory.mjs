// Peak memory and throughput of uploading then downloading a large model on the
// file system backend, side by side with a plain `cp` of the same file.
// Usage: node bench/memory.mjs [sizeMiB=1024]
import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';

const sizeMiB = Number(process.argv[2] ?? 1024);
const here = path.dirname(fileURLToPath(import.meta.url));
const work = mkdtempSync(path.join(tmpdir(), 'modelstore-bench-'));
const modelFile = path.join(work, 'weights.bin');

try {
  // float32 weights, as a trained model holds them (they barely compress).
  const out = createWriteStream(modelFile);
  const chunk = new Float32Array(256 * 1024);
  for (let i = 0; i < sizeMiB; i++) {
    for (let j = 0; j < chunk.length; j++) chunk[j] = Math.sin(i * chunk.length + j) * 0.1;
    if (!out.write(Buffer.from(chunk.buffer.slice(0)))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  execFileSync('sync');

  const started = performance.now();
  execFileSync('cp', [modelFile, path.join(work, 'copy.bin')]);
  execFileSync('sync');
  const cpSeconds = (performance.now() - started) / 1000;
  rmSync(path.join(work, 'copy.bin'));

  const result = spawnSync(process.execPath, [path.join(here, 'memory-child.mjs'), work, modelFile], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) throw new Error(`benchmark child failed with status ${result.status}`);
  const measured = JSON.parse(result.stdout);
  const bytes = statSync(modelFile).size;
  const mibps = (seconds) => (bytes / 1048576 / seconds).toFixed(0);
  const rows = [
    ['cp (baseline)', cpSeconds, '-'],
    ['upload (fs)', measured.uploadSeconds, '-'],
    ['download (fs)', measured.downloadSeconds, '-'],
  ];
  console.log(`\nFile system backend, ${sizeMiB} MiB float32 model (gzip level ${measured.compressionLevel})\n`);
  console.log('| operation | seconds | MiB/s | speed vs cp |');
  console.log('|---|---|---|---|');
  for (const [name, seconds] of rows) console.log(`| ${name} | ${seconds.toFixed(2)} | ${mibps(seconds)} | ${(cpSeconds / seconds).toFixed(2)} |`);
  console.log(`\nPeak RSS of the process that uploaded then downloaded: ${(measured.peakRssBytes / 1048576).toFixed(0)} MiB (budget 200 MiB), baseline RSS before the upload ${(measured.baselineRssBytes / 1048576).toFixed(0)} MiB`);
  if (measured.peakRssBytes > 200 * 1048576) {
    console.error('Peak RSS over the 200 MiB budget');
    process.exitCode = 1;
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
