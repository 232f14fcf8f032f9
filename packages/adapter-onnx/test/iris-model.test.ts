import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ModelStore } from '@modelstore/core';
import { FileSystemStorage } from '@modelstore/storage-fs';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { OnnxAdapter } from '../src/index.js';

// The demo's model: trained by scikit-learn, converted by skl2onnx, committed with the
// predictions scikit-learn made for a few held-out rows (examples/demo/data/README.md).
const data = path.resolve(__dirname, '../../../examples/demo/data');

interface Samples {
  model_file: string;
  model_sha256: string;
  class_names: string[];
  rows: Array<{ features: number[]; true_label: number; sklearn_label: number; sklearn_probabilities: number[] }>;
}

describe('the committed iris classifier (scikit-learn -> ONNX)', () => {
  const samples = JSON.parse(readFileSync(path.join(data, 'iris-samples.json'), 'utf8')) as Samples;
  const modelFile = path.join(data, samples.model_file);
  let work: string;
  let session: ort.InferenceSession;

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'modelstore-iris-'));
    const store = new ModelStore({ storage: new FileSystemStorage({ root: path.join(work, 'registry') }), adapters: [new OnnxAdapter()], cacheDir: path.join(work, 'cache') });
    const metadata = await store.upload('iris', { model: modelFile });
    expect(metadata.model.model_type).toEqual({ library: 'onnx', type: 'ModelProto' });
    expect(metadata.model.parameters).toMatchObject({
      inputs: [{ name: 'x', type: 'float32', shape: [null, 4] }],
      outputs: [
        { name: 'label', type: 'int64' },
        { name: 'probabilities', type: 'float32' },
      ],
    });
    session = await store.load<ort.InferenceSession>('iris');
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('is the model the samples were recorded for', () => {
    expect(createHash('sha256').update(readFileSync(modelFile)).digest('hex')).toBe(samples.model_sha256);
    expect(samples.rows.length).toBeGreaterThanOrEqual(6);
    expect(new Set(samples.rows.map((row) => row.true_label))).toEqual(new Set([0, 1, 2]));
  });

  it('predicts what scikit-learn predicted: the same labels, probabilities within 1e-5', async () => {
    const x = new ort.Tensor('float32', Float32Array.from(samples.rows.flatMap((row) => row.features)), [samples.rows.length, 4]);
    const output = await session.run({ x });
    const labels = Array.from(output.label!.data as BigInt64Array, Number);
    const probabilities = output.probabilities!.data as Float32Array;
    expect(output.probabilities!.dims).toEqual([samples.rows.length, samples.class_names.length]);
    expect(labels).toEqual(samples.rows.map((row) => row.sklearn_label));
    samples.rows.forEach((row, i) => {
      row.sklearn_probabilities.forEach((expected, j) => {
        const actual = probabilities[i * samples.class_names.length + j]!;
        if (Math.abs(actual - expected) > 1e-5) throw new Error(`row ${i}, class ${j}: ONNX ${actual}, scikit-learn ${expected}`);
      });
    });
  });

  it('predicts rows one at a time as it does in a batch', async () => {
    const row = samples.rows[samples.rows.length - 1]!;
    const output = await session.run({ x: new ort.Tensor('float32', Float32Array.from(row.features), [1, 4]) });
    expect(Number((output.label!.data as BigInt64Array)[0])).toBe(row.sklearn_label);
  });
});
