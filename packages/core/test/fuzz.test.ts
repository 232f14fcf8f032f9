// Hostile input: seeded mutations of valid archives and of metadata documents. Every
// case must end in success or a typed ModelStoreError, within a bounded time, with
// nothing written outside the extraction directory. MODELSTORE_FUZZ_CASES sets the
// number of cases of each kind (200 in `pnpm test`, 1,000 in `pnpm test:reliability`).
// Also seeded random model folders (modes 0o000-0o7777 on files and folders, empty
// folders, links inside, dangling, escaping and looping, long multi-byte names): packed
// and extracted, every accepted tree comes back exact and nothing wider than 0o755.
import { describe, expect, it } from '@jest/globals';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { extractArchive, packArchive } from '../src/archive.js';
import { MemoryStorage, ModelStore, ModelStoreError, SourceFileError, layout, type ArchiveEntry, type ModelAdapter, type ModelMetadata } from '../src/index.js';

const cases = Number(process.env.MODELSTORE_FUZZ_CASES ?? 200);
const perCaseMs = 5000;

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function bounded<T>(promise: Promise<T>, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not finish within ${perCaseMs} ms`)), perCaseMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Re-computes a tar header's checksum, so a mutated header reaches the parser's deeper checks. */
function fixChecksum(tar: Buffer, offset: number): void {
  const header = tar.subarray(offset, offset + 512);
  if (header.length < 512) return;
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
}

const entries = [
  { path: 'model-info.json', source: Buffer.from('{"library":"bytes"}') },
  { path: 'model.bin', source: Buffer.from(Array.from({ length: 40_000 }, (_, i) => (i * 13) % 256)) },
  { path: 'nested/dir/config.json', source: Buffer.from('{"layers":3}') },
  { path: 'extras/README.txt', source: Buffer.from('readme\n') },
  { path: 'empty', source: Buffer.alloc(0), type: 'directory' as const, mode: 0o700 },
];

async function validArchive(): Promise<{ gz: Buffer; digest: Awaited<ReturnType<typeof packArchive>['digest']> }> {
  const { stream, digest } = packArchive(entries, { mtime: new Date(0), compressionLevel: 6 });
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return { gz: Buffer.concat(chunks), digest: await digest };
}

/** Header offsets of a tar: each entry is a 512-byte header and its data rounded up to 512. */
function headerOffsets(tar: Buffer): number[] {
  const offsets: number[] = [];
  let offset = 0;
  while (offset + 512 <= tar.length && tar[offset] !== 0) {
    offsets.push(offset);
    const size = parseInt(tar.subarray(offset + 124, offset + 136).toString('latin1').replace(/\0.*$/, '').trim() || '0', 8);
    offset += 512 + Math.ceil((Number.isFinite(size) ? size : 0) / 512) * 512;
  }
  return offsets;
}

function mutateTar(tar: Buffer, next: () => number): Buffer {
  const out = Buffer.from(tar);
  const offsets = headerOffsets(out);
  const header = offsets[Math.floor(next() * offsets.length)] ?? 0;
  const hostileNames = ['../escape.txt', '/tmp/absolute.txt', 'a/../../escape.txt', '..', 'x\\..\\y', '', 'ok/./file', 'model.bin'];
  switch (Math.floor(next() * 8)) {
    case 7: // mode field: anything from 0 to 0o7777 (setuid, sticky, world-writable...)
      out.write(`${Math.floor(next() * 0o10000).toString(8).padStart(7, '0')}\0`, header + 100, 'latin1');
      break;
    case 0: // entry type: link, symlink, device, directory, fifo, unknown
      out[header + 156] = '0123456789x'.charCodeAt(Math.floor(next() * 11));
      out.write('/etc/passwd\0', header + 157, 'latin1');
      break;
    case 1: {
      const name = hostileNames[Math.floor(next() * hostileNames.length)]!;
      out.fill(0, header, header + 100);
      out.write(name, header, 'latin1');
      break;
    }
    case 2: // size field: huge (a bomb), zero, garbage
      out.write(['77777777777\0', '00000000000\0', '00000177777\0', 'zzzzzzzzzzz\0'][Math.floor(next() * 4)]!, header + 124, 'latin1');
      break;
    default: // random bytes anywhere
      for (let i = 0, n = 1 + Math.floor(next() * 16); i < n; i++) out[Math.floor(next() * out.length)] = Math.floor(next() * 256);
  }
  if (next() < 0.8) fixChecksum(out, header);
  return next() < 0.3 ? out.subarray(0, Math.floor(next() * out.length)) : out;
}

function mutateGzip(gz: Buffer, next: () => number): Buffer {
  const out = Buffer.from(gz);
  const mode = Math.floor(next() * 3);
  if (mode === 0) return out.subarray(0, Math.floor(next() * out.length));
  if (mode === 1) {
    for (let i = 0, n = 1 + Math.floor(next() * 8); i < n; i++) {
      const at = Math.floor(next() * out.length);
      out[at] = out[at]! ^ (1 << Math.floor(next() * 8));
    }
    return out;
  }
  return Buffer.concat([out, Buffer.from(Array.from({ length: Math.floor(next() * 2000) }, () => Math.floor(next() * 256)))]);
}


/** Paths under `root` whose mode is wider than 0o755 (with the mode), none expected. */
function tooWide(root: string): string[] {
  const wide: string[] = [];
  const walk = (folder: string) => {
    for (const name of readdirSync(folder)) {
      const full = path.join(folder, name);
      const info = lstatSync(full);
      if ((info.mode & 0o7777 & ~0o755) !== 0) wide.push(`${full} ${(info.mode & 0o7777).toString(8)}`);
      if (info.isDirectory()) walk(full);
    }
  };
  walk(root);
  return wide;
}

const isRoot = process.getuid?.() === 0;
const nameParts = ['a', 'B', 'z9', '-', '_', ' ', 'é', 'ß', '日本', '語', '🙂', 'Ω', '.', '~'];

/** A name for a folder entry: short ASCII, or multi-byte up to the file system's 255 bytes. */
function randomName(next: () => number, taken: Set<string>): string {
  for (;;) {
    const long = next() < 0.25;
    const budget = long ? 200 + Math.floor(next() * 56) : 1 + Math.floor(next() * 12);
    let name = '';
    while (true) {
      const part = nameParts[Math.floor(next() * nameParts.length)]!;
      if (Buffer.byteLength(name + part) > budget) break;
      name += part;
    }
    if (name === '' || name === '.' || name === '..' || taken.has(name)) continue;
    taken.add(name);
    return name;
  }
}

/** A random mode 0o000-0o7777; when not root, with the owner's read (and search for folders) kept, so the test can list and read. */
function randomMode(next: () => number, folder: boolean): number {
  const mode = Math.floor(next() * 0o10000);
  if (isRoot) return mode;
  return mode | (folder ? 0o700 : 0o400);
}

type LinkKind = 'inside-file' | 'dangling' | 'escaping' | 'loop' | 'to-folder';

/**
 * A random model folder under `root/src` (and a file outside it, under `root/outside`):
 * files of 0-3000 bytes, empty and nested folders, random modes, links of every kind.
 * Returns the archive entries a folder lister makes (folders as directory entries,
 * links as file entries followed by core) and the links it made. Core has no notion of a
 * model folder, so it follows a link that escapes one (it stores the outside file); the
 * RawAdapter refuses those (packages/adapter-raw/test/fuzz.test.ts). Dangling links,
 * loops and links to folders given as file entries are refused here.
 */
function randomTree(root: string, next: () => number): { entries: ArchiveEntry[]; links: LinkKind[] } {
  const src = path.join(root, 'src');
  const outside = path.join(root, 'outside');
  mkdirSync(src);
  mkdirSync(outside);
  writeFileSync(path.join(outside, 'secret'), 'outside the model');
  const entries: ArchiveEntry[] = [];
  const links: LinkKind[] = [];
  const files: string[] = [];
  const modes: Array<[string, number]> = [];
  const fill = (folder: string, prefix: string, depth: number) => {
    const taken = new Set<string>();
    const count = Math.floor(next() * (depth === 0 ? 6 : 4));
    for (let i = 0; i < count; i++) {
      const name = randomName(next, taken);
      const full = path.join(folder, name);
      const archivePath = `${prefix}${name}`;
      const kind = next();
      if (kind < 0.3 && depth < 3) {
        mkdirSync(full);
        entries.push({ path: archivePath, source: full, type: 'directory' });
        fill(full, `${archivePath}/`, depth + 1);
        modes.push([full, randomMode(next, true)]);
      } else if (kind < 0.9 || files.length === 0) {
        const size = next() < 0.2 ? 0 : Math.floor(next() * 3000);
        writeFileSync(full, Buffer.from(Array.from({ length: size }, () => Math.floor(next() * 256))));
        entries.push({ path: archivePath, source: full });
        files.push(full);
        modes.push([full, randomMode(next, false)]);
      } else {
        const linkKind = (['inside-file', 'inside-file', 'dangling', 'escaping', 'loop', 'to-folder'] as const)[Math.floor(next() * 6)]!;
        links.push(linkKind);
        if (linkKind === 'inside-file') symlinkSync(files[Math.floor(next() * files.length)]!, full);
        else if (linkKind === 'dangling') symlinkSync(path.join(folder, 'nowhere'), full);
        else if (linkKind === 'escaping') symlinkSync(path.join(outside, 'secret'), full);
        else if (linkKind === 'to-folder') symlinkSync(src, full);
        else {
          const other = path.join(folder, `loop~${i}`);
          taken.add(`loop~${i}`);
          symlinkSync(other, full);
          symlinkSync(full, other);
        }
        entries.push({ path: archivePath, source: full });
      }
    }
  };
  fill(src, '', 0);
  if (entries.every((entry) => entry.type === 'directory')) {
    writeFileSync(path.join(src, 'only'), 'x');
    entries.push({ path: 'only', source: path.join(src, 'only') });
  }
  // Modes last, deepest first, so a folder closed to its owner does not stop the tree being built.
  for (const [full, mode] of modes.reverse()) chmodSync(full, mode);
  return { entries, links };
}

/** What the extracted tree must be: every folder (mode narrowed) and file (bytes, mode narrowed), following the entries' links. */
function expectedTree(entries: ArchiveEntry[]): Array<[string, string, string]> {
  return entries
    .map((entry): [string, string, string] => {
      const info = statSync(entry.source as string);
      if (entry.type === 'directory') return [entry.path, 'dir', (((info.mode & 0o755) | 0o700) & 0o7777).toString(8)];
      return [entry.path, createHash('sha256').update(readFileSync(entry.source as string)).digest('hex'), (info.mode & 0o755).toString(8)];
    })
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function extractedTree(root: string, prefix = ''): Array<[string, string, string]> {
  const out: Array<[string, string, string]> = [];
  for (const name of readdirSync(root)) {
    const full = path.join(root, name);
    const info = lstatSync(full);
    if (info.isDirectory()) {
      out.push([`${prefix}${name}`, 'dir', (info.mode & 0o7777).toString(8)]);
      out.push(...extractedTree(full, `${prefix}${name}/`));
    } else {
      out.push([`${prefix}${name}`, info.isFile() ? createHash('sha256').update(readFileSync(full)).digest('hex') : 'NOT A FILE', (info.mode & 0o7777).toString(8)]);
    }
  }
  return out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

describe(`hostile input (${cases} cases of each kind)`, () => {
  it('extracts mutated archives with only typed errors, nothing outside the directory, and no hang', async () => {
    const { gz, digest } = await validArchive();
    const tar = gunzipSync(gz);
    const next = random(20261127);
    const work = mkdtempSync(path.join(tmpdir(), 'modelstore-fuzz-archive-'));
    const outcomes: Record<string, number> = {};
    try {
      for (let i = 0; i < cases; i++) {
        const bytes = next() < 0.6 ? gzipSync(mutateTar(tar, next)) : mutateGzip(gz, next);
        const caseRoot = path.join(work, `case-${i}`);
        const directory = path.join(caseRoot, 'x');
        mkdirSync(directory, { recursive: true });
        const expected = next() < 0.5 ? digest : {};
        const outcome = await bounded(
          extractArchive(Readable.from([bytes]), directory, expected).then(
            () => 'extracted',
            (error: unknown) => (ModelStoreError.isInstance(error) ? error.code : `UNTYPED ${String(error)}`),
          ),
          `case ${i}`,
        );
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        expect([i, outcome.startsWith('UNTYPED') ? outcome : 'typed']).toEqual([i, 'typed']);
        expect([i, readdirSync(caseRoot)]).toEqual([i, ['x']]);
        expect([i, tooWide(directory)]).toEqual([i, []]);
        rmSync(caseRoot, { recursive: true, force: true });
      }
      expect(readdirSync(work)).toEqual([]);
      process.stdout.write(`archive fuzzing, ${cases} cases: ${JSON.stringify(outcomes)}\n`);
      // The mutations reached every kind of refusal.
      expect(outcomes.UNSAFE_ARCHIVE).toBeGreaterThan(0);
      expect(outcomes.INTEGRITY).toBeGreaterThan(0);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 600_000);

  it('packs random model folders (modes, empty folders, links, long multi-byte names): accepted trees come back exact, refused ones with SourceFileError', async () => {
    const next = random(20261130);
    const work = mkdtempSync(path.join(tmpdir(), 'modelstore-fuzz-tree-'));
    const outcomes: Record<string, number> = {};
    try {
      for (let i = 0; i < cases; i++) {
        const caseRoot = path.join(work, `case-${i}`);
        mkdirSync(caseRoot);
        const { entries: tree, links } = randomTree(caseRoot, next);
        const refused = links.some((link) => link === 'dangling' || link === 'loop' || link === 'to-folder');
        const expected = refused ? undefined : expectedTree(tree);
        const out = path.join(caseRoot, 'out');
        mkdirSync(path.join(out, 'x'), { recursive: true });
        const outcome = await bounded(
          (async () => {
            const { stream, digest } = packArchive(tree, { mtime: new Date(0), compressionLevel: next() < 0.5 ? 1 : 'auto' });
            const chunks: Buffer[] = [];
            for await (const chunk of stream) chunks.push(chunk as Buffer);
            const packed = await digest;
            await extractArchive(Readable.from([Buffer.concat(chunks)]), path.join(out, 'x'), packed);
            return 'extracted';
          })().catch((error: unknown) => (SourceFileError.isInstance(error) ? `SOURCE_FILE ${error.reason}` : ModelStoreError.isInstance(error) ? error.code : `UNTYPED ${(error as Error)?.stack ?? String(error)}`)),
          `tree case ${i}`,
        );
        const label = outcome.startsWith('SOURCE_FILE') ? outcome : outcome.split(' ')[0]!;
        outcomes[label] = (outcomes[label] ?? 0) + 1;
        expect([i, outcome.startsWith('UNTYPED') ? outcome : 'typed']).toEqual([i, 'typed']);
        expect([i, refused ? outcome.startsWith('SOURCE_FILE') : outcome]).toEqual([i, refused ? true : 'extracted']);
        // Nothing written beside the extraction folder or into the sources.
        expect([i, readdirSync(caseRoot).sort(), readdirSync(out), readdirSync(path.join(caseRoot, 'outside'))]).toEqual([i, ['out', 'outside', 'src'], ['x'], ['secret']]);
        expect([i, tooWide(path.join(out, 'x'))]).toEqual([i, []]);
        if (expected) expect([i, extractedTree(path.join(out, 'x'))]).toEqual([i, expected]);
        // Sources closed to everyone (mode 0) must be opened again to be removed when not root.
        chmodSync(caseRoot, 0o700);
        rmSync(caseRoot, { recursive: true, force: true });
      }
      process.stdout.write(`tree fuzzing, ${cases} cases: ${JSON.stringify(outcomes)}\n`);
      expect(outcomes.extracted).toBeGreaterThan(0);
      expect(Object.keys(outcomes).filter((key) => key.startsWith('SOURCE_FILE')).length).toBeGreaterThan(0);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 600_000);

  it('stops a decompression bomb at the recorded sizes before writing it', async () => {
    const { gz, digest } = await validArchive();
    const tar = gunzipSync(gz);
    const bomb = Buffer.from(tar);
    const offset = headerOffsets(bomb)[1]!; // model.bin
    bomb.write('77777777777\0', offset + 124, 'latin1'); // 8 GiB claimed
    fixChecksum(bomb, offset);
    const directory = mkdtempSync(path.join(tmpdir(), 'modelstore-bomb-'));
    try {
      const error = await extractArchive(Readable.from([gzipSync(bomb)]), directory, digest).catch((e: unknown) => e);
      expect((error as ModelStoreError).code).toBe('INTEGRITY');
      expect((error as Error).message).toMatch(/in the archive but 40000 in the metadata/);
      expect(readdirSync(directory)).toEqual(['model-info.json']);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('reads mutated metadata documents with only typed errors', async () => {
    const adapter: ModelAdapter<Uint8Array, string> = {
      library: 'bytes',
      matches: (model) => model instanceof Uint8Array,
      save: async (model) => ({ files: [{ path: 'model.bin', source: model }] }),
      load: async (directory) => directory,
    };
    const work = mkdtempSync(path.join(tmpdir(), 'modelstore-fuzz-metadata-'));
    const storage = new MemoryStorage();
    const store = new ModelStore({ storage, adapters: [adapter], cacheDir: path.join(work, 'cache') });
    const original = await store.upload('fuzz', { model: Buffer.from('weights'), modelId: 'target' });
    const text = JSON.stringify(original);
    const next = random(7);
    const values = [null, 0, -1, 1e308, '', 'x', [], {}, true, { sha256: 'x', size: 'y', files: 5 }, '../../etc/passwd', { type: 'file_system', path: '/etc/passwd' }];
    const paths = (value: unknown, prefix: string[] = []): string[][] =>
      typeof value === 'object' && value !== null ? Object.entries(value).flatMap(([key, child]) => [[...prefix, key], ...paths(child, [...prefix, key])]) : [];
    const allPaths = paths(original);
    const outcomes: Record<string, number> = {};
    try {
      for (let i = 0; i < cases; i++) {
        let document: string;
        const mode = Math.floor(next() * 4);
        if (mode === 0) {
          document = text.slice(0, Math.floor(next() * text.length));
        } else if (mode === 1) {
          const chars = text.split('');
          for (let j = 0, n = 1 + Math.floor(next() * 6); j < n; j++) chars[Math.floor(next() * chars.length)] = String.fromCharCode(Math.floor(next() * 128));
          document = chars.join('');
        } else {
          const copy = JSON.parse(text) as Record<string, unknown>;
          const target = allPaths[Math.floor(next() * allPaths.length)]!;
          let parent: Record<string, unknown> = copy;
          for (const key of target.slice(0, -1)) parent = parent[key] as Record<string, unknown>;
          if (mode === 2) delete parent[target[target.length - 1]!];
          else parent[target[target.length - 1]!] = values[Math.floor(next() * values.length)];
          document = JSON.stringify(mode === 3 && next() < 0.1 ? values[Math.floor(next() * values.length)] : copy);
        }
        await storage.put(layout.version('fuzz', 'target'), document);
        await storage.put(layout.domain('fuzz'), document);
        for (const [name, call] of [
          ['getModelInfo', () => store.getModelInfo('fuzz', 'target')],
          ['getDomain', () => store.getDomain('fuzz')],
          ['listModels', () => store.listModels('fuzz')],
          ['listDomains', () => store.listDomains()],
          ['download', () => store.download('fuzz', { modelId: 'target', to: path.join(work, `out-${i}`) })],
          ['load', () => store.load('fuzz', { modelId: 'target' })],
          ['upload', () => store.upload('fuzz', { model: Buffer.from(`more ${i}`) })],
        ] as Array<[string, () => Promise<unknown>]>) {
          const outcome = await bounded(
            call().then(
              () => 'ok',
              (error: unknown) => (ModelStoreError.isInstance(error) ? error.code : `UNTYPED ${(error as Error)?.stack ?? String(error)}`),
            ),
            `${name} in case ${i}`,
          );
          outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
          expect([i, name, outcome.startsWith('UNTYPED') ? outcome : 'typed']).toEqual([i, name, 'typed']);
        }
      }
      process.stdout.write(`metadata fuzzing, ${cases} cases x 7 operations: ${JSON.stringify(outcomes)}\n`);
      expect(outcomes.INTEGRITY).toBeGreaterThan(0);
      const metadata: ModelMetadata | undefined = original;
      expect(metadata.model.model_id).toBe('target');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 600_000);
});
