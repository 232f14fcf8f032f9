// What a model folder is made of survives the round trip: empty folders, 0-byte files
// and permission bits (kept, but never wider than 0o755), from archives of any origin.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import tar from 'tar-stream';
import { directoryMode, extractArchive, fileMode, packArchive } from '../src/archive.js';
import { IntegrityError, InvalidOptionError, MemoryStorage, ModelStore, ModelStoreError, type ArchiveEntry, type ModelAdapter } from '../src/index.js';

const modeOf = (file: string) => statSync(file).mode & 0o7777;

async function pack(entries: ArchiveEntry[]) {
  const { stream, digest } = packArchive(entries, { mtime: new Date(0), compressionLevel: 1 });
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return { bytes: Buffer.concat(chunks), digest: await digest };
}

/** Every path under `root` with its kind and mode, sorted. */
function tree(root: string, prefix = ''): Array<[string, string, number]> {
  const out: Array<[string, string, number]> = [];
  for (const name of readdirSync(root).sort()) {
    const full = path.join(root, name);
    const info = statSync(full);
    out.push([`${prefix}${name}`, info.isDirectory() ? 'dir' : `file:${info.size}`, info.mode & 0o7777]);
    if (info.isDirectory()) out.push(...tree(full, `${prefix}${name}/`));
  }
  return out;
}

