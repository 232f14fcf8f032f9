// The registry end to end on a local folder: upload, label, list, download, load.
import { ModelStore } from '@modelstore/core';
import { RawAdapter } from '@modelstore/adapter-raw';
import { FileSystemStorage } from '@modelstore/storage-fs';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const work = process.argv[2] ? path.resolve(process.argv[2]) : mkdtempSync(path.join(tmpdir(), 'modelstore-demo-'));
const registry = path.join(work, 'registry');
const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');
const step = (text) => console.log(`\n> ${text}`);

// A "trained model": 4 MiB of float32 weights, plus a README and a label map.
const weights = new Float32Array(1024 * 1024).map((_, i) => Math.sin(i));
const modelFile = path.join(work, 'weights.bin');
writeFileSync(modelFile, Buffer.from(weights.buffer));
writeFileSync(path.join(work, 'README.md'), '# churn model\nPredicts customer churn.\n');
writeFileSync(path.join(work, 'labels.json'), JSON.stringify(['stay', 'leave']));

const store = new ModelStore({
  storage: new FileSystemStorage({ root: registry }),
  adapters: [new RawAdapter()],
  cacheDir: path.join(work, 'cache'),
});

step(`Registry: ${registry}`);
step('upload("churn", weights.bin + README.md + labels.json)');
let progress = 0;
const metadata = await store.upload('churn', {
  model: modelFile,
  extraFiles: [path.join(work, 'README.md'), path.join(work, 'labels.json')],
  extraMetadata: { accuracy: 0.93, dataset: 'customers-2026-11' },
  onProgress: (bytes) => {
    progress = bytes;
  },
});
const modelId = metadata.model.model_id;
console.log(`  progress reported up to ${progress} archive bytes`);
console.log(`  model id: ${modelId}`);
console.log(`  archive: ${metadata.archive.size} bytes, sha256 ${metadata.archive.sha256.slice(0, 16)}...`);

step('createModelState("production"); setModelState("churn", id, "production")');
await store.createModelState('production');
await store.setModelState('churn', modelId, 'production');

step('listDomains(), listModels("churn"), listModels("churn", { state: "production" })');
console.log('  domains:', await store.listDomains());
console.log('  models:', await store.listModels('churn'));
console.log('  in production:', await store.listModels('churn', { state: 'production' }));
console.log('  states of the model:', await store.getModelStates('churn', modelId));

step('getModelInfo("churn", id)');
const info = await store.getModelInfo('churn', modelId);
console.log(`  library ${info.model.model_type.library}, created ${info.code.created_at}, extra ${JSON.stringify(info.extra)}`);

step('download("churn", { to })');
const to = await store.download('churn', { modelId, to: path.join(work, 'downloaded') });
console.log(`  written to ${to}`);
const same = sha256(path.join(to, 'weights.bin')) === sha256(modelFile);
console.log(`  weights.bin byte-identical to the original: ${same}`);

step('load("churn") (the latest model), twice: the second comes from the local cache');
let started = performance.now();
const loaded = await store.load('churn');
console.log(`  first load: ${loaded} (${(performance.now() - started).toFixed(1)} ms)`);
started = performance.now();
await store.load('churn');
console.log(`  second load: cached (${(performance.now() - started).toFixed(1)} ms)`);

if (!same) {
  console.error('The downloaded model differs from the original.');
  process.exit(1);
}
console.log(`\nDone. Everything the demo wrote is under ${work}`);
