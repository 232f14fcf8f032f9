import { describe, expect, it } from '@jest/globals';
import { FileSystemStorage } from '@modelstore/storage-fs';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { store, testEnv, workDir } from './helpers.js';

describe('Python modelstore 0.0.82 on a safetensors model Node stored', () => {
  it('lists it, returns the recorded header facts unchanged from get_model_info, downloads the files, sets a state Node then reads, and refuses to load a library it has no manager for', async () => {
    const root = workDir('python-registry');
    const modelStore = store(new FileSystemStorage({ root }));
    const sharded = path.join(testEnv().paths.models, 'sharded');
    const metadata = await modelStore.upload('weights', { model: sharded, modelId: 'shards-v1' });
    const { stdout } = await promisify(execFile)(testEnv().modelstorePython, [path.join(__dirname, 'python', 'python_reads.py'), root, 'weights', 'shards-v1', workDir('python-download')], { timeout: 120_000 });
    const seen = JSON.parse(stdout);
    expect(seen.models).toEqual(['shards-v1']);
    expect(seen.info.model.model_type).toEqual({ library: 'safetensors', type: 'safetensors-sharded', models: null });
    // Python keeps model.parameters as it was stored: every fact, nested lists and maps included.
    expect(seen.info.model.parameters).toEqual(metadata.model.parameters);
    const sha = (file: string) =>
      createHash('sha256')
        .update(readFileSync(path.join(sharded, file)))
        .digest('hex');
    expect(seen.downloaded).toEqual(
      Object.fromEntries(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json', 'model-info.json'].sort().map((name) => [name, name === 'model-info.json' ? expect.any(String) : sha(name)])),
    );
    expect(await modelStore.getModelStates('weights', 'shards-v1')).toEqual(['production']);
    expect(await modelStore.listModels('weights', { state: 'production' })).toEqual(['shards-v1']);
    expect((await modelStore.getModelInfo('weights', 'shards-v1')).model.parameters).toEqual(metadata.model.parameters);
    expect(seen.load_error).toEqual(['KeyError', "'safetensors'"]);
  });
});
