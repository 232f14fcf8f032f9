import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { IntegrityError, InvalidArgumentError, ModelStore, SourceFileError, UnsafeArchiveError } from '@modelstore/core';
import { FileSystemStorage } from '@modelstore/storage-fs';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { OnnxAdapter, OnnxFormatError, readOnnxExternalData, resolveOnnxLocation } from '../src/index.js';

type Tensor = onnx.ITensorProto;
const external = (name: string, location: string, entries: Record<string, string> = {}): Tensor =>
  onnx.TensorProto.create({
    name,
    dataType: onnx.TensorProto.DataType.FLOAT,
    dims: [1],
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: Object.entries({ location, ...entries }).map(([key, value]) => ({ key, value })),
  });
const inline = (name: string, bytes: number): Tensor => onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.UINT8, dims: [bytes], rawData: new Uint8Array(bytes).fill(7) });
const graphOf = (fields: onnx.IGraphProto): onnx.IGraphProto => onnx.GraphProto.create({ name: 'g', ...fields });
const encode = (fields: onnx.IModelProto): Uint8Array => onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], ...fields })).finish();
const ifNode = (branch: onnx.IGraphProto): onnx.INodeProto => ({ opType: 'If', input: ['c'], output: ['o'], attribute: [{ name: 'then_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: branch }] });

/** A graph holding `depth` If subgraphs nested one in another, the innermost with an external initializer. */
function nested(depth: number): onnx.IGraphProto {
  let graph = graphOf({ initializer: [external('deep', 'deep.bin')] });
  for (let level = 0; level < depth; level++) graph = graphOf({ node: [ifNode(graph)] });
  return graph;
}

/** y = x * W + b, with W and b (float[2] each) kept in `location` at offsets 0 and 8. */
function externalLinear(location: string): Uint8Array {
  const weight = (name: string, offset: number) => external(name, location, { offset: String(offset), length: '8' });
  const io = (name: string) => ({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: 2 }] } } } });
  const W = { ...weight('W', 0), dims: [2] };
  const b = { ...weight('b', 8), dims: [2] };
  return encode({
    graph: graphOf({
      node: [
        { opType: 'Mul', input: ['x', 'W'], output: ['xw'] },
        { opType: 'Add', input: ['xw', 'b'], output: ['y'] },
      ],
      initializer: [W, b],
      input: [io('x')],
      output: [io('y')],
    }),
  });
}
const weights = Buffer.from(new Float32Array([2, 3, 0.5, -1]).buffer);

/** A fresh folder per test (both describes below). */
let work: string;
beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'modelstore-onnx-external-'));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

