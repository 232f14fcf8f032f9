// The registry end to end on a local folder, with a real model: an iris classifier
// trained by scikit-learn and exported to ONNX (data/README.md says how it was made).
// Upload, label, list, download, load through OnnxAdapter, and predict held-out iris
// rows with onnxruntime-node, checking the predictions against scikit-learn's.
//
//   pnpm demo [work-directory]
//
// The work directory (created if it does not exist; relative to where pnpm was run) keeps
// the registry, the download and the cache; without one, a new temporary directory.
import { ModelStore } from '@modelstore/core';
import { OnnxAdapter } from '@modelstore/adapter-onnx';
import { FileSystemStorage } from '@modelstore/storage-fs';
import * as ort from 'onnxruntime-node';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const data = path.join(here, 'data');
const samples = JSON.parse(readFileSync(path.join(data, 'iris-samples.json'), 'utf8'));
const modelFile = path.join(data, samples.model_file);
const species = samples.class_names;
const tolerance = 1e-5;

// pnpm runs scripts from the package's folder; INIT_CWD is where the user ran pnpm.
const work = process.argv[2] ? path.resolve(process.env.INIT_CWD ?? process.cwd(), process.argv[2]) : mkdtempSync(path.join(tmpdir(), 'modelstore-demo-'));
mkdirSync(work, { recursive: true });
const registry = path.join(work, 'registry');
const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');
const step = (text) => console.log(`\n> ${text}`);

// A model card to travel with the model as an extra file.
const card = path.join(work, 'MODEL_CARD.md');
writeFileSync(
  card,
  `# iris classifier\n\nStandardScaler + LogisticRegression (scikit-learn ${samples.generated_with['scikit-learn']}), ` +
    `converted to ONNX by skl2onnx ${samples.generated_with.skl2onnx}.\n` +
    `Input x: float32[N, 4] (${samples.feature_names.join(', ')}). Outputs: label (${species.map((s, i) => `${i} ${s}`).join(', ')}), probabilities.\n` +
    `Held-out accuracy: ${samples.test_accuracy.toFixed(3)}.\n`,
);

const store = new ModelStore({
  storage: new FileSystemStorage({ root: registry }),
  adapters: [new OnnxAdapter()],
  cacheDir: path.join(work, 'cache'),
});

step(`Registry: ${registry}`);
step(`upload("iris", ${path.relative(process.cwd(), modelFile)} + MODEL_CARD.md)`);
let progress = { bytes: 0, totalBytes: 0 };
const metadata = await store.upload('iris', {
  model: modelFile,
  extraFiles: [card],
  extraMetadata: { test_accuracy: samples.test_accuracy, trained_with: samples.generated_with, classes: species },
  onProgress: (event) => {
    progress = event;
  },
});
const modelId = metadata.model.model_id;
console.log(`  progress reported up to ${progress.bytes} of ${progress.totalBytes} bytes (model.onnx, MODEL_CARD.md, model-info.json, before compression)`);
console.log(`  model id: ${modelId}`);
console.log(`  archive: ${metadata.archive.size} bytes, sha256 ${metadata.archive.sha256.slice(0, 16)}...`);

step('createModelState("production"); setModelState("iris", id, "production")');
await store.createModelState('production');
await store.setModelState('iris', modelId, 'production');

step('listDomains(), listModels("iris"), listModels("iris", { state: "production" })');
console.log('  domains:', await store.listDomains());
console.log('  models:', await store.listModels('iris'));
console.log('  in production:', await store.listModels('iris', { state: 'production' }));
console.log('  states of the model:', await store.getModelStates('iris', modelId));

