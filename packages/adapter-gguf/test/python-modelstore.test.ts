import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { createStore, expected, model, testEnv, workDir } from './helpers.js';

const script = path.join(__dirname, 'python', 'model_info.py');

describe('Python modelstore 0.0.82 and a GGUF model stored from Node', () => {
  it('lists it, returns the header facts from get_model_info as they were stored, downloads the parts, and cannot load it', async () => {
    const want = expected();
    const { store, root } = createStore('fs');
    const stored = await store.upload('tiny-split', { model: model(want.split_files[0]!), modelId: 'split-v1' });
    const output = execFileSync(testEnv().modelstorePython, [script, root, 'tiny-split', 'split-v1', workDir('python-download')], { encoding: 'utf8' });
    const python = JSON.parse(output.trim().split('\n').pop()!) as { models: string[]; model: Record<string, unknown>; files: string[]; load_error: string | null };
    expect(python.models).toEqual(['split-v1']);
    // "gguf" is no library of Python modelstore's: it keeps the type and the facts as they are.
    expect(python.model.model_type).toEqual({ library: 'gguf', type: 'llama', models: null });
    expect(python.model.parameters).toEqual(stored.model.parameters);
    expect(python.files).toEqual(['model-info.json', ...want.split_files].sort());
    // Python has no manager for it: its load fails with a KeyError naming the library.
    expect(python.load_error).toBe("KeyError: 'gguf'");
  });
});
