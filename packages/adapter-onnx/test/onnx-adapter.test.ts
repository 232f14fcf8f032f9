import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ModelStore } from '@modelstore/core';
import { FileSystemStorage } from '@modelstore/storage-fs';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { OnnxAdapter, readOnnxGraphInfo } from '../src/index.js';

const fixture = path.resolve(__dirname, '../../../python/fixtures/python-modelstore');

/** y = MatMul(x, W) + b, built in the test: x float[batch, 3], W float[3,2], b float[2]. */
function buildModel(): Uint8Array {
  const tensor = (name: string, dims: number[], values: number[]) => onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, floatData: values });
  const valueInfo = (name: string, dims: Array<number | string>) =>
    onnx.ValueInfoProto.create({
      name,
      type: onnx.TypeProto.create({
        tensorType: onnx.TypeProto.Tensor.create({
          elemType: onnx.TensorProto.DataType.FLOAT,
          shape: onnx.TensorShapeProto.create({ dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) }),
        }),
      }),
    });
  const graph = onnx.GraphProto.create({
    name: 'linear',
    node: [onnx.NodeProto.create({ opType: 'MatMul', input: ['x', 'W'], output: ['xw'] }), onnx.NodeProto.create({ opType: 'Add', input: ['xw', 'b'], output: ['y'] })],
    initializer: [tensor('W', [3, 2], [1, 2, 3, 4, 5, 6]), tensor('b', [2], [0.25, -0.5])],
    // Older exporters list initializers among the inputs too.
    input: [valueInfo('x', ['batch', 3]), valueInfo('W', [3, 2])],
    output: [valueInfo('y', ['batch', 2])],
  });
  const model = onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], producerName: 'modelstore-test', graph });
  return onnx.ModelProto.encode(model).finish();
}

async function run(session: ort.InferenceSession, input: number[][]): Promise<number[]> {
  const x = new ort.Tensor('float32', Float32Array.from(input.flat()), [input.length, input[0]!.length]);
  const output = await session.run({ [session.inputNames[0]!]: x });
  return Array.from(output[session.outputNames[0]!]!.data as Float32Array);
}

describe('OnnxAdapter', () => {
  let work: string;
  let store: ModelStore;
  beforeEach(() => {
    work = mkdtempSync(path.join(tmpdir(), 'modelstore-onnx-'));
    store = new ModelStore({ storage: new FileSystemStorage({ root: path.join(work, 'registry') }), adapters: [new OnnxAdapter()], cacheDir: path.join(work, 'cache') });
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('loads the model Python modelstore wrote, and computes what Python expects', async () => {
    const expected = JSON.parse(readFileSync(path.join(fixture, 'expected.json'), 'utf8')).domains['iris-onnx'].onnx;
    const registry = path.join(work, 'python-registry');
    cpSync(path.join(fixture, 'registry-fs'), registry, { recursive: true });
    const python = new ModelStore({ storage: new FileSystemStorage({ root: registry }), adapters: [new OnnxAdapter()], cacheDir: path.join(work, 'cache') });
    const session = await python.load<ort.InferenceSession>('iris-onnx');
    const x = expected.inputs.x as number[][];
    const output = await session.run({ x: new ort.Tensor('float32', Float32Array.from(x.flat()), [x.length, x[0]!.length]) });
    expect(Array.from(output.y!.data as Float32Array)).toEqual((expected.expected_outputs.y as number[][]).flat());
    expect(output.y!.dims).toEqual([1, 2]);
  });

  it('round-trips a model built here: same outputs, and the archive laid out as Python lays it out', async () => {
    const bytes = buildModel();
    const before = await run(await ort.InferenceSession.create(bytes), [
      [1, 2, 3],
      [0, -1, 0.5],
    ]);
    const metadata = await store.upload('linear', { model: bytes, modelId: 'linear-v1' });
    expect(metadata.model.model_type).toEqual({ library: 'onnx', type: 'ModelProto' });
    expect(metadata.model.parameters).toEqual({
      inputs: [{ name: 'x', type: 'float32', shape: ['batch', 3] }],
      outputs: [{ name: 'y', type: 'float32', shape: ['batch', 2] }],
      ir_version: 8,
      opsets: [{ domain: '', version: 13 }],
    });
    expect(metadata.code!.dependencies!['onnxruntime-node']).toBe(ort.env.versions.node);

    const after = await run(await store.load<ort.InferenceSession>('linear'), [
      [1, 2, 3],
      [0, -1, 0.5],
    ]);
    expect(after).toEqual(before);

    const pythonMembers = JSON.parse(readFileSync(path.join(fixture, 'expected.json'), 'utf8')).domains['iris-onnx'].models['iris-v1'].archive_members.map((member: { name: string }) => member.name);
    expect(Object.keys(metadata.archive!.files)).toEqual(pythonMembers);
    const downloaded = await store.download('linear', { to: path.join(work, 'out') });
    expect(readdirSync(downloaded).sort()).toEqual([...pythonMembers].sort());
    expect(Buffer.compare(readFileSync(path.join(downloaded, 'model.onnx')), Buffer.from(bytes))).toBe(0);
    expect(JSON.parse(readFileSync(path.join(downloaded, 'model-info.json'), 'utf8'))).toEqual({ library: 'onnx', type: 'ModelProto' });
  });

  it('uploads a .onnx file by path, streaming it', async () => {
    const file = path.join(work, 'linear.onnx');
    writeFileSync(file, buildModel());
    const adapter = new OnnxAdapter();
    expect(adapter.matches(file)).toBe(true);
    await store.upload('linear', { model: file });
    expect((await store.load<ort.InferenceSession>('linear')).inputNames).toEqual(['x']);
  });

  it('passes session options to onnxruntime', async () => {
    const adapter = new OnnxAdapter({ sessionOptions: { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1 } });
    const custom = new ModelStore({ storage: new FileSystemStorage({ root: path.join(work, 'registry') }), adapters: [adapter], cacheDir: path.join(work, 'cache') });
    await custom.upload('linear', { model: buildModel() });
    expect(await run(await custom.load<ort.InferenceSession>('linear'), [[1, 0, 0]])).toEqual([1.25, 1.5]);
  });

  it('matches ONNX bytes and .onnx paths only', () => {
    const adapter = new OnnxAdapter();
    expect(adapter.matches(buildModel())).toBe(true);
    expect(adapter.matches(new Uint8Array([1, 2, 3]))).toBe(false);
    expect(adapter.matches(path.join(work, 'missing.onnx'))).toBe(false);
    expect(adapter.matches({ graph: {} })).toBe(false);
  });

  it('refuses bytes that are not an ONNX model, with a clear error', async () => {
    await expect(new OnnxAdapter().save(new Uint8Array([0x08, 0x01, 0x3a, 0x7f]))).rejects.toThrow(/not a readable ONNX model/);
  });

  it('reads graph inputs and outputs of the Python-written model from its protobuf', async () => {
    const registry = path.join(work, 'python-registry');
    cpSync(path.join(fixture, 'registry-fs'), registry, { recursive: true });
    const python = new ModelStore({ storage: new FileSystemStorage({ root: registry }), adapters: [new OnnxAdapter()], cacheDir: path.join(work, 'cache') });
    const directory = await python.download('iris-onnx', { to: path.join(work, 'iris') });
    const info = await readOnnxGraphInfo(path.join(directory, 'model.onnx'));
    expect(info.inputs).toEqual([{ name: 'x', type: 'float32', shape: [1, 2] }]);
    expect(info.outputs.map((output) => output.name)).toEqual(['y']);
    expect(info.irVersion).toBe(8);
  });
});
