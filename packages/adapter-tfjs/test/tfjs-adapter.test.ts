import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ModelStore, type Storage } from '@modelstore/core';
import { FileSystemStorage } from '@modelstore/storage-fs';
import { S3Storage } from '@modelstore/storage-s3';
import { startS3Server, type S3Server } from '@modelstore/test-servers';
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TfjsAdapter } from '../src/index.js';

/** A small model trained here: y = 2x - 1 with a hidden layer. */
async function trainedModel(): Promise<tf.Sequential> {
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [1], units: 4, activation: 'relu' }), tf.layers.dense({ units: 1 })] });
  model.compile({ optimizer: tf.train.adam(0.05), loss: 'meanSquaredError' });
  const xs = tf.tensor2d([-2, -1, 0, 1, 2, 3, 4], [7, 1]);
  const ys = tf.tensor2d([-5, -3, -1, 1, 3, 5, 7], [7, 1]);
  await model.fit(xs, ys, { epochs: 40, verbose: 0 });
  return model;
}

function predict(model: tf.LayersModel | tf.GraphModel, inputs: number[]): number[] {
  return Array.from((model.predict(tf.tensor2d(inputs, [inputs.length, 1])) as tf.Tensor).dataSync());
}

describe('TfjsAdapter', () => {
  let work: string;
  let server: S3Server;
  let model: tf.Sequential;
  const inputs = [-3, 0.5, 10];
  beforeAll(async () => {
    await tf.setBackend('cpu');
    work = mkdtempSync(path.join(tmpdir(), 'modelstore-tfjs-'));
    server = await startS3Server({ buckets: ['models'] });
    model = await trainedModel();
    // Training on the CPU backend takes seconds, and more on a busy machine.
  }, 60_000);
  afterAll(async () => {
    rmSync(work, { recursive: true, force: true });
    await server.close();
  });

  const backends: Array<[string, () => Storage]> = [
    ['the file system', () => new FileSystemStorage({ root: path.join(work, 'registry') })],
    ['S3', () => new S3Storage({ bucket: 'models', endpoint: server.endpoint, forcePathStyle: true, credentials: server.credentials, region: 'us-east-1' })],
  ];

  it.each(backends)('round-trips a trained LayersModel with identical predictions, on %s', async (_name, storage) => {
    const store = new ModelStore({ storage: storage(), adapters: [new TfjsAdapter()], cacheDir: path.join(work, 'cache') });
    const before = predict(model, inputs);
    const metadata = await store.upload('regression', { model });
    expect(metadata.model.model_type).toEqual({ library: 'tensorflowjs', type: 'Sequential' });
    expect(metadata.code!.dependencies!['@tensorflow/tfjs']).toBe(tf.version.tfjs);
    expect(Object.keys(metadata.archive!.files)).toEqual(['model-info.json', 'model.json', 'weights.bin']);
    const loaded = await store.load<tf.LayersModel>('regression');
    expect(predict(loaded, inputs)).toEqual(before);
    expect(loaded.layers.map((layer) => layer.getClassName())).toEqual(['Dense', 'Dense']);
  });

  it('uploads a saved model from its files (model.json and weight files)', async () => {
    const directory = path.join(work, 'saved');
    mkdirSync(directory);
    await model.save({
      save: async (artifacts) => {
        const { weightData, weightSpecs, ...rest } = artifacts;
        writeFileSync(path.join(directory, 'model.json'), JSON.stringify({ ...rest, weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: weightSpecs }] }));
        writeFileSync(path.join(directory, 'group1-shard1of1.bin'), Buffer.from(weightData as ArrayBuffer));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      },
    });
    const store = new ModelStore({ storage: new FileSystemStorage({ root: path.join(work, 'registry-files') }), adapters: [new TfjsAdapter()], cacheDir: path.join(work, 'cache') });
    const files = { modelJson: path.join(directory, 'model.json') };
    expect(new TfjsAdapter().matches(files)).toBe(true);
    const metadata = await store.upload('from-files', { model: files });
    expect(Object.keys(metadata.archive!.files)).toEqual(['model-info.json', 'model.json', 'group1-shard1of1.bin']);
    expect(predict(await store.load<tf.LayersModel>('from-files'), inputs)).toEqual(predict(model, inputs));
  });

  it('matches tfjs models and model files only', () => {
    const adapter = new TfjsAdapter();
    expect(adapter.matches(model)).toBe(true);
    expect(adapter.matches({ modelJson: path.join(work, 'missing.json') })).toBe(false);
    expect(adapter.matches('weights.bin')).toBe(false);
    expect(adapter.matches(new Uint8Array(4))).toBe(false);
  });
});
