// Unit tests of extracting a model from a storage: the archive key must lie inside the
// registry, and a bad or missing archive leaves the destination (and the parents this
// call created) as they were.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { buffer } from 'node:stream/consumers';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { packArchive, type ArchiveDigest } from '../archive.js';
import { IntegrityError } from '../errors.js';
import { MemoryStorage } from '../memory-storage.js';
import type { ModelMetadata } from '../metadata.js';
import { layout } from '../registry-layout.js';
import { archiveKeyOf, extractModel } from './extract.js';

const archiveKey = layout.archive('d', new Date(Date.UTC(2024, 0, 1)), 'm');

function metadata(storage: ModelMetadata['storage'], archive?: ArchiveDigest): ModelMetadata {
  return { model: { domain: 'd', model_id: 'm', model_type: { library: 'x' } }, storage, ...(archive ? { archive } : {}) };
}

/** Packs a small model into `storage` at archiveKey; returns its metadata and the archive bytes. */
async function upload(storage: MemoryStorage): Promise<{ metadata: ModelMetadata; bytes: Buffer }> {
  const { stream, digest } = packArchive(
    [
      { path: 'model-info.json', source: Buffer.from('{"library":"x"}') },
      { path: 'weights.bin', source: Buffer.alloc(20_000, 7) },
      { path: 'extras/notes.txt', source: Buffer.from('notes') },
    ],
    { mtime: new Date(Date.UTC(2024, 0, 1)), compressionLevel: 6 },
  );
  const bytes = await buffer(stream);
  await storage.put(archiveKey, bytes);
  return { metadata: metadata(storage.describe(archiveKey), await digest), bytes };
}

let work: string;
beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'modelstore-extract-'));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('archiveKeyOf', () => {
  it('takes the key from the registry folder onwards, whatever the recorded root', () => {
    expect(archiveKeyOf(metadata({ type: 'file_system', root: '/old', path: `/old/place/${archiveKey}` }))).toBe(archiveKey);
    expect(archiveKeyOf(metadata({ type: 'aws:s3', bucket: 'b', prefix: `root/${archiveKey}` }))).toBe(archiveKey);
    expect(archiveKeyOf(metadata({ type: 'file_system', path: `C:\\models\\${archiveKey.replaceAll('/', '\\')}` }))).toBe(archiveKey);
  });

  it('is IntegrityError for an archive outside the registry, a ".." escape, or no location', () => {
    for (const storage of [
      { type: 'file_system', path: '/etc/passwd' },
      { type: 'file_system', path: '/r/operatorai-model-store/../../etc/passwd' },
      { type: 'aws:s3', prefix: 'operatorai-model-store//x/artifacts.tar.gz' },
      { type: 'aws:s3', prefix: 7 as unknown as string },
      { type: 'file_system' },
    ]) {
      let error: unknown;
      try {
        archiveKeyOf(metadata(storage));
      } catch (caught) {
        error = caught;
      }
      expect(IntegrityError.isInstance(error)).toBe(true);
      expect((error as Error).message).toContain('does not name an archive inside the registry');
    }
  });
});