describe('readOnnxExternalData', () => {
  const file = (name: string, bytes: Uint8Array): string => {
    writeFileSync(path.join(work, name), bytes);
    return path.join(work, name);
  };

  it('finds external tensors wherever a tensor can sit: initializers, sparse initializers, attributes, subgraphs, functions, training graphs', async () => {
    const model = encode({
      graph: graphOf({
        initializer: [external('init', 'a.bin', { offset: '16', length: '4' }), inline('inline', 64)],
        sparseInitializer: [{ values: external('sparse-values', 'sparse.bin'), indices: external('sparse-indices', 'sparse.bin', { offset: '4' }), dims: [4] }],
        node: [
          { opType: 'Constant', output: ['c'], attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: external('attr', 'sub/attr.bin', { offset: 'x', length: '-1' }) }] },
          ifNode(graphOf({ initializer: [external('then', '../then.bin')] })),
        ],
      }),
      functions: [{ name: 'f', domain: 'local', node: [{ opType: 'Constant', output: ['k'], attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: external('in-function', 'f.bin') }] }] }],
      trainingInfo: [{ initialization: graphOf({ initializer: [external('training', 't.bin')] }) }],
    });
    const fromFile = await readOnnxExternalData(file('model.onnx', model));
    expect(fromFile.tensors).toEqual([
      // In file order: GraphProto.node (1) before initializer (5) and sparse_initializer (15); training_info (20) before functions (25).
      { tensor: 'attr', location: 'sub/attr.bin', offset: undefined, length: undefined },
      { tensor: 'then', location: '../then.bin', offset: 0, length: null },
      { tensor: 'init', location: 'a.bin', offset: 16, length: 4 },
      { tensor: 'sparse-values', location: 'sparse.bin', offset: 0, length: null },
      { tensor: 'sparse-indices', location: 'sparse.bin', offset: 4, length: null },
      { tensor: 'training', location: 't.bin', offset: 0, length: null },
      { tensor: 'in-function', location: 'f.bin', offset: 0, length: null },
    ]);
    expect(fromFile.size).toBe(model.byteLength);
    const fromBytes = await readOnnxExternalData(model);
    expect(fromBytes).toEqual({ ...fromFile, bytesRead: 0 });
  });

  it('skips inline weights instead of reading them: 40 tensors of 256 KiB cost at most 8 KiB each', async () => {
    const tensors = Array.from({ length: 40 }, (_, index) => inline(`w${index}`, 256 * 1024));
    const scan = await readOnnxExternalData(file('big.onnx', encode({ graph: graphOf({ initializer: [...tensors, external('last', 'last.bin')] }) })));
    expect(scan.size).toBeGreaterThan(40 * 256 * 1024);
    expect(scan.tensors.map((tensor) => tensor.tensor)).toEqual(['last']);
    expect(scan.bytesRead).toBeGreaterThan(0);
    expect(scan.bytesRead).toBeLessThanOrEqual(41 * 8 * 1024);
  });

  it('follows subgraphs 64 levels deep and refuses a 65th', async () => {
    expect((await readOnnxExternalData(encode({ graph: nested(64) }))).tensors.map((tensor) => tensor.tensor)).toEqual(['deep']);
    const refused = await readOnnxExternalData(encode({ graph: nested(65) })).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OnnxFormatError);
    expect((refused as Error).message).toBe('subgraphs nest deeper than 64 levels');
  });

  it('refuses what is not a well-formed ONNX protobuf with an OnnxFormatError (an InvalidArgumentError for the model)', async () => {
    const good = encode({ graph: graphOf({ initializer: [external('w', 'w.bin')] }) });
    const cases: Array<[Uint8Array, string]> = [
      [new Uint8Array([0x3a, 0x7f, 0x01]), 'a protobuf field runs past the message that holds it'],
      [new Uint8Array([0x0b, 0x00]), 'an unsupported protobuf wire type 3'],
      [new Uint8Array([0x08, 0xff]), 'a truncated or malformed protobuf varint'],
      [encode({ producerName: 'no graph' }), 'it has no graph (ModelProto.graph)'],
      [good.subarray(0, good.byteLength - 3), 'a protobuf field runs past the message that holds it'],
    ];
    for (const [bytes, message] of cases) {
      for (const model of [bytes, file('bad.onnx', bytes)]) {
        const error = await readOnnxExternalData(model).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(OnnxFormatError);
        expect(error).toBeInstanceOf(InvalidArgumentError);
        expect([(error as Error).message, (error as InvalidArgumentError).argument]).toEqual([message, 'model']);
      }
    }
  });

  it('resolveOnnxLocation keeps a location inside the model folder, or says why not', () => {
    expect(resolveOnnxLocation('model.onnx', 'model.onnx_data')).toEqual({ inside: 'model.onnx_data' });
    expect(resolveOnnxLocation('onnx/model.onnx', '../weights/./w.bin')).toEqual({ inside: 'weights/w.bin' });
    expect(resolveOnnxLocation('onnx/model.onnx', 'sub\\w.bin')).toEqual({ inside: 'onnx/sub/w.bin' });
    expect(resolveOnnxLocation('model.onnx', '../../etc/passwd')).toEqual({ refused: 'a location outside the model folder' });
    for (const location of ['/etc/passwd', '\\\\server\\share', 'C:\\w.bin', '~/w.bin']) expect(resolveOnnxLocation('model.onnx', location)).toEqual({ refused: 'an absolute location' });
    expect(resolveOnnxLocation('model.onnx', '')).toEqual({ refused: 'an empty location' });
    expect(resolveOnnxLocation('model.onnx', 'a\0b')).toEqual({ refused: 'a location with a NUL character' });
    expect(resolveOnnxLocation('onnx/model.onnx', '..')).toEqual({ refused: 'a location that names the model folder itself' });
  });
});

