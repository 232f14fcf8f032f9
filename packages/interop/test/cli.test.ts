// Python modelstore's own CLI (`python -m modelstore download <domain> <model-id> <dir>`,
// configured by MODEL_STORE_* variables) downloads what this library uploaded, on every
// backend; and openModelStore() given the same variables opens the same registry.
import { describe, expect, it } from '@jest/globals';
import { openModelStore } from '@modelstore/core';
import { RawAdapter } from '@modelstore/adapter-raw';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { backends, interopEnv, nodeStore, seeded, sha256, treeDigest, workDir, writeFiles } from './helpers.js';

function pythonCli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(interopEnv().python, ['-m', 'modelstore', ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe.each(backends().map((backend) => [backend.name, backend] as const))('python -m modelstore with MODEL_STORE_* variables: %s', (_name, backend) => {
  it('downloads a model ModelStore uploaded, and openModelStore reads the same variables the same way', async () => {
    const registry = backend.create();
    const store = nodeStore(registry.node);
    const inputs = writeFiles({ 'model.bin': seeded('cli', 50_000), 'card.md': '# model card\n' });
    const uploaded = await store.upload('cli-domain', { model: path.join(inputs, 'model.bin'), extraFiles: [path.join(inputs, 'card.md')] });
    const id = uploaded.model.model_id;

    const parent = workDir('cli');
    const result = await pythonCli(['download', 'cli-domain', id, parent], registry.env);
    expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stderr).toMatch(/Downloaded: cli-domain=/);
    const pythonFiles = treeDigest(path.join(parent, 'cli-domain', id));
    delete pythonFiles['artifacts.tar.gz'];
    expect(pythonFiles['model.bin']).toBe(sha256(seeded('cli', 50_000)));
    expect(pythonFiles['extras/card.md']).toBe(sha256('# model card\n'));
    expect(pythonFiles).toEqual(treeDigest(await store.download('cli-domain', { modelId: id, to: path.join(workDir('cli-node'), 'out') })));

    // The same variables, read by this library (the SDKs read theirs, like AWS_ENDPOINT_URL, from process.env).
    const saved = { ...process.env };
    Object.assign(process.env, registry.env);
    try {
      const fromEnv = await openModelStore(undefined, { adapters: [new RawAdapter()], cacheDir: workDir('cli-cache') });
      expect(await fromEnv.listModels('cli-domain')).toEqual([id]);
      const again = await fromEnv.download('cli-domain', { to: path.join(workDir('cli-env'), 'out') });
      expect(treeDigest(again)).toEqual(pythonFiles);
    } finally {
      for (const key of Object.keys(registry.env)) if (saved[key] === undefined) delete process.env[key];
      Object.assign(process.env, saved);
    }
  });
});
