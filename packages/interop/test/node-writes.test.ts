// This library writes, Python modelstore reads and acts: on every backend, ModelStore
// uploads a raw file with extra files, a directory tree and an ONNX model, sets states,
// deletes a model and copies a model in from another store; the real Python library
// lists domains and models (with and without state_name), reads model info and the
// domain, downloads (the same bytes), sets a state and deletes a model — and Node then
// sees what Python did.
import { describe, expect, it } from '@jest/globals';
import { ModelDeletedError } from '@modelstore/core';
import { FileSystemStorage } from '@modelstore/storage-fs';
import { readFileSync } from 'node:fs';
import { onnx } from 'onnx-proto';
import path from 'node:path';
import { backends, nodeStore, ok, py, pyOk, seeded, sha256, treeDigest, workDir, writeFiles } from './helpers.js';

const pause = () => new Promise((resolve) => setTimeout(resolve, 1100)); // Python orders by code.created, to the second
const withoutArchive = (files: Record<string, string>) => Object.fromEntries(Object.entries(files).filter(([name]) => name !== 'artifacts.tar.gz'));

/** y = x + 1 on float[1,2], built here with onnx-proto (opset 13, IR 8). */
function onnxAddOne(): Uint8Array {
  const valueInfo = (name: string) =>
    onnx.ValueInfoProto.create({
      name,
      type: onnx.TypeProto.create({
        tensorType: onnx.TypeProto.Tensor.create({ elemType: onnx.TensorProto.DataType.FLOAT, shape: onnx.TensorShapeProto.create({ dim: [{ dimValue: 1 }, { dimValue: 2 }] }) }),
      }),
    });
  const graph = onnx.GraphProto.create({
    name: 'add-one',
    node: [onnx.NodeProto.create({ opType: 'Add', input: ['x', 'one'], output: ['y'] })],
    initializer: [onnx.TensorProto.create({ name: 'one', dims: [2], dataType: onnx.TensorProto.DataType.FLOAT, floatData: [1, 1] })],
    input: [valueInfo('x')],
    output: [valueInfo('y')],
  });
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], producerName: 'modelstore-interop', graph })).finish();
}

