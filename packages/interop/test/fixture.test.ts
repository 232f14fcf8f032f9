// The Python-written fixture the registry tests read (python/fixtures/python-modelstore):
// regenerated here by python/generate_fixtures.py with the real library, and both the
// fresh registry and the committed one, moved away from where Python wrote them, read by
// ModelStore exactly as Python's own API answered on them (expected.json).
import { describe, expect, it } from '@jest/globals';
import { ModelDeletedError } from '@modelstore/core';
import { FileSystemStorage } from '@modelstore/storage-fs';
import { execFile } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import * as ort from 'onnxruntime-node';
import { awayFromOffsetRounding, createdStamps } from '@modelstore/storage-conformance';
import { interopEnv, nodeStore, treeDigest, workDir } from './helpers.js';

const repo = path.resolve(__dirname, '../../..');
const committed = path.join(repo, 'python', 'fixtures', 'python-modelstore');

function generate(): Promise<string> {
  const out = path.join(workDir('fixture'), 'python-modelstore');
  return new Promise((resolve, reject) =>
    execFile(interopEnv().python, [path.join(repo, 'python', 'generate_fixtures.py'), out], { timeout: 170_000 }, (error, _stdout, stderr) =>
      error ? reject(new Error(`generate_fixtures.py failed: ${error.message}\n${stderr}`)) : resolve(out),
    ),
  );
}

async function checkFixture(fixture: string): Promise<void> {
  const expected = JSON.parse(readFileSync(path.join(fixture, 'expected.json'), 'utf8'));
  // A registry that has moved: the absolute paths in its metadata name a folder that is gone.
  const root = path.join(workDir('moved'), 'registry');
  // The copy's file times are now: wait away from an offset rounding boundary (see awayFromOffsetRounding).
  await awayFromOffsetRounding(createdStamps(path.join(fixture, 'registry-fs')));
  cpSync(path.join(fixture, 'registry-fs'), root, { recursive: true });
  const store = nodeStore(new FileSystemStorage({ root }));
  const work = workDir('fixture-out');
  expect(await store.listDomains()).toEqual(expected.list_domains);
  expect((await store.listModelStates()).sort()).toEqual([...expected.list_model_states].sort());
  for (const [domain, facts] of Object.entries<any>(expected.domains)) {
    expect(await store.listModels(domain)).toEqual(facts.list_models);
    expect((await store.getDomain(domain)).model.model_id).toBe(facts.latest_model_id);
    for (const [state, ids] of Object.entries(facts.list_models_by_state)) expect(await store.listModels(domain, { state })).toEqual(ids);
    for (const [modelId, model] of Object.entries<any>(facts.models)) {
      expect((await store.getModelStates(domain, modelId)).sort()).toEqual([...model.get_model_states].sort());
      expect(await store.modelExists(domain, modelId)).toBe(model.model_exists);
      const info = await store.getModelInfo(domain, modelId);
      expect(info.model.model_type.library).toBe(model.model_type.library);
      expect(info.extra ?? null).toEqual(model.extra ?? null);
      expect(treeDigest(await store.download(domain, { modelId, to: path.join(work, domain, modelId) }))).toEqual(model.files_sha256);
    }
    expect(treeDigest(await store.download(domain, { to: path.join(work, 'latest', domain) }))).toEqual(facts.download_without_id_files_sha256);
    if (facts.deleted) {
      await expect(store.getModelInfo(domain, facts.deleted.model_id)).rejects.toBeInstanceOf(ModelDeletedError);
      expect(facts.deleted.get_model_info.error.type).toBe('ModelDeletedException');
      expect(await store.modelExists(domain, facts.deleted.model_id)).toBe(false);
    }
  }
  expect(expected['with-dir'].upload.error.message).toBe('could not find matching manager');
  expect(await store.listDomains()).not.toContain('with-dir');
  const onnx = expected.domains['iris-onnx'].onnx;
  const session = await store.load<InferenceSession>('iris-onnx');
  const output = await session.run({ x: new ort.Tensor('float32', Float32Array.from(onnx.inputs.x.flat()), [1, 2]) });
  expect(Array.from(output.y!.data as Float32Array)).toEqual(onnx.expected_outputs.y.flat());
}

describe('the python-modelstore fixture', () => {
  it('regenerated now by the real library, reads in Node as Python answered on it', async () => {
    const fresh = await generate();
    const expected = JSON.parse(readFileSync(path.join(fresh, 'expected.json'), 'utf8'));
    expect(expected.generator.modelstore_version).toBe('0.0.82');
    await checkFixture(fresh);
  });

  it('committed in the repository, was written by the pinned library and reads in Node as Python answered on it', async () => {
    const expected = JSON.parse(readFileSync(path.join(committed, 'expected.json'), 'utf8'));
    const pinned = /^modelstore==(.+)$/m.exec(readFileSync(path.join(repo, 'python', 'requirements.txt'), 'utf8'))![1];
    expect(expected.generator.modelstore_version).toBe(pinned);
    await checkFixture(committed);
  });
});
