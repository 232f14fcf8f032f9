import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { extractArchive, packArchive } from './archive.js';
import { IntegrityError, StorageError } from './errors.js';

async function packed(): Promise<{ bytes: Buffer; digest: Awaited<ReturnType<typeof packArchive>['digest']> }> {
  const entries = [
    { path: 'model-info.json', source: Buffer.from('{"library":"model_file"}') },
    { path: 'model.bin', source: Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31) % 251)) },
    { path: 'extras/README.txt', source: Buffer.from('readme\n') },
  ];
  const { stream, digest } = packArchive(entries, { mtime: new Date(0), compressionLevel: 1 });
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return { bytes: Buffer.concat(chunks), digest: await digest };
}

describe('packArchive with compressionLevel auto', () => {
  const size = async (source: Buffer) => {
    const { stream } = packArchive([{ path: 'data', source }], { mtime: new Date(0), compressionLevel: 'auto' });
    let bytes = 0;
    for await (const chunk of stream) bytes += (chunk as Buffer).length;
    return bytes;
  };

  it('stores data that barely compresses, such as float weights, and compresses the rest', async () => {
    const weights = Buffer.from(Float32Array.from({ length: 512 * 1024 }, (_, i) => Math.sin(i * 1.3) * 0.02).buffer);
    const text = Buffer.from(JSON.stringify(Array.from({ length: 40_000 }, (_, i) => ({ id: i, label: `class_${i % 100}` }))));
    // Stored: the archive is the data plus tar and gzip framing.
    expect(await size(weights)).toBeGreaterThan(weights.length);
    expect(await size(text)).toBeLessThan(text.length * 0.2);
  });
});

describe('extractArchive', () => {
  it('round-trips what packArchive wrote, checking every digest', async () => {
    const { bytes, digest } = await packed();
    const directory = mkdtempSync(path.join(tmpdir(), 'modelstore-archive-'));
    try {
      const extracted = await extractArchive(Readable.from([bytes]), directory, digest);
      expect(extracted).toEqual(digest);
      expect(readdirSync(directory).sort()).toEqual(['extras', 'model-info.json', 'model.bin']);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('reports every truncation point as IntegrityError, with or without recorded digests', async () => {
    const { bytes, digest } = await packed();
    for (let cut = 0; cut < bytes.length; cut += 331) {
      for (const expected of [digest, {}]) {
        const directory = mkdtempSync(path.join(tmpdir(), 'modelstore-archive-'));
        try {
          // Delivered in small chunks, so truncation lands inside entries as well as between them.
          const source = Readable.from(Array.from({ length: Math.ceil(cut / 4096) }, (_, i) => bytes.subarray(i * 4096, Math.min(cut, (i + 1) * 4096))));
          const error = await extractArchive(source, directory, expected).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect([cut, IntegrityError.isInstance(error) || String(error)]).toEqual([cut, true]);
        } finally {
          rmSync(directory, { recursive: true, force: true });
        }
      }
    }
  });

  it('refuses entries that collide with each other', async () => {
    for (const names of [
      ['x', 'x/y'],
      ['x/y', 'x'],
      ['d/', 'd'],
    ]) {
      const tar = await import('tar-stream');
      const pack = tar.default.pack();
      for (const name of names) {
        await new Promise<void>((resolve, reject) => {
          const done = (error?: Error | null) => (error ? reject(error) : resolve());
          if (name.endsWith('/')) pack.entry({ name, type: 'directory' }, done);
          else pack.entry({ name, size: 1 }, 'x', done);
        });
      }
      pack.finalize();
      const chunks: Buffer[] = [];
      for await (const chunk of pack) chunks.push(chunk as Buffer);
      const { gzipSync } = await import('node:zlib');
      const directory = mkdtempSync(path.join(tmpdir(), 'modelstore-archive-'));
      try {
        const error = await extractArchive(Readable.from([gzipSync(Buffer.concat(chunks))]), directory).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect([names, (error as { code?: string })?.code]).toEqual([names, 'UNSAFE_ARCHIVE']);
      } finally {
        rmSync(directory, { recursive: true, force: true });
      }
    }
  });

  it('passes a storage failure through as it is', async () => {
    const { bytes } = await packed();
    async function* failing() {
      yield bytes.subarray(0, 2000);
      throw new StorageError('connection reset', { retryable: true });
    }
    const directory = mkdtempSync(path.join(tmpdir(), 'modelstore-archive-'));
    try {
      const error = await extractArchive(Readable.from(failing()), directory).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(StorageError.isInstance(error)).toBe(true);
      expect((error as StorageError).retryable).toBe(true);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
