import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { modelstore, stores, treeDigest } from './helpers.js';

describe('the modelstore command', () => {
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(path.join(tmpdir(), 'modelstore-cli-'));
    writeFileSync(path.join(work, 'model.bin'), Buffer.from(Array.from({ length: 50_000 }, (_, i) => i % 256)));
    writeFileSync(path.join(work, 'README.md'), '# churn\n');
    mkdirSync(path.join(work, 'dir', 'sub'), { recursive: true });
    writeFileSync(path.join(work, 'dir', 'config.json'), '{}');
    writeFileSync(path.join(work, 'dir', 'sub', 'w.bin'), 'weights');
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  const backends = (): Array<[string, string, Record<string, string>]> => {
    const { s3, gcs, azure, env } = stores();
    return [
      ['a file system registry', './registry', {}],
      ['S3', s3, env],
      ['GCS', gcs, env],
      ['Azure', azure, env],
    ];
  };

  it.each(['file system', 'S3', 'GCS', 'Azure'])(
    'runs every command against %s',
    async (name) => {
      const [, store, env] = backends().find(([label]) => label.includes(name === 'file system' ? 'file system' : name))!;
      const cli = (...args: string[]) => modelstore(['--store', store, ...args], { cwd: work, env });
      const json = async (...args: string[]) => {
        const result = await cli('--json', ...args);
        expect({ args, code: result.code, stderr: result.stderr }).toEqual({ args, code: 0, stderr: '' });
        return JSON.parse(result.stdout);
      };

      const uploaded = await cli('--json', 'upload', 'churn', 'model.bin', '--id', 'churn-v1', '--extra', 'README.md', '--meta-json', 'accuracy=0.93', '--meta', 'owner=ml-team', '--state', 'production');
      // The first write to an empty store creates the registry, and says so.
      expect({ code: uploaded.code, stderr: uploaded.stderr }).toEqual({ code: 0, stderr: `modelstore: created a new registry at ${store}\nmodelstore: churn/churn-v1 is in state production (state production created)\n` });
      const first = JSON.parse(uploaded.stdout);
      expect(first.model.model_id).toBe('churn-v1');
      expect(first.extra).toEqual({ accuracy: 0.93, owner: 'ml-team' });
      const second = await cli('upload', 'churn', 'dir');
      expect(second.code).toBe(0);
      const secondId = second.stdout.trim();
      expect(secondId).toMatch(/^[0-9a-f-]{36}$/);

      expect((await json('ls')).map((row: { domain: string }) => row.domain)).toEqual(['churn']);
      expect((await json('ls', 'churn')).map((row: { modelId: string }) => row.modelId)).toEqual([secondId, 'churn-v1']);
      expect((await json('ls', 'churn', '--state', 'production')).map((row: { modelId: string }) => row.modelId)).toEqual(['churn-v1']);
      const table = await cli('ls', 'churn');
      expect(table.stdout.split('\n')[0]).toMatch(/^MODEL ID\s+CREATED\s+LIBRARY\s+SIZE\s+STATES$/);
      expect(table.stdout).toContain('churn-v1');

      const info = await json('info', 'churn', 'churn-v1');
      expect(info.states).toEqual(['production']);
      expect((await json('info', 'churn')).model.model_id).toBe(secondId);

      const downloaded = await json('download', 'churn', 'churn-v1', '--to', 'out');
      expect(treeDigest(downloaded.directory)).toEqual(expect.objectContaining({ 'model.bin': treeDigest(work)['model.bin'], 'extras/README.md': treeDigest(work)['README.md'] }));
      const latest = await cli('download', 'churn', '--to', 'latest');
      expect(latest.code).toBe(0);
      expect(Object.keys(treeDigest(path.join(work, 'latest'))).sort()).toEqual(['config.json', 'model-info.json', 'sub/w.bin']);

      await json('state', 'create', 'staging');
      expect(await json('state', 'ls')).toEqual(['production', 'staging']);
      await json('state', 'set', 'churn', secondId, 'staging');
      expect((await json('ls', 'churn', '--state', 'staging')).map((row: { modelId: string }) => row.modelId)).toEqual([secondId]);
      await json('state', 'unset', 'churn', secondId, 'staging');
      expect(await json('ls', 'churn', '--state', 'staging')).toEqual([]);
      await json('state', 'rm', 'staging');
      expect(await json('state', 'ls')).toEqual(['production']);

      // Failures: distinct exit codes, one line on stderr, JSON on stdout with --json.
      const missing = await cli('--json', 'info', 'churn', 'no-such-model');
      expect(missing.code).toBe(3);
      expect(JSON.parse(missing.stdout).error.code).toBe('MODEL_NOT_FOUND');
      expect(missing.stderr.trim().split('\n')).toHaveLength(1);
      expect((await cli('ls', 'nodomain')).code).toBe(3);
      expect((await cli('upload', 'churn', 'model.bin', '--id', 'churn-v1')).code).toBe(4);
      expect((await cli('upload', 'churn', 'model.bin', '--id', 'bad id')).code).toBe(2);
      expect((await cli('upload', 'versions', 'model.bin')).code).toBe(2);
      expect((await cli('upload', 'churn', 'no-such-file')).code).toBe(2);
      expect((await cli('download', 'churn', 'churn-v1', '--to', 'out')).code).toBe(4);
      const unconfirmed = await cli('rm', 'churn', 'churn-v1');
      expect(unconfirmed.code).toBe(2);
      expect(unconfirmed.stderr).toMatch(/pass --yes/);

      await json('rm', 'churn', 'churn-v1', '--yes');
      expect((await json('ls', 'churn')).map((row: { modelId: string }) => row.modelId)).toEqual([secondId]);
      const deleted = await cli('info', 'churn', 'churn-v1');
      expect(deleted.code).toBe(3);
      expect(deleted.stderr).toMatch(/has been deleted/);

      const gc = await json('gc', '--dry-run');
      expect(gc).toEqual({ dryRun: true, removed: [], kept: [], unreadable: [] });
    },
    120_000,
  );

  it('answers usage errors with exit code 2 and --help with examples', async () => {
    const unknown = await modelstore(['bogus'], { cwd: work });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'bogus'/);
    const help = await modelstore(['--help'], { cwd: work });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Examples:/);
    expect(help.stdout).toMatch(/Exit codes: 0 ok, 1 failure, 2 usage error, 3 not found, 4 already exists/);
    expect((await modelstore(['--store', './r', 'gc', '--older-than', 'soon'], { cwd: work })).code).toBe(2);
    expect((await modelstore(['ls'], { cwd: work })).stderr).toMatch(/No store given/);
  });

  it('fails with exit code 1 and a hint when a store cannot be reached', async () => {
    const { env } = stores();
    // An unknown scheme is a usage error (exit 2): store-errors.test.ts checks it with the others.
    const missingBucket = await modelstore(['--store', stores().s3.replace('s3://cli-models/', 's3://no-such-bucket/'), 'ls'], { cwd: work, env });
    expect(missingBucket.code).toBe(1);
    expect(missingBucket.stderr).toMatch(/bucket "no-such-bucket" does not exist/);
  });

  it('reads the store from MODELSTORE_STORE or Python modelstore variables', async () => {
    await modelstore(['--store', './registry', 'upload', 'churn', 'model.bin', '--id', 'm1'], { cwd: work });
    const fromStoreVariable = await modelstore(['--json', 'ls', 'churn'], { cwd: work, env: { MODELSTORE_STORE: './registry' } });
    expect(JSON.parse(fromStoreVariable.stdout)[0].modelId).toBe('m1');
    const fromPython = await modelstore(['--json', 'ls', 'churn'], { cwd: work, env: { MODEL_STORE_STORAGE: 'filesystem', MODEL_STORE_ROOT_PREFIX: path.join(work, 'registry') } });
    expect(JSON.parse(fromPython.stdout)[0].modelId).toBe('m1');
    expect(readFileSync(path.join(work, 'model.bin')).length).toBe(50_000);
  });
});
