import { describe, expect, it } from '@jest/globals';
import { run } from '@modelstore/cli';
import { FileSystemStorage } from '@modelstore/storage-fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { expected, store, testEnv, workDir } from './helpers.js';

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await run(args, { stdout, stderr, stdin: new PassThrough(), env: {} });
  return { code, stdout: out, stderr: err };
}

describe('modelstore info on a safetensors model', () => {
  it('prints one summary line (tensors, parameters, files, dtypes) and leaves the tensor list to --json', async () => {
    const root = workDir('cli-registry');
    await store(new FileSystemStorage({ root })).upload('weights', { model: path.join(testEnv().paths.models, 'many', 'model.safetensors'), modelId: 'many-v1' });
    const want = expected().many;
    const { code, stdout, stderr } = await cli(['--store', pathToFileURL(root).href, 'info', 'weights', 'many-v1']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(new RegExp(`^safetensors: +${want.tensor_count.toLocaleString('en-US')} tensors, ${want.parameters.toLocaleString('en-US')} parameters, 1 file, dtypes F32 ${want.parameters.toLocaleString('en-US')}$`, 'm'));
    expect(stdout).toMatch(/^ {2}tensors: 256 listed \(--json prints them\)$/m);
    expect(stdout).toMatch(/^ {2}total_parameters: 20000$/m);
    expect(stdout).not.toContain('layers.0000.weight');
    const json = await cli(['--json', '--store', pathToFileURL(root).href, 'info', 'weights', 'many-v1']);
    expect(JSON.parse(json.stdout).model.parameters.tensors[0]).toEqual({ name: 'layers.0000.weight', dtype: 'F32', shape: [2, 2], file: 'model.safetensors' });
  });
});
