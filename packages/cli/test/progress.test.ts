import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { bin, modelstore } from './helpers.js';

const run = promisify(execFile);

describe('progress bars', () => {
  it('are drawn in a terminal, with speed and ETA, and not when output is piped', async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'modelstore-cli-tty-'));
    try {
      writeFileSync(path.join(work, 'big.bin'), randomBytes(24 * 1024 * 1024));
      // `script` runs the command in a pseudo-terminal and copies what it draws to stdout.
      const command = `${process.execPath} ${bin} --store ./registry upload big big.bin --id in-a-tty && ${process.execPath} ${bin} --store ./registry download big in-a-tty --to out`;
      const { stdout: screen } = await run('script', ['-qfec', command, '/dev/null'], { cwd: work, env: { PATH: process.env.PATH ?? '', HOME: work, TERM: 'xterm' }, timeout: 120_000 });
      expect(screen).toMatch(/upload .*\d+% \| [\d.]+ \w+\/24\.0 MiB \| [\d.]+ \w+\/s \| ETA/);
      expect(screen).toMatch(/download .*100% \|/);
      expect(screen).toContain('in-a-tty');

      const piped = await modelstore(['--store', './registry', 'upload', 'big', 'big.bin', '--id', 'piped'], { cwd: work });
      expect(piped.code).toBe(0);
      expect(piped.stderr).toBe('');
      expect(piped.stdout).toBe('piped\n');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);
});
