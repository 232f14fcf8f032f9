import { describe, expect, it } from '@jest/globals';
import { streamingRssLimit } from '@modelstore/storage-conformance/large-model';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

describe('AzureBlobStorage with a large model', () => {
  it('uploads 300 MiB as staged blocks and downloads it back intact, streamed (peak RSS under streamingRssLimit, less than the model)', async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'modelstore-azure-large-'));
    try {
      const { stdout } = await run(process.execPath, [path.join(__dirname, 'large-model-child.mjs'), work, '300'], { timeout: 240_000, maxBuffer: 1 << 20 });
      const result = JSON.parse(stdout) as { original: string; downloaded: string; recorded: string; archiveEtag: string; archiveSize: number; peakRss: number };
      expect(result.downloaded).toBe(result.original);
      expect(result.recorded).toBe(result.original);
      expect(result.archiveEtag).toMatch(/^"0x[0-9A-F]+"$/);
      expect(result.archiveSize).toBeGreaterThan(300 * 1024 * 1024);
      expect(result.peakRss).toBeLessThan(streamingRssLimit);
      process.stdout.write(`300 MiB model over Azure: peak RSS ${(result.peakRss / 1048576).toFixed(0)} MiB\n`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 300_000);
});
