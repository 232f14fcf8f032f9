// `modelstore upload` picks the most specific adapter installed in the project it runs in
// (here @modelstore/adapter-safetensors), RawAdapter last; `--adapter` forces one, an unknown
// one is a usage error and one whose package is missing names the package to install.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { modelstore } from './helpers.js';

/** A valid safetensors file (github.com/huggingface/safetensors, "Format"): one F32 tensor of 2 × 2. */
function safetensors(): Buffer {
  const header = Buffer.from(JSON.stringify({ weight: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] }, __metadata__: { format: 'pt' } }));
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([size, header, Buffer.from(new Float32Array([1, 2, 3, 4]).buffer)]);
}

describe('modelstore upload: which adapter stores the model', () => {
  let work: string;
  let file: string;
  const env = () => ({ MODELSTORE_STORE: path.join(work, 'store') });
  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), 'modelstore-cli-adapters-'));
    // The project the command runs in has @modelstore/adapter-safetensors installed (the
    // workspace package, built before this test: turbo.json), as `npm i` would put it.
    mkdirSync(path.join(work, 'node_modules', '@modelstore'), { recursive: true });
    symlinkSync(path.resolve(__dirname, '..', '..', 'adapter-safetensors'), path.join(work, 'node_modules', '@modelstore', 'adapter-safetensors'));
    file = path.join(work, 'model.safetensors');
    writeFileSync(file, safetensors());
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('uses an installed adapter that accepts the model, and records its facts', async () => {
    const upload = await modelstore(['--json', 'upload', 'weights', file], { cwd: work, env: env() });
    expect(upload.stderr).not.toMatch(/error/i);
    expect(upload.code).toBe(0);
    const metadata = JSON.parse(upload.stdout);
    expect(metadata.model.model_type.library).toBe('safetensors');
    expect(metadata.model.parameters).toMatchObject({ total_parameters: 4 });
    // info shows the adapter's facts, and the model's own files in columns (not the archive's model-info.json).
    const info = await modelstore(['info', 'weights', metadata.model.model_id], { cwd: work, env: env() });
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(/^safetensors: +\S/m);
    expect(info.stdout).toMatch(/^files:\n {2}model\.safetensors {2} +\d+ B\n/m);
    expect(info.stdout).not.toContain('model-info.json');
  });

  it('--adapter model_file stores the same file as raw files', async () => {
    const upload = await modelstore(['--json', 'upload', 'weights', file, '--adapter', 'model_file'], { cwd: work, env: env() });
    expect(upload.code).toBe(0);
    expect(JSON.parse(upload.stdout).model.model_type.library).toBe('model_file');
  });

  it('stores a format whose adapter is not installed as plain files, and says which package to install', async () => {
    const gguf = path.join(work, 'model-00001-of-00002.gguf');
    writeFileSync(gguf, 'GGUF');
    const upload = await modelstore(['--json', 'upload', 'chat', gguf], { cwd: work, env: env() });
    expect(upload.code).toBe(0);
    expect(JSON.parse(upload.stdout).model.model_type.library).toBe('model_file');
    expect(upload.stderr).toContain('stored as plain files (model_file): install @modelstore/adapter-gguf beside the CLI');
    expect(upload.stderr).toContain('Only this part of a split set was stored');
    // A folder of such files gets the same note; a missing path says to check it, relative to where the command ran.
    mkdirSync(path.join(work, 'ggufs'));
    writeFileSync(path.join(work, 'ggufs', 'model.gguf'), 'GGUF');
    const folder = await modelstore(['upload', 'chat', path.join(work, 'ggufs')], { cwd: work, env: env() });
    expect(folder.code).toBe(0);
    expect(folder.stderr).toContain('install @modelstore/adapter-gguf beside the CLI');
    const missing = await modelstore(['upload', 'chat', 'nope.gguf'], { cwd: work, env: env() });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`No such file or directory: nope.gguf (relative to ${work}): check the path; nothing was uploaded`);
    // No such note when the adapter is installed and chose not to take it (forced here).
    const forced = await modelstore(['upload', 'weights', file, '--adapter', 'model_file'], { cwd: work, env: env() });
    expect(forced.stderr).not.toContain('install @modelstore');
  });

  it('refuses an unknown --adapter, and one whose package is not installed, before touching the store', async () => {
    const unknown = await modelstore(['upload', 'weights', file, '--adapter', 'pytorch'], { cwd: work, env: env() });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--adapter pytorch: use one of gguf, transformers.js, safetensors, onnx, model_file');
    const missing = await modelstore(['upload', 'weights', file, '--adapter', 'gguf'], { cwd: work, env: env() });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('npm install @modelstore/adapter-gguf');
    const listed = await modelstore(['--json', 'ls', 'weights'], { cwd: work, env: env() });
    expect(JSON.parse(listed.stdout)).toHaveLength(3);
  });
});