describe('extractModel', () => {
  it('extracts and verifies into a new folder, reporting progress in archive bytes', async () => {
    const storage = new MemoryStorage();
    const { metadata: value, bytes } = await upload(storage);
    const progress: Array<{ phase: string; bytes: number; totalBytes: number }> = [];
    const to = path.join(work, 'out', 'model');
    expect(await extractModel(storage, value, to, { onProgress: (event) => progress.push(event) })).toBe(to);
    expect(readdirSync(to).sort()).toEqual(['extras', 'model-info.json', 'weights.bin']);
    expect(readFileSync(path.join(to, 'extras', 'notes.txt'), 'utf8')).toBe('notes');
    expect(progress[0]).toEqual({ phase: 'downloading', bytes: 0, totalBytes: bytes.length });
    expect(progress.at(-1)).toEqual({ phase: 'downloading', bytes: bytes.length, totalBytes: bytes.length });
    expect(progress.every((event, index) => index === 0 || event.bytes >= progress[index - 1]!.bytes)).toBe(true);
    expect(readdirSync(path.join(work, 'out'))).toEqual(['model']);
  });

  it('is IntegrityError for an archive that differs from its digest, leaving no folder it created', async () => {
    const storage = new MemoryStorage();
    const { metadata: value } = await upload(storage);
    // The archive's recorded sha256 is what a download checks (one pass): a different one fails.
    const forged = { ...value, archive: { ...value.archive!, sha256: '0'.repeat(64) } };
    const to = path.join(work, 'new', 'deeper', 'model');
    expect(IntegrityError.isInstance(await failure(extractModel(storage, forged, to, {})))).toBe(true);
    expect(readdirSync(work)).toEqual([]);
    // Without an archive digest, each file's recorded sha256 is checked instead.
    const { sha256: _archiveDigest, ...withoutArchiveDigest } = value.archive!;
    const forgedFile = { ...value, archive: { ...withoutArchiveDigest, files: { ...value.archive!.files, 'weights.bin': { sha256: '0'.repeat(64), size: 20_000 } } } } as unknown as typeof value;
    const error = await failure(extractModel(storage, forgedFile, to, {}));
    expect(IntegrityError.isInstance(error) && (error as Error).message).toContain('"weights.bin" has sha256');
    expect(readdirSync(work)).toEqual([]);
    // A file's recorded size is checked whatever is hashed.
    const forgedSize = { ...value, archive: { ...value.archive!, files: { ...value.archive!.files, 'weights.bin': { ...value.archive!.files['weights.bin']!, size: 19_999 } } } };
    expect(IntegrityError.isInstance(await failure(extractModel(storage, forgedSize, to, {})))).toBe(true);
    expect(readdirSync(work)).toEqual([]);
  });

  it('leaves a non-empty destination untouched when the archive is corrupt, even with overwrite', async () => {
    const storage = new MemoryStorage();
    const { metadata: value, bytes } = await upload(storage);
    const corrupt = Buffer.from(bytes);
    const middle = Math.floor(bytes.length / 2);
    corrupt[middle] = (corrupt[middle] ?? 0) ^ 0xff;
    await storage.put(archiveKey, corrupt);
    const to = path.join(work, 'model');
    mkdirSync(to);
    writeFileSync(path.join(to, 'old.bin'), 'old');
    expect(IntegrityError.isInstance(await failure(extractModel(storage, value, to, { overwrite: true })))).toBe(true);
    expect(readdirSync(to)).toEqual(['old.bin']);
    expect(readdirSync(work)).toEqual(['model']);
  });

  it('is IntegrityError for a missing archive, and refuses an archive key outside the registry before touching the disk', async () => {
    const storage = new MemoryStorage();
    const to = path.join(work, 'a', 'model');
    expect(IntegrityError.isInstance(await failure(extractModel(storage, metadata(storage.describe(archiveKey)), to, {})))).toBe(true);
    expect(existsSync(path.join(work, 'a'))).toBe(false);
    expect(IntegrityError.isInstance(await failure(extractModel(storage, metadata({ type: 'file_system', path: '/etc/passwd' }), to, {})))).toBe(true);
    expect(readdirSync(work)).toEqual([]);
  });

  it('stops on an aborted signal with its reason, leaving nothing', async () => {
    const storage = new MemoryStorage();
    const { metadata: value } = await upload(storage);
    const controller = new AbortController();
    const reason = new Error('stop');
    reason.name = 'AbortError';
    controller.abort(reason);
    const to = path.join(work, 'model');
    expect(await failure(extractModel(storage, value, to, { signal: controller.signal }))).toBe(reason);
    expect(readdirSync(work)).toEqual([]);
  });
});
