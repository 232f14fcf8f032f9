import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { InvalidArgumentError } from '@modelstore/core';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RawAdapter } from '../src/index.js';

describe('RawAdapter: what it cannot store as given is an InvalidArgumentError', () => {
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(path.join(tmpdir(), 'modelstore-raw-arguments-'));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('a folder with no files, a folder among files, two files with one name', async () => {
    const adapter = new RawAdapter();
    mkdirSync(path.join(work, 'hollow', 'inner'), { recursive: true });
    mkdirSync(path.join(work, 'dir'));
    writeFileSync(path.join(work, 'b.txt'), 'b');
    writeFileSync(path.join(work, 'dir', 'b.txt'), 'b2');
    for (const [model, message] of [
      [path.join(work, 'hollow'), /the folder holds no files. Nothing was uploaded/],
      [[path.join(work, 'b.txt'), path.join(work, 'dir')], /is a directory \(pass a directory on its own\)/],
      [[path.join(work, 'b.txt'), path.join(work, 'dir', 'b.txt')], /Two files are named "b.txt"/],
    ] as const) {
      const error = await adapter.save(model as string | string[]).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).argument).toBe('model');
      expect((error as Error).message).toMatch(message);
    }
  });
});