describe.each(backends().map((backend) => [backend.name, backend] as const))('Node writes, Python reads: %s', (_name, backend) => {
  it('Python lists, reads, downloads the same bytes, sets states and deletes what Node wrote; Node sees the changes', async () => {
    const registry = backend.create();
    const store = nodeStore(registry.node);
    const inputs = writeFiles({
      'model.bin': seeded('node-model', 100 * 1024),
      'notes.txt': 'trained on monday\n',
      'tree/config.json': '{"layers":3}',
      'tree/weights/part-0.bin': seeded('part-0', 10_000),
      'tree/weights/part-1.bin': seeded('part-1', 20_000),
    });
    const raw = await store.upload('served', { model: path.join(inputs, 'model.bin'), extraFiles: [path.join(inputs, 'notes.txt')], extraMetadata: { owner: 'node', score: 0.75 } });
    await pause();
    const tree = await store.upload('served', { model: path.join(inputs, 'tree'), modelId: 'tree-v1' });
    await pause();
    const doomed = await store.upload('served', { model: path.join(inputs, 'model.bin') });
    await store.deleteModel('served', doomed.model.model_id);
    await store.createModelState('production');
    await store.createModelState('canary');
    await store.setModelState('served', raw.model.model_id, 'production');
    await store.setModelState('served', 'tree-v1', 'canary');
    await store.setModelState('served', 'tree-v1', 'production');
    await store.removeModelState('served', 'tree-v1', 'production');
    // A model promoted from another store (a local folder) into this one.
    const staging = nodeStore(new FileSystemStorage({ root: workDir('staging') }));
    const onnx = await staging.upload('onnx-linear', { model: onnxAddOne(), modelId: 'add-one' });
    await staging.copyModel('onnx-linear', 'add-one', store, { states: ['production'] });

    const work = workDir('node-writes');
    const [domains, served, production, canary, latest, info, deletedInfo, statesOfTree, rawDownload, treeDownload, onnxDownload, onnxInfo, onnxStates] = await py(registry.python, [
      { op: 'list_domains' },
      { op: 'list_models', domain: 'served' },
      { op: 'list_models', domain: 'served', state: 'production' },
      { op: 'list_models', domain: 'served', state: 'canary' },
      { op: 'get_domain', domain: 'served' },
      { op: 'get_model_info', domain: 'served', model_id: raw.model.model_id },
      { op: 'get_model_info', domain: 'served', model_id: doomed.model.model_id },
      { op: 'get_model_states', domain: 'served', model_id: 'tree-v1' },
      { op: 'download', domain: 'served', model_id: raw.model.model_id, to: path.join(work, 'raw') },
      { op: 'download', domain: 'served', model_id: 'tree-v1', to: path.join(work, 'tree') },
      { op: 'download', domain: 'onnx-linear', to: path.join(work, 'onnx') }, // no id: the latest
      { op: 'get_model_info', domain: 'onnx-linear', model_id: 'add-one' },
      { op: 'get_model_states', domain: 'onnx-linear', model_id: 'add-one' },
    ]);
    expect(new Set(ok<string[]>(domains))).toEqual(new Set(['served', 'onnx-linear']));
    expect(ok(domains)).toEqual(await store.listDomains());
    expect(ok(served)).toEqual(['tree-v1', raw.model.model_id]);
    expect(ok(served)).toEqual(await store.listModels('served'));
    expect(ok(production)).toEqual([raw.model.model_id]);
    expect(ok(canary)).toEqual(['tree-v1']);
    expect(ok(latest).model.model_id).toBe('tree-v1');
    const pythonInfo = ok(info);
    expect(pythonInfo.model.model_type.library).toBe('model_file');
    expect(pythonInfo.extra).toEqual(expect.objectContaining({ owner: 'node', score: 0.75 }));
    expect(pythonInfo.storage.type).toBe(registry.node.describe('x').type);
    expect(deletedInfo).toMatchObject({ error: { type: 'ModelDeletedException' } });
    expect(ok(statesOfTree)).toEqual(['canary']);

    // Python's downloads hold exactly the files Node stored, and Node's own downloads.
    expect(withoutArchive(ok(rawDownload).files)).toEqual({
      'extras/notes.txt': sha256('trained on monday\n'),
      'model-info.json': expect.any(String),
      'model.bin': sha256(readFileSync(path.join(inputs, 'model.bin'))),
    });
    expect(withoutArchive(ok(rawDownload).files)).toEqual(treeDigest(await store.download('served', { modelId: raw.model.model_id, to: path.join(work, 'node-raw') })));
    expect(withoutArchive(ok(treeDownload).files)).toEqual(treeDigest(await store.download('served', { modelId: 'tree-v1', to: path.join(work, 'node-tree') })));
    expect(withoutArchive(ok(treeDownload).files)['weights/part-1.bin']).toBe(sha256(seeded('part-1', 20_000)));
    expect(withoutArchive(ok(onnxDownload).files)['model.onnx']).toBe(sha256(Buffer.from(onnxAddOne())));
    expect(ok(onnxInfo).model.model_type).toEqual({ library: 'onnx', type: onnx.model.model_type.type ?? null, models: null });
    expect(ok(onnxStates)).toEqual(['production']);

    // Python acts on Node's models; Node sees it.
    await pyOk(registry.python, [
      { op: 'create_model_state', state: 'archived' },
      { op: 'set_model_state', domain: 'served', model_id: 'tree-v1', state: 'archived' },
      { op: 'delete_model', domain: 'served', model_id: raw.model.model_id },
    ]);
    expect(await store.listModels('served', { state: 'archived' })).toEqual(['tree-v1']);
    expect(await store.getModelStates('served', 'tree-v1')).toEqual(expect.arrayContaining(['archived', 'canary']));
    await expect(store.getModelInfo('served', raw.model.model_id)).rejects.toBeInstanceOf(ModelDeletedError);
    expect(await store.listModels('served')).toEqual(['tree-v1']);
    expect(await store.listModels('served', { state: 'production' })).toEqual([]);
  });
});
