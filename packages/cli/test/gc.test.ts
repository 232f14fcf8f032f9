import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { modelstore, treeDigest } from './helpers.js';

describe('modelstore gc', () => {
  it('removes the orphan a killed upload left, and nothing else', async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'modelstore-cli-gc-'));
    try {
      writeFileSync(path.join(work, 'model.bin'), Buffer.alloc(100_000, 7));
      const cli = (...args: string[]) => modelstore(['--store', './registry', ...args], { cwd: work });
      expect((await cli('upload', 'churn', 'model.bin', '--id', 'kept', '--state', 'production')).code).toBe(0);

      const uploader = spawn(process.execPath, [path.join(__dirname, 'upload-child.mjs'), path.join(work, 'registry'), 'churn', path.join(work, 'model.bin')], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        uploader.stdout.on('data', (data: Buffer) => data.toString().includes('archive-written') && resolve());
        uploader.on('exit', () => reject(new Error('the upload exited before writing its archive')));
      });
      uploader.kill('SIGKILL');
      await new Promise((resolve) => uploader.on('exit', resolve));

      // Within the grace period the orphan is kept.
      expect(JSON.parse((await cli('--json', 'gc')).stdout).kept).toHaveLength(1);
      // A grace period below the minimum is refused unless the store is declared quiet (the uploader is dead, nothing else writes).
      const refused = await cli('gc', '--older-than', '0s');
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/below the minimum of 15m/);
      const dry = JSON.parse((await cli('--json', 'gc', '--older-than', '0s', '--quiesced', '--dry-run')).stdout);
      expect(dry.removed.map((object: { key: string }) => object.key)).toEqual([expect.stringMatching(/^operatorai-model-store\/churn\/[\d.-]+\/killed\/artifacts\.tar\.gz$/)]);
      const swept = await cli('gc', '--older-than', '0s', '--quiesced');
      expect(swept.code).toBe(0);
      expect(swept.stdout).toMatch(/^removed 1 archive/);
      expect(JSON.parse((await cli('--json', 'gc', '--older-than', '0s', '--quiesced')).stdout).removed).toEqual([]);

      expect(JSON.parse((await cli('--json', 'ls', 'churn')).stdout).map((row: { modelId: string }) => row.modelId)).toEqual(['kept']);
      const download = await cli('--json', 'download', 'churn', 'kept', '--to', 'out');
      expect(treeDigest(JSON.parse(download.stdout).directory)['model.bin']).toBe(treeDigest(work)['model.bin']);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 60_000);

  it('keeps the archive of a model whose metadata it cannot read (a torn document) and names the document', async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'modelstore-cli-gc-'));
    try {
      writeFileSync(path.join(work, 'model.bin'), Buffer.alloc(50_000, 3));
      const cli = (...args: string[]) => modelstore(['--store', './registry', ...args], { cwd: work });
      expect((await cli('upload', 'fraud', 'model.bin', '--id', 'nan-metric')).code).toBe(0);
      // A document cut short (a writer that does not write atomically, or a damaged copy).
      const versions = path.join(work, 'registry', 'operatorai-model-store', 'fraud', 'versions');
      const document = path.join(versions, 'nan-metric.json');
      writeFileSync(document, readFileSync(document, 'utf8').slice(0, 60));

      const text = await cli('gc', '--older-than', '0s', '--quiesced');
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/^removed 0 archive/);
      expect(text.stdout).toContain('1 metadata document(s) could not be read; the archives of their models were kept:\n  operatorai-model-store/fraud/versions/nan-metric.json');
      const json = JSON.parse((await cli('--json', 'gc', '--older-than', '0s', '--quiesced')).stdout);
      expect(json.removed).toEqual([]);
      expect(json.unreadable).toEqual(['operatorai-model-store/fraud/versions/nan-metric.json']);
      const stamps = readdirSync(path.join(work, 'registry', 'operatorai-model-store', 'fraud')).filter((name) => name !== 'versions');
      expect(readdirSync(path.join(work, 'registry', 'operatorai-model-store', 'fraud', stamps[0]!, 'nan-metric'))).toEqual(['artifacts.tar.gz']);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 60_000);

  it('--local removes the staging folders of killed loads from the cache, never one of a live process', async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'modelstore-cli-gc-local-'));
    try {
      const models = path.join(work, 'cache', 'models');
      const host = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
      // A process that has exited: its pid is free.
      const gone = spawn(process.execPath, ['-e', '']);
      await new Promise((resolve) => gone.on('exit', resolve));
      const dead = `.0123abcd.modelstore-staging-${host}-${gone.pid}-0123456789ab`;
      const live = `.4567ef01.modelstore-staging-${host}-${process.pid}-ba9876543210`;
      const cached = '0123456789abcdef0123';
      for (const name of [dead, live, cached]) mkdirSync(path.join(models, name, 'inner'), { recursive: true });
      const result = await modelstore(['--json', '--cache-dir', path.join(work, 'cache'), 'gc', '--local'], { cwd: work });
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout).removed).toEqual([path.join(models, dead)]);
      expect(readdirSync(models).sort()).toEqual([live, cached].sort());
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 60_000);
});
