import { describe, expect, it } from '@jest/globals';
import { streamingRssLimit } from '@modelstore/storage-conformance/large-model';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gcsServers } from './server.js';

const run = promisify(execFile);

describe.each(gcsServers)('GcsStorage with a large model on $label', ({ label, name }) => {
  it('uploads 300 MiB as a chunked resumable upload and downloads it back intact, streamed (peak RSS under streamingRssLimit, less than the model)', async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'modelstore-gcs-large-'));
    try {
      const { stdout } = await run(process.execPath, [path.join(__dirname, 'large-model-child.mjs'), work, '300', name], { timeout: 240_000, maxBuffer: 1 << 20 });
      const result = JSON.parse(stdout) as { original: string; downloaded: string; recorded: string; archiveEtag: string; archiveSize: number; peakRss: number };
      expect(result.downloaded).toBe(result.original);
      expect(result.recorded).toBe(result.original);
      // The etag of a GCS object is its generation.
      expect(result.archiveEtag).toMatch(/^\d+$/);
      expect(result.archiveSize).toBeGreaterThan(300 * 1024 * 1024);
      expect(result.peakRss).toBeLessThan(streamingRssLimit);
      process.stdout.write(`300 MiB model over GCS (${label}): peak RSS ${(result.peakRss / 1048576).toFixed(0)} MiB\n`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 300_000);
});
