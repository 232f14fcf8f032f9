// Python modelstore writes, this library reads: on every backend, the real Python
// library uploads raw files (with extra files), an ONNX model, creates, sets and removes
// states, soft-deletes a model and re-uploads a deleted custom id; Node lists, orders,
// reads states, downloads (bytes identical to what Python downloads) and loads.
import { describe, expect, it } from '@jest/globals';
import { ModelDeletedError, ModelExistsError } from '@modelstore/core';
import type { InferenceSession } from 'onnxruntime-node';
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { backends, nodeStore, ok, py, seeded, sha256, treeDigest, workDir, writeFiles } from './helpers.js';

const withoutArchive = (files: Record<string, string>) => Object.fromEntries(Object.entries(files).filter(([name]) => name !== 'artifacts.tar.gz'));

describe.each(backends().map((backend) => [backend.name, backend] as const))('Python writes, Node reads: %s', (_name, backend) => {
  it('lists, orders, reads states, downloads identical bytes and loads what Python wrote', async () => {
    const registry = backend.create();
    const inputs = writeFiles({
      'run-0/model.bin': seeded('py-0', 64 * 1024),
      'run-1/model.bin': seeded('py-1', 64 * 1024),
      'run-2/model.bin': seeded('py-2', 32 * 1024),
      'custom-a/model.bin': seeded('custom-a', 1000),
      'custom-b/model.bin': seeded('custom-b', 2000),
      'README.txt': 'churn model\n',
      'labels.json': '["stays","leaves"]',
      'vocab/tokens.txt': 'a\nb\nc\n',
      'a-directory/one.txt': 'one',
      'a-directory/two.txt': 'two',
    });
    const input = (name: string) => path.join(inputs, name);
    const pause = { op: 'sleep', seconds: 1.1 }; // Python orders by code.created, to the second
    const results = await py(registry.python, [
      { op: 'upload', domain: 'churn', model: input('run-0/model.bin'), extra_files: [input('README.txt'), input('labels.json')], extra_metadata: { accuracy: 0.9, run: 0 } }, // 0
      pause,
      { op: 'upload', domain: 'linear', model: { onnx_linear: true } }, // 2
      pause,
      // Python modelstore has no directory upload: several files go as the model file and extra files.
      { op: 'upload', domain: 'churn', model: input('run-1/model.bin'), extra_files: [input('README.txt'), input('labels.json'), input('vocab/tokens.txt')] }, // 4
      { op: 'upload', domain: 'with-dir', model: input('a-directory') }, // 5: refused
      { op: 'create_model_state', state: 'production' },
      { op: 'create_model_state', state: 'staging' },
      { op: 'set_model_state', domain: 'churn', model_id: '$0', state: 'production' },
      { op: 'set_model_state', domain: 'churn', model_id: '$4', state: 'staging' },
      { op: 'set_model_state', domain: 'churn', model_id: '$4', state: 'production' }, // 10
      { op: 'remove_model_state', domain: 'churn', model_id: '$4', state: 'production' },
      pause,
      { op: 'upload', domain: 'churn', model: input('run-2/model.bin') }, // 13: deleted below
      { op: 'delete_model', domain: 'churn', model_id: '$13' },
      pause,
      { op: 'upload', domain: 'churn', model_id: 'churn-custom', model: input('custom-a/model.bin') }, // 16
      { op: 'delete_model', domain: 'churn', model_id: 'churn-custom' },
      pause,
      { op: 'upload', domain: 'churn', model_id: 'churn-custom', model: input('custom-b/model.bin') }, // 19: re-upload of a deleted id
    ]);
    expect(results[5]).toMatchObject({ error: { type: 'ValueError', message: 'could not find matching manager' } });
    const ids = results.map((result) => ('ok' in result && result.ok && typeof result.ok === 'object' && 'model' in result.ok ? result.ok.model.model_id : undefined));
    const [first, linear, second, deleted] = [ids[0]!, ids[2]!, ids[4]!, ids[13]!];
    for (const index of [0, 2, 4, 13, 14, 16, 17, 19]) ok(results[index]);

    // What Python itself answers, to compare with.
    const work = workDir('python-writes');
    const facts = await py(
      registry.python,
      [
        { op: 'list_domains' },
        { op: 'list_models', domain: 'churn' },
        { op: 'list_models', domain: 'churn', state: 'production' },
        { op: 'list_models', domain: 'churn', state: 'staging' },
        { op: 'get_domain', domain: 'churn' },
        { op: 'list_model_states' },
        ...[first, second, 'churn-custom'].map((id) => ({ op: 'download', domain: 'churn', model_id: id, to: path.join(work, 'py', id) })),
        { op: 'download', domain: 'linear', model_id: linear, to: path.join(work, 'py', linear) },
        { op: 'get_model_info', domain: 'churn', model_id: deleted },
      ].map((op) => JSON.parse(JSON.stringify(op))),
    );
    const [domains, churn, production, staging, latest, states] = facts.slice(0, 6).map((fact) => ok(fact));
    expect(churn).toEqual(['churn-custom', second, first]);
    expect(production).toEqual([first]);
    expect(staging).toEqual([second]);
    expect(facts[10]).toMatchObject({ error: { type: 'ModelDeletedException' } });

    const store = nodeStore(registry.node);
    expect(await store.listDomains()).toEqual(domains);
    expect(await store.listModels('churn')).toEqual(churn);
    expect(await store.listModels('churn', { state: 'production' })).toEqual(production);
    expect(await store.listModels('churn', { state: 'staging' })).toEqual(staging);
    expect((await store.getDomain('churn')).model.model_id).toBe(latest.model.model_id);
    expect((await store.listModelStates()).sort()).toEqual([...states].sort());
    expect(await store.getModelStates('churn', first)).toEqual(['production']);
    expect(await store.getModelStates('churn', second)).toEqual(['staging']);
    expect(await store.getModelStates('churn', 'churn-custom')).toEqual([]);

    // The soft-deleted model: not listed, not there, and reading it says why.
    await expect(store.getModelInfo('churn', deleted)).rejects.toBeInstanceOf(ModelDeletedError);
    expect(await store.modelExists('churn', deleted)).toBe(false);
    // The re-uploaded custom id is there again, with the second upload's bytes.
    expect(await store.modelExists('churn', 'churn-custom')).toBe(true);

    const info = await store.getModelInfo('churn', first);
    expect(info.extra).toEqual({ accuracy: 0.9, run: 0 });
    expect(info.model.model_type.library).toBe('model_file');

    // Downloads: the same files, byte for byte, as Python's own download extracts.
    for (const [index, id] of [first, second, 'churn-custom'].entries()) {
      const mine = await store.download('churn', { modelId: id, to: path.join(work, 'node', id) });
      expect(treeDigest(mine)).toEqual(withoutArchive(ok(facts[6 + index]).files));
    }
    expect(treeDigest(path.join(work, 'node', first))).toMatchObject({
      'model.bin': sha256(readFileSync(input('run-0/model.bin'))),
      'extras/README.txt': sha256('churn model\n'),
      'extras/labels.json': sha256('["stays","leaves"]'),
    });
    expect(treeDigest(path.join(work, 'node', second))['extras/tokens.txt']).toBe(sha256('a\nb\nc\n'));
    expect(treeDigest(path.join(work, 'node', 'churn-custom'))['model.bin']).toBe(sha256(readFileSync(input('custom-b/model.bin'))));

    // Loads: RawAdapter gives the folder, OnnxAdapter a session that computes what Python's model computes.
    const loaded = await store.load<string>('churn', { modelId: first });
    expect(treeDigest(loaded)['model.bin']).toBe(sha256(readFileSync(input('run-0/model.bin'))));
    const linearMine = await store.download('linear', { to: path.join(work, 'node', linear) });
    expect(treeDigest(linearMine)).toEqual(withoutArchive(ok(facts[9]).files));
    const session = await store.load<InferenceSession>('linear');
    const output = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 1]), [1, 2]) });
    expect(Array.from(output.y!.data as Float32Array)).toEqual([4.5, 6.5]);

    // Python let 'churn-custom' be uploaded again after its deletion; this library refuses a deleted id.
    await expect(store.upload('churn', { model: input('run-0/model.bin'), modelId: deleted })).rejects.toBeInstanceOf(ModelExistsError);
    expect(await store.listModels('churn')).toEqual(churn);
  });
});