step('getModelInfo("iris", id)');
const info = await store.getModelInfo('iris', modelId);
const { inputs, outputs, opsets } = info.model.parameters;
const shape = (value) => `[${value.shape.map((d) => d ?? '?').join(', ')}]`;
console.log(`  library ${info.model.model_type.library}, type ${info.model.model_type.type}, created ${info.code.created_at}`);
console.log(`  inputs: ${inputs.map((v) => `${v.name} ${v.type}${shape(v)}`).join(', ')}; outputs: ${outputs.map((v) => `${v.name} ${v.type}${v.shape ? shape(v) : ''}`).join(', ')}`);
console.log(`  opsets: ${opsets.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ')}`);
console.log(`  extra: accuracy ${info.extra.test_accuracy.toFixed(3)}, trained with scikit-learn ${info.extra.trained_with['scikit-learn']}`);

step('download("iris", { to })');
// overwrite: a second run in the same directory replaces the first run's download.
const to = await store.download('iris', { modelId, to: path.join(work, 'downloaded'), overwrite: true });
console.log(`  written to ${to}`);
const same = sha256(path.join(to, 'model.onnx')) === sha256(modelFile);
console.log(`  model.onnx byte-identical to the original: ${same}`);

step('getLatestModel("iris", { state: "production" }), then load it: an onnxruntime InferenceSession; then again, from the local cache');
const production = (await store.getLatestModel('iris', { state: 'production' })).model.model_id;
console.log(`  the production model is ${production}`);
let started = performance.now();
const session = await store.load('iris', { modelId: production });
console.log(`  first load: inputs ${session.inputNames.join(', ')} -> outputs ${session.outputNames.join(', ')} (${(performance.now() - started).toFixed(1)} ms)`);
started = performance.now();
await store.load('iris', { modelId: production });
console.log(`  second load: cached (${(performance.now() - started).toFixed(1)} ms)`);

step(`predict ${samples.rows.length} held-out iris rows (and compare with scikit-learn's predictions for them)`);
const x = new ort.Tensor('float32', Float32Array.from(samples.rows.flatMap((row) => row.features)), [samples.rows.length, 4]);
const result = await session.run({ x });
const labels = Array.from(result.label.data, Number);
const probabilities = result.probabilities.data;
let disagreements = 0;
let worst = 0;
let correct = 0;
const pad = (text, width) => String(text).padEnd(width);
console.log(`  ${pad('sepal l/w, petal l/w (cm)', 26)}${pad('true', 12)}${pad('predicted', 12)}${pad('p', 8)}scikit-learn`);
samples.rows.forEach((row, i) => {
  const p = Array.from(probabilities.slice(i * species.length, (i + 1) * species.length));
  const difference = Math.max(...p.map((value, j) => Math.abs(value - row.sklearn_probabilities[j])));
  worst = Math.max(worst, difference);
  const agrees = labels[i] === row.sklearn_label && difference <= tolerance;
  if (!agrees) disagreements += 1;
  if (labels[i] === row.true_label) correct += 1;
  console.log(
    `  ${pad(row.features.map((v) => v.toFixed(1)).join(' '), 26)}${pad(species[row.true_label], 12)}${pad(species[labels[i]], 12)}${pad(p[labels[i]].toFixed(3), 8)}` +
      `${species[row.sklearn_label]} ${row.sklearn_probabilities[row.sklearn_label].toFixed(3)}${agrees ? '' : '  <- DIFFERS'}${labels[i] === row.true_label ? '' : labels[i] === row.sklearn_label ? '  (wrong, as in scikit-learn)' : '  (wrong)'}`,
  );
});
console.log(`  ${correct}/${samples.rows.length} rows right; largest difference from scikit-learn's probabilities ${worst.toExponential(2)} (tolerance ${tolerance})`);

if (!same) {
  console.error('\nThe downloaded model differs from the original.');
  process.exit(1);
}
if (disagreements > 0) {
  console.error(`\n${disagreements} predictions differ from scikit-learn's.`);
  process.exit(1);
}
console.log(`\nDone: the model predicts in Node what it predicted in scikit-learn. Everything the demo wrote is under ${work}`);