/** A gzipped tar written entry by entry, as any other tool could (modes as given). */
async function handMade(entries: Array<{ name: string; type?: 'file' | 'directory'; mode?: number; data?: string }>): Promise<Buffer> {
  const packer = tar.pack();
  const chunks: Buffer[] = [];
  packer.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
  const done = new Promise<void>((resolve) => packer.on('end', () => resolve()));
  for (const entry of entries) {
    await new Promise<void>((resolve, reject) =>
      // 0o10000 records a mode of 0 (tar-stream replaces a falsy mode by its default).
      packer.entry({ name: entry.name, type: entry.type ?? 'file', mode: entry.mode === 0 ? 0o10000 : entry.mode, mtime: new Date(0) }, entry.type === 'directory' ? Buffer.alloc(0) : Buffer.from(entry.data ?? ''), (error) =>
        error ? reject(error) : resolve(),
      ),
    );
  }
  packer.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

describe('modes', () => {
  it('files keep their bits narrowed by 0o755; directories are owner-rwx and at most 0o755', () => {
    expect([0o755, 0o600, 0o777, 0o644, 0o666, 0o4755, 0o2755, 0o1777, 0o700, 0o444, 0, 0o100].map(fileMode)).toEqual([0o755, 0o600, 0o755, 0o644, 0o644, 0o755, 0o755, 0o755, 0o700, 0o444, 0, 0o100]);
    expect([0o755, 0o700, 0o777, 0o555, 0o000, 0o1777, 0o750].map(directoryMode)).toEqual([0o755, 0o700, 0o755, 0o755, 0o700, 0o755, 0o750]);
    expect(fileMode(undefined)).toBe(0o644);
    expect(fileMode(Number.NaN)).toBe(0o644);
    expect(directoryMode(undefined)).toBe(0o755);
  });
});

describe('a SavedModel-like folder round trip', () => {
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(path.join(tmpdir(), 'modelstore-tree-'));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  function savedModel(): ArchiveEntry[] {
    const model = path.join(work, 'model');
    mkdirSync(path.join(model, 'assets'), { recursive: true });
    mkdirSync(path.join(model, 'variables'));
    mkdirSync(path.join(model, 'private'));
    writeFileSync(path.join(model, 'saved_model.pb'), '');
    writeFileSync(path.join(model, 'serve.sh'), '#!/bin/sh\necho serving\n');
    writeFileSync(path.join(model, 'secret.key'), 'key');
    writeFileSync(path.join(model, 'open.txt'), 'open');
    writeFileSync(path.join(model, 'setuid'), 'suid');
    writeFileSync(path.join(model, 'private', 'none'), 'none');
    chmodSync(path.join(model, 'serve.sh'), 0o755);
    chmodSync(path.join(model, 'secret.key'), 0o600);
    chmodSync(path.join(model, 'open.txt'), 0o777);
    chmodSync(path.join(model, 'setuid'), 0o4775);
    chmodSync(path.join(model, 'private', 'none'), 0o000);
    chmodSync(path.join(model, 'private'), 0o700);
    chmodSync(path.join(model, 'assets'), 0o777);
    chmodSync(path.join(model, 'variables'), 0o555);
    return [
      { path: 'model-info.json', source: Buffer.from('{"library":"model_file"}') },
      { path: 'assets', source: path.join(model, 'assets'), type: 'directory' },
      { path: 'open.txt', source: path.join(model, 'open.txt') },
      { path: 'private', source: path.join(model, 'private'), type: 'directory' },
      { path: 'private/none', source: path.join(model, 'private', 'none') },
      { path: 'saved_model.pb', source: path.join(model, 'saved_model.pb') },
      { path: 'secret.key', source: path.join(model, 'secret.key') },
      { path: 'serve.sh', source: path.join(model, 'serve.sh') },
      { path: 'setuid', source: path.join(model, 'setuid') },
      { path: 'variables', source: path.join(model, 'variables'), type: 'directory' },
      { path: 'extras/notes.txt', source: Buffer.from('notes'), mode: 0o640 },
    ];
  }

  const expectedTree: Array<[string, string, number]> = [
    ['assets', 'dir', 0o755],
    ['extras', 'dir', 0o755],
    ['extras/notes.txt', 'file:5', 0o640],
    ['model-info.json', 'file:24', 0o644],
    ['open.txt', 'file:4', 0o755],
    ['private', 'dir', 0o700],
    ['private/none', 'file:4', 0o000],
    ['saved_model.pb', 'file:0', 0o644],
    ['secret.key', 'file:3', 0o600],
    ['serve.sh', 'file:23', 0o755],
    ['setuid', 'file:4', 0o755],
    ['variables', 'dir', 0o755],
  ];

  it('keeps empty folders, 0-byte files and modes (never wider than 0o755), and records the folders', async () => {
    const { bytes, digest } = await pack(savedModel());
    expect(digest.directories).toEqual(['assets', 'extras', 'private', 'variables']);
    expect(Object.keys(digest.files).sort()).toEqual(expectedTree.filter(([, kind]) => kind !== 'dir').map(([name]) => name));
    const out = path.join(work, 'out');
    mkdirSync(out);
    const extracted = await extractArchive(Readable.from([bytes]), out, digest);
    expect(extracted).toEqual(digest);
    expect(tree(out)).toEqual(expectedTree);
    // The archive itself holds the narrowed modes, so any other reader gets the same.
    const headers: Array<[string, string, number]> = [];
    const extract = tar.extract();
    Readable.from([gunzipSync(bytes)]).pipe(extract);
    for await (const entry of extract) {
      headers.push([entry.header.name.replace(/\/$/, ''), entry.header.type!, entry.header.mode!]);
      entry.resume();
    }
    expect(headers.filter(([, type]) => type === 'directory')).toEqual([
      ['assets', 'directory', 0o755],
      ['private', 'directory', 0o700],
      ['variables', 'directory', 0o755],
      ['extras', 'directory', 0o755],
    ]);
    expect(headers.find(([name]) => name === 'private/none')).toEqual(['private/none', 'file', 0]);
    expect(headers.find(([name]) => name === 'setuid')).toEqual(['setuid', 'file', 0o755]);
  });

  it('goes through ModelStore upload and download the same way, and the script still runs', async () => {
    const adapter: ModelAdapter<ArchiveEntry[], string> = {
      specificationVersion: 'v1',
      library: 'entries',
      matches: (model) => Array.isArray(model),
      save: async (model) => ({ files: model.filter((entry) => entry.path !== 'model-info.json' && !entry.path.startsWith('extras/')) }),
      load: async (directory) => directory,
    };
    const store = new ModelStore({ storage: new MemoryStorage(), adapters: [adapter], cacheDir: path.join(work, 'cache') });
    const metadata = await store.upload('tree', { model: savedModel() });
    expect(metadata.archive?.directories).toEqual(['assets', 'private', 'variables']);
    const out = await store.download('tree', { to: path.join(work, 'download') });
    expect(tree(out)).toEqual(expectedTree.filter(([name]) => !name.startsWith('extras')).map(([name, kind, mode]) => (name === 'model-info.json' ? [name, 'file:21', mode] : [name, kind, mode])));
    expect(execFileSync(path.join(out, 'serve.sh')).toString()).toBe('serving\n');
    expect(readFileSync(path.join(out, 'secret.key'), 'utf8')).toBe('key');
  });
});

describe('archives of other origins', () => {
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(path.join(tmpdir(), 'modelstore-origin-'));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('narrows any mode a hand-made archive records, re-creates its empty folders, and makes implied folders at most 0o755', async () => {
    const bytes = await handMade([
      { name: 'bin/', type: 'directory', mode: 0o777 },
      { name: 'bin/run', mode: 0o4777, data: '#!/bin/sh\n' },
      { name: 'locked/', type: 'directory', mode: 0o000 },
      { name: 'sticky/', type: 'directory', mode: 0o1777 },
      { name: 'group-writable', mode: 0o664, data: 'g' },
      { name: 'deep/er/file', mode: 0o600, data: 'x' },
      { name: 'zero', mode: 0, data: 'z' },
    ]);
    const out = path.join(work, 'out');
    mkdirSync(out);
    const digest = await extractArchive(Readable.from([bytes]), out);
    expect(digest.directories).toEqual(['bin', 'deep', 'deep/er', 'locked', 'sticky']);
    const umask = process.umask();
    expect(tree(out)).toEqual([
      ['bin', 'dir', 0o755],
      ['bin/run', 'file:10', 0o755],
      ['deep', 'dir', 0o755 & ~umask],
      ['deep/er', 'dir', 0o755 & ~umask],
      ['deep/er/file', 'file:1', 0o600],
      ['group-writable', 'file:1', 0o644],
      ['locked', 'dir', 0o700],
      ['sticky', 'dir', 0o755],
      ['zero', 'file:1', 0],
    ]);
  });

  it('refuses an archive whose folders differ from the recorded ones', async () => {
    const bytes = await handMade([
      { name: 'a/', type: 'directory' },
      { name: 'b/c', data: 'c' },
    ]);
    for (const [directories, message] of [
      [['a', 'b', 'gone'], /lacking "gone"/],
      [['b'], /with unrecorded "a"/],
    ] as Array<[string[], RegExp]>) {
      const out = mkdtempSync(path.join(work, 'out-'));
      const error = await extractArchive(Readable.from([bytes]), out, { directories }).catch((e: unknown) => e);
      expect(IntegrityError.isInstance(error)).toBe(true);
      expect((error as Error).message).toMatch(message);
    }
    const out = mkdtempSync(path.join(work, 'out-'));
    await expect(extractArchive(Readable.from([bytes]), out, { directories: ['b', 'a'] })).resolves.toMatchObject({ directories: ['a', 'b'] });
  });

  it('refuses a file and a folder on the same path', async () => {
    const bytes = await handMade([
      { name: 'a/', type: 'directory' },
      { name: 'a', data: 'x' },
    ]);
    const out = mkdtempSync(path.join(work, 'out-'));
    await expect(extractArchive(Readable.from([bytes]), out)).rejects.toMatchObject({ code: 'UNSAFE_ARCHIVE' });
  });
});

describe('entries refused before anything is packed', () => {
  it('a mode outside 0..0o7777, an unknown type, a file on a folder path', () => {
    expect(() => packArchive([{ path: 'a', source: Buffer.from('a'), mode: 0o10000 }], { mtime: new Date(0), compressionLevel: 1 })).toThrow(InvalidOptionError);
    expect(() => packArchive([{ path: 'a', source: Buffer.from('a'), mode: -1 }], { mtime: new Date(0), compressionLevel: 1 })).toThrow(InvalidOptionError);
    expect(() => packArchive([{ path: 'a', source: Buffer.from('a'), type: 'link' as 'file' }], { mtime: new Date(0), compressionLevel: 1 })).toThrow(InvalidOptionError);
    expect(() =>
      packArchive(
        [
          { path: 'a', source: Buffer.from('a') },
          { path: 'a/b', source: Buffer.from('b') },
        ],
        { mtime: new Date(0), compressionLevel: 1 },
      ),
    ).toThrow(ModelStoreError);
    expect(() =>
      packArchive(
        [
          { path: 'a', source: Buffer.from(''), type: 'directory' },
          { path: 'a', source: Buffer.from('b') },
        ],
        { mtime: new Date(0), compressionLevel: 1 },
      ),
    ).toThrow(/Two entries/);
  });
});
