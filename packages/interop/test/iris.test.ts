// Train in Python, serve from Node: scikit-learn fits a classifier on its bundled iris
// data, skl2onnx converts it, the real Python modelstore uploads it; ModelStore loads it
// with OnnxAdapter and predicts the labels and probabilities scikit-learn computed
// (written by Python to a JSON file, never computed here), on all 150 rows.
import { describe, expect, it } from '@jest/globals';
import type { InferenceSession } from 'onnxruntime-node';
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { backends, nodeStore, pyOk, workDir } from './helpers.js';

interface Expected {
  features: number[][];
  labels: number[];
  probabilities: number[][];
  inputs: string[];
  outputs: string[];
  training_accuracy: number;
}

describe.each(backends().map((backend) => [backend.name, backend] as const))('iris, trained in Python, served from Node: %s', (_name, backend) => {
  it('predicts the same labels and probabilities (within 1e-5) as scikit-learn on all 150 rows', async () => {
    const registry = backend.create();
    const expectedFile = path.join(workDir('iris'), 'sklearn-predictions.json');
    const [uploaded] = await pyOk(registry.python, [{ op: 'upload', domain: 'iris', model_id: 'iris-logreg', model: { sklearn_iris: expectedFile }, extra_metadata: { dataset: 'iris' } }]);
    expect(uploaded.model.model_type).toEqual({ library: 'onnx', type: 'ModelProto', models: null });
    const expected = JSON.parse(readFileSync(expectedFile, 'utf8')) as Expected;
    expect(expected.features).toHaveLength(150);
    expect(expected.training_accuracy).toBeGreaterThan(0.9);

    const store = nodeStore(registry.node);
    expect(await store.listModels('iris')).toEqual(['iris-logreg']);
    const session = await store.load<InferenceSession>('iris');
    expect(session.inputNames).toEqual(expected.inputs);
    const x = new ort.Tensor('float32', Float32Array.from(expected.features.flat()), [150, 4]);
    const output = await session.run({ [session.inputNames[0]!]: x });
    const [labelName, probabilityName] = expected.outputs as [string, string];
    const labels = Array.from(output[labelName]!.data as BigInt64Array, Number);
    expect(labels).toEqual(expected.labels);
    const probabilities = output[probabilityName]!.data as Float32Array;
    expect(output[probabilityName]!.dims).toEqual([150, 3]);
    let worst = 0;
    expected.probabilities.forEach((row, i) => row.forEach((p, j) => (worst = Math.max(worst, Math.abs(probabilities[i * 3 + j]! - p)))));
    expect(worst).toBeLessThan(1e-5);
  });
});
