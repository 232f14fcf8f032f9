// Names at the limits through the CLI: names run to 200 UTF-8 bytes, and the folders and
// temporary names the CLI and the library derive from them stay within the file system's
// 255-byte limit for a file name.
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { modelstore } from './helpers.js';

describe('modelstore with names at the limits', () => {
  it('downloads a model of a 190-character domain into a default folder that fits, and refuses a 270-byte domain before any I/O', async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'modelstore-cli-long-'));
    try {
      writeFileSync(path.join(work, 'model.bin'), 'weights');
      const cli = (...args: string[]) => modelstore(['--store', './registry', ...args], { cwd: work });
      const domain = 'd'.repeat(190);
      const uploaded = await cli('--json', 'upload', domain, 'model.bin');
      expect(uploaded.code).toBe(0);
      const modelId = JSON.parse(uploaded.stdout).model.model_id as string;
      const downloaded = await cli('--json', 'download', domain);
      expect(downloaded.stderr).toBe('');
      expect(downloaded.code).toBe(0);
      // <domain>-<id> would be 227 bytes (a staging folder beside it even more): the id alone is used.
      expect(JSON.parse(downloaded.stdout).directory).toBe(path.join(work, modelId));
      expect(readdirSync(path.join(work, modelId)).sort()).toEqual(['model-info.json', 'model.bin']);

      const cjk = '模'.repeat(90);
      const refused = await cli('upload', cjk, 'model.bin');
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/at most 200 bytes in UTF-8 \(this one has 270\)/);
      expect(existsSync(path.join(work, 'registry', 'operatorai-model-store', cjk))).toBe(false);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('modelstore download --state', () => {
  it('downloads the newest model in the state, and refuses an id with --state as a usage error', async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'modelstore-cli-state-'));
    try {
      const cli = (...args: string[]) => modelstore(['--store', './registry', ...args], { cwd: work });
      for (const id of ['m1', 'm2', 'm3']) {
        writeFileSync(path.join(work, 'model.bin'), `weights of ${id}`);
        expect((await cli('upload', 'churn', 'model.bin', '--id', id, ...(id === 'm3' ? [] : ['--state', 'production']))).code).toBe(0);
      }
      const result = await cli('--json', 'download', 'churn', '--state', 'production', '--to', 'serving');
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout).modelId).toBe('m2');
      expect(readFileSync(path.join(work, 'serving', 'model.bin'), 'utf8')).toBe('weights of m2');
      const both = await cli('download', 'churn', 'm1', '--state', 'production');
      expect(both.code).toBe(2);
      expect(both.stderr).toMatch(/not both/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('modelstore cp --id', () => {
  it('copies a model under another id, into the same store or another one', async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'modelstore-cli-cp-id-'));
    try {
      const cli = (...args: string[]) => modelstore(['--store', './registry', ...args], { cwd: work });
      writeFileSync(path.join(work, 'model.bin'), 'weights of v1');
      expect((await cli('upload', 'churn', 'model.bin', '--id', 'v1')).code).toBe(0);
      const same = await cli('--json', 'cp', 'churn', 'v1', '--to', './registry', '--id', 'v1-pinned', '--state', 'production');
      expect(same.code).toBe(0);
      expect(JSON.parse(same.stdout).model.model_id).toBe('v1-pinned');
      const other = await cli('cp', 'churn', 'v1', '--to', './other', '--id', 'release');
      expect(other.code).toBe(0);
      expect(other.stdout).toBe('release\n');
      const listed = JSON.parse((await cli('--json', 'ls', 'churn')).stdout)
        .map((row: { modelId: string }) => row.modelId)
        .sort();
      expect(listed).toEqual(['v1', 'v1-pinned']);
      const fetched = await modelstore(['--store', './other', '--json', 'download', 'churn', 'release', '--to', 'out'], { cwd: work });
      expect(fetched.code).toBe(0);
      expect(readFileSync(path.join(work, 'out', 'model.bin'), 'utf8')).toBe('weights of v1');
      expect((await cli('cp', 'churn', 'v1', '--to', './registry', '--id', 'bad id')).code).toBe(2);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('what a new user tried', () => {
  it('gc --local --dry-run removes nothing; --meta keeps a "__proto__" key; paths that cannot be used are usage errors; --json with no command says so', async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'modelstore-cli-trial-'));
    try {
      const cli = (...args: string[]) => modelstore(['--store', './registry', ...args], { cwd: work });
      // A dead process's staging folder in the load cache.
      const gone = spawn(process.execPath, ['-e', '']);
      await new Promise((resolve) => gone.on('exit', resolve));
      const host = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
      const staging = path.join(work, 'cache', 'models', `.abc.modelstore-staging-${host}-${gone.pid}-0123456789ab`);
      mkdirSync(staging, { recursive: true });
      const dry = await modelstore(['--json', '--cache-dir', path.join(work, 'cache'), 'gc', '--local', '--dry-run'], { cwd: work });
      expect(dry.code).toBe(0);
      expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, removed: [staging] });
      expect(existsSync(staging)).toBe(true);

      writeFileSync(path.join(work, 'model.bin'), 'w');
      const uploaded = await cli('--json', 'upload', 'churn', 'model.bin', '--meta', '__proto__=x', '--meta', 'v=2.0');
      expect(uploaded.code).toBe(0);
      expect(JSON.parse(readFileSync(path.join(work, 'registry', 'operatorai-model-store', 'churn', 'versions', `${JSON.parse(uploaded.stdout).model.model_id}.json`), 'utf8')).extra).toEqual(JSON.parse('{"__proto__":"x","v":"2.0"}'));

      const underFile = await modelstore(['--json', '--store', './model.bin/sub', 'ls'], { cwd: work });
      expect(underFile.code).toBe(2);
      expect(JSON.parse(underFile.stdout).error.message).toMatch(/a part of the path is a file/);
      const noCommand = await modelstore(['--json'], { cwd: work });
      expect(noCommand.code).toBe(2);
      expect(noCommand.stdout).not.toContain('outputHelp');
      const emptyTo = await cli('download', 'churn', '--to', '');
      expect(emptyTo.code).toBe(2);
      expect(emptyTo.stderr).toMatch(/--to/);
      expect(emptyTo.stderr).not.toMatch(/\bto: '/);
      // A model folder holding the store: refused, nothing packed.
      const inside = await modelstore(['--store', './registry', 'upload', 'churn', '.'], { cwd: work });
      expect(inside.code).toBe(2);
      expect(inside.stderr).toMatch(/registry's own folder/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);
});
