// The upload bar counts the model's own bytes against their total from core, so a model
// that compresses well still ends at 100% (it used to count compressed archive bytes
// against the file size and stop near 0%); the download bar counts archive bytes.
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { bin } from './helpers.js';

const run = promisify(execFile);

describe('progress bar totals', () => {
  it('a 22 MiB text model (a folder of two files, plus an extra) ends at 100% of its own size', async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'modelstore-cli-progress-'));
    try {
      mkdirSync(path.join(work, 'model'));
      writeFileSync(path.join(work, 'model', 'vocab.txt'), 'the quick brown fox jumps over the lazy dog\n'.repeat((21 * 1024 * 1024) / 44));
      writeFileSync(path.join(work, 'model', 'config.json'), '{}'.padEnd(1024 * 1024, ' '));
      writeFileSync(path.join(work, 'README.md'), '# notes\n');
      // `script` runs the command in a pseudo-terminal and copies what it draws to stdout.
      const command = `${process.execPath} ${bin} --store ./registry upload text model --extra README.md --id text && ${process.execPath} ${bin} --store ./registry download text text --to out`;
      const { stdout: screen } = await run('script', ['-qfec', command, '/dev/null'], { cwd: work, env: { PATH: process.env.PATH ?? '', HOME: work, TERM: 'xterm' }, timeout: 120_000 });
      // 21 MiB + 1 MiB + the README and model-info.json: 22.0 MiB, all of it reported.
      expect(screen).toMatch(/upload .*100% \| 22\.0 MiB\/22\.0 MiB \|/);
      // The archive is a small fraction of that; the download bar counts it against its own size.
      const download = /download .*100% \| ([\d.]+ \w+)\/([\d.]+ \w+) \|/.exec(screen);
      expect(download).not.toBeNull();
      expect(download![1]).toBe(download![2]);
      expect(download![2]).toMatch(/KiB$/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);
});
