import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureGoTool, withLock } from '../src/go-tools.js';

const made: string[] = [];
function temp(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'modelstore-go-tools-'));
  made.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('withLock', () => {
  it('runs concurrent holders one at a time', async () => {
    const lock = path.join(temp(), 'lock');
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 6 }, () =>
        withLock(lock, async () => {
          inside++;
          most = Math.max(most, inside);
          await new Promise((resolve) => setTimeout(resolve, 30));
          inside--;
        }),
      ),
    );
    expect(most).toBe(1);
    expect(existsSync(lock)).toBe(false);
  });

  it('takes over a lock whose owner died', async () => {
    const lock = path.join(temp(), 'lock');
    // A process that has exited: its pid is free.
    const child = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => child.once('exit', resolve));
    mkdirSync(lock);
    writeFileSync(path.join(lock, 'owner'), String(child.pid));
    await expect(withLock(lock, async () => 'taken', 5000)).resolves.toBe('taken');
  });
});

describe('ensureGoTool', () => {
  const saved = { PATH: process.env.PATH, MODELSTORE_CACHE_DIR: process.env.MODELSTORE_CACHE_DIR };
  afterEach(() => {
    process.env.PATH = saved.PATH;
    if (saved.MODELSTORE_CACHE_DIR === undefined) delete process.env.MODELSTORE_CACHE_DIR;
    else process.env.MODELSTORE_CACHE_DIR = saved.MODELSTORE_CACHE_DIR;
  });

  it('fails with how to install Go when go is not on PATH, and leaves no partial build', async () => {
    const cache = temp();
    process.env.MODELSTORE_CACHE_DIR = cache;
    process.env.PATH = temp();
    await expect(ensureGoTool('sometool', 'example.com/sometool', 'v1.0.0')).rejects.toThrow(/'go' command is not on PATH.*Install Go 1\.24 or newer.*go install example\.com\/sometool@v1\.0\.0/s);
    expect(existsSync(path.join(cache, 'go-bin', 'sometool-v1.0.0'))).toBe(false);
  });

  it('returns a binary already in the cache without building', async () => {
    const cache = temp();
    process.env.MODELSTORE_CACHE_DIR = cache;
    process.env.PATH = temp();
    const dir = path.join(cache, 'go-bin', 'sometool-v1.0.0');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'sometool'), '');
    await expect(ensureGoTool('sometool', 'example.com/sometool', 'v1.0.0')).resolves.toBe(path.join(dir, 'sometool'));
  });
});