describe('OnnxAdapter with external data', () => {
  let store: ModelStore;
  beforeEach(() => {
    store = new ModelStore({ storage: new FileSystemStorage({ root: path.join(work, 'registry') }), adapters: [new OnnxAdapter()], cacheDir: path.join(work, 'cache') });
  });

  /** A model folder: `linear.onnx` with its weights at `location`, and the files given. */
  function folder(location: string, files: Record<string, Buffer> = { [location]: weights }): string {
    const directory = path.join(work, 'model');
    for (const [name, bytes] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(directory, name)), { recursive: true });
      writeFileSync(path.join(directory, name), bytes);
    }
    mkdirSync(directory, { recursive: true });
    writeFileSync(path.join(directory, 'linear.onnx'), externalLinear(location));
    return path.join(directory, 'linear.onnx');
  }

  it('stores a .onnx file with its external data beside it, and onnxruntime loads the stored model', async () => {
    const metadata = await store.upload('linear', { model: folder('weights/linear.bin') });
    expect(metadata.model.parameters).toMatchObject({ external_data: ['weights/linear.bin'], inputs: [{ name: 'x', type: 'float32', shape: [2] }] });
    expect(Object.keys(metadata.archive!.files).sort()).toEqual(['model-info.json', 'model.onnx', 'weights/linear.bin']);
    const session = await store.load<ort.InferenceSession>('linear');
    const output = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 4]), [2]) });
    expect(Array.from(output.y!.data as Float32Array)).toEqual([2.5, 11]);
  });

  it('refuses external data outside the folder, missing, too short, or on a name the archive keeps; and ONNX bytes that name external data. Nothing is committed', async () => {
    const refusals: Array<[string, Record<string, Buffer> | undefined, unknown, string | RegExp]> = [
      ['../outside.bin', {}, SourceFileError, /as external data at "\.\.\/outside\.bin", a location outside the model folder/],
      ['/etc/passwd', {}, SourceFileError, /an absolute location/],
      ['missing.bin', {}, SourceFileError, /but there is no file/],
      ['short.bin', { 'short.bin': weights.subarray(0, 12) }, IntegrityError, /bytes 8 to 16, past the end of its 12 bytes/],
      ['extras/w.bin', undefined, InvalidArgumentError, /a name the archive keeps for itself/],
      ['model.onnx', undefined, InvalidArgumentError, /a name the archive keeps for itself/],
      ['sub', { 'sub/w.bin': weights }, SourceFileError, /is not a regular file/],
    ];
    for (const [location, files, type, message] of refusals) {
      rmSync(path.join(work, 'model'), { recursive: true, force: true });
      const error = await store.upload('linear', { model: folder(location, files) }).catch((caught: unknown) => caught);
      expect([location, error]).toEqual([location, expect.any(type as new () => Error)]);
      expect((error as Error).message).toMatch(message);
    }
    expect((await store.upload('linear', { model: externalLinear('linear.bin') }).catch((caught: unknown) => caught)) as Error).toMatchObject({
      message: expect.stringMatching(/^These ONNX bytes keep tensor "W" \(and 1 more\) as external data at "linear.bin": pass the path of the \.onnx file/),
      argument: 'model',
    });
    expect(await store.listDomains()).toEqual([]);
  });

  it('refuses to load a model.onnx whose external data lies outside its folder, before onnxruntime opens it', async () => {
    const directory = path.join(work, 'extracted');
    mkdirSync(directory);
    writeFileSync(path.join(directory, 'model.onnx'), externalLinear('../secret.bin'));
    writeFileSync(path.join(work, 'secret.bin'), weights);
    const error = await new OnnxAdapter().load(directory, {} as never).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnsafeArchiveError);
    expect((error as Error).message).toBe(
      `Refusing to load ${directory}: model.onnx keeps tensor "W" as external data at "../secret.bin", a location outside the model folder. onnxruntime would read a file outside the model folder; nothing was loaded.`,
    );
    expect(readdirSync(directory)).toEqual(['model.onnx']);
  });
});
