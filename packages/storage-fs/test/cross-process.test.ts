import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { FileSystemStorage } from '../src/index.js';
import { text } from 'node:stream/consumers';

const run = promisify(execFile);

async function readText(storage: FileSystemStorage, key: string): Promise<string> {
  const object = await storage.get(key);
  return text(object!.body);
}

describe('FileSystemStorage across processes', () => {
  it('keeps conditional writes exact when 6 processes race on one key', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'modelstore-fs-race-'));
    try {
      const storage = new FileSystemStorage({ root });
      await storage.put('race/counter', '0');
      const processes = 6;
      const increments = 15;
      const startAt = Date.now() + 1500;
      const outputs = await Promise.all(Array.from({ length: processes }, (_, id) => run(process.execPath, [path.join(__dirname, 'race-child.mjs'), root, String(id), String(startAt), String(increments)], { timeout: 60_000 })));
      const results = outputs.map(({ stdout }) => JSON.parse(stdout) as { id: string; created: boolean; conflicts: number });
      const winners = results.filter((result) => result.created);
      expect(winners).toHaveLength(1);
      expect(await readText(storage, 'race/create-only')).toBe(`writer-${winners[0]!.id}`);
      expect(await readText(storage, 'race/counter')).toBe(String(processes * increments));
      // The processes really did collide: some compare-and-swaps lost and retried.
      expect(results.reduce((sum, result) => sum + result.conflicts, 0)).toBeGreaterThan(0);
      // No temporary or lock files are left behind.
      expect(readdirSync(path.join(root, 'race')).sort()).toEqual(['counter', 'create-only']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 120_000);
});
