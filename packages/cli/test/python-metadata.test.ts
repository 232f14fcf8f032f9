// What Python modelstore writes, through the CLI: metadata in Python's JSON dialect is
// listed and printed as stored, and one domain that has no readable latest model does
// not hide the others from `modelstore ls`.
import { describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { modelstore } from './helpers.js';

describe('modelstore with metadata Python wrote', () => {
  it('lists every domain and prints NaN, Infinity and big integers as stored', async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'modelstore-cli-python-'));
    try {
      writeFileSync(path.join(work, 'model.bin'), Buffer.alloc(1000, 1));
      const cli = (...args: string[]) => modelstore(['--store', './registry', ...args], { cwd: work });
      expect((await cli('upload', 'fraud', 'model.bin', '--id', 'metrics')).code).toBe(0);
      expect((await cli('upload', 'churn', 'model.bin', '--id', 'plain')).code).toBe(0);
      const root = path.join(work, 'registry', 'operatorai-model-store');
      // Python's json.dumps of extra_metadata={'val_loss': float('nan'), 'best': float('inf'), 'seed': 2**64 - 1}.
      for (const document of [path.join(root, 'fraud', 'versions', 'metrics.json'), path.join(root, 'domains', 'fraud.json')]) {
        writeFileSync(document, readFileSync(document, 'utf8').replace(/\}$/, ', "extra": {"val_loss": NaN, "best": Infinity, "seed": 18446744073709551615}}'));
      }
      // A domain whose pointer was cut short and that has no model left to replace it.
      mkdirSync(path.join(root, 'broken', 'versions'), { recursive: true });
      writeFileSync(path.join(root, 'domains', 'broken.json'), '{"model": {"domain": "bro');

      const listed = await cli('ls');
      expect(listed.code).toBe(0);
      expect(listed.stdout).toMatch(/^fraud\s+metrics\s/m);
      expect(listed.stdout).toMatch(/^churn\s+plain\s/m);
      expect(listed.stdout).toMatch(/^broken\s+- \(integrity\)\s+-$/m);
      const rows = JSON.parse((await cli('--json', 'ls')).stdout.replace(/\bNaN\b/g, 'null')) as { domain: string; latest: string | null; error?: { code: string } }[];
      expect(rows.map((row) => [row.domain, row.latest, row.error?.code])).toEqual(
        expect.arrayContaining([
          ['fraud', 'metrics', undefined],
          ['churn', 'plain', undefined],
          ['broken', null, 'INTEGRITY'],
        ]),
      );

      const info = await cli('--json', 'info', 'fraud', 'metrics');
      expect(info.code).toBe(0);
      expect(info.stdout).toContain('"seed": 18446744073709551615');
      expect(info.stdout).toContain('"val_loss": NaN');
      expect(info.stdout).toContain('"best": Infinity');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 60_000);
});
