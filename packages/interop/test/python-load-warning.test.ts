// Python modelstore's load() compares a model's `code.runtime` with its own interpreter
// ("python:3.11.2") and warns when they differ: every model this library wrote says
// "node:<version>", so Python warns "model was trained with node:…, but is being loaded
// with python:…". No value of the field avoids it without claiming a Python runtime the
// model never saw (a missing runtime warns too, "trained with None"): this library keeps
// the truth, and the warning is harmless — the model loads.
import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { backends, nodeStore, ok, py } from './helpers.js';

describe("Python's load() of a model this library wrote", () => {
  it('loads it, with the runtime warning Python gives for any model trained elsewhere, and none for its own', async () => {
    const registry = backends()
      .find((backend) => backend.name === 'fs')!
      .create();
    // An ONNX model (Python's model_file manager cannot load into memory at all): the demo's iris classifier.
    const onnxBytes = new Uint8Array(readFileSync(path.resolve(__dirname, '../../../examples/demo/data/iris-classifier.onnx')));
    const fromNode = await nodeStore(registry.node).upload('warn', { model: onnxBytes, modelId: 'from-node' });
    expect(fromNode.code?.runtime).toBe(`node:${process.versions.node}`);
    const [uploaded, nodeLoaded, pythonLoaded] = await py(registry.python, [
      { op: 'upload', domain: 'warn', model_id: 'from-python', model: { onnx_linear: true } },
      { op: 'load', domain: 'warn', model_id: 'from-node' },
      { op: 'load', domain: 'warn', model_id: 'from-python' },
    ]);
    ok(uploaded);
    const node = ok<{ runtime_warnings: string[]; loaded: string }>(nodeLoaded);
    expect(node.runtime_warnings).toEqual([expect.stringMatching(new RegExp(`^model was trained with node:${process.versions.node.replaceAll('.', '\\.')}, but is being loaded with python:3\\.`))]);
    expect(node.loaded).toMatch(/InferenceSession|ModelProto|onnx/i);
    expect(ok<{ runtime_warnings: string[] }>(pythonLoaded).runtime_warnings).toEqual([]);
  });
});
