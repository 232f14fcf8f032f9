// Hostile input: seeded mutations of valid archives and of metadata documents. Every
// case must end in success or a typed ModelStoreError, within a bounded time, with
// nothing written outside the extraction directory. MODELSTORE_FUZZ_CASES sets the
// number of cases of each kind (200 in `pnpm test`, 1,000 in `pnpm test:reliability`).
// The inputs are fast-check arbitraries run with fixed seeds (MODELSTORE_FUZZ_SEED
// overrides them); a failure prints its seed and path, and the shrunk counterexample.
// Also seeded random model folders (modes 0o000-0o7777 on files and folders, empty
// folders, links inside, dangling, escaping and looping, long multi-byte names): packed
// and extracted, every accepted tree comes back exact and nothing wider than 0o755.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { extractArchive, packArchive } from '../src/archive.js';
import { MemoryStorage, ModelStore, ModelStoreError, SourceFileError, type ArchiveEntry, type ModelAdapter, type ModelMetadata } from '../src/index.js';
import { layout } from '../src/internal.js';

const cases = Number(process.env.MODELSTORE_FUZZ_CASES ?? 200);
const perCaseMs = 5000;

/** The seed of each property: fixed, so every run sees the same cases, unless MODELSTORE_FUZZ_SEED is set. */
const seedFor = (fixed: number) => Number(process.env.MODELSTORE_FUZZ_SEED ?? fixed);
/** fast-check's run parameters for `cases` runs from `seed`. */
const runs = (seed: number): fc.Parameters<unknown> => ({ numRuns: cases, seed: seedFor(seed) });
/** A number in [0, 1): a position or a pick, scaled to what exists when the case runs. */
const fraction = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
const pick = <T>(items: readonly T[], at: number): T => items[Math.floor(at * items.length)]!;
/** `true` with probability `p` (in hundredths). */
const chance = (percent: number) => fc.integer({ min: 0, max: 99 }).map((roll) => roll < percent);
/** A value of `arbitrary` in `percent` out of 100 cases, else `null`. */
const sometimes = <T>(percent: number, arbitrary: fc.Arbitrary<T>) => fc.oneof({ weight: 100 - percent, arbitrary: fc.constant(null) }, { weight: percent, arbitrary });

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
    const size = parseInt(
      tar
        .subarray(offset + 124, offset + 136)
        .toString('latin1')
        .replace(/\0.*$/, '')
        .trim() || '0',
      8,
    );
    offset += 512 + Math.ceil((Number.isFinite(size) ? size : 0) / 512) * 512;
  }
  return offsets;
}

const hostileNames = ['../escape.txt', '/tmp/absolute.txt', 'a/../../escape.txt', '..', 'x\\..\\y', '', 'ok/./file', 'model.bin'];

/** One change to one tar header (or to random bytes anywhere), as fast-check generates it. */
type TarChange = { kind: 'mode'; mode: number } | { kind: 'type'; type: string } | { kind: 'name'; name: string } | { kind: 'size'; size: string } | { kind: 'bytes'; bytes: Array<{ at: number; value: number }> };

/** A tar-level mutation: which header, what change, whether the checksum is re-computed, where to truncate. */
const tarMutation = fc.record({
  header: fraction,
  change: fc.oneof<Array<fc.WeightedArbitrary<TarChange>>>(
    // mode field: anything from 0 to 0o7777 (setuid, sticky, world-writable...)
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('mode' as const), mode: fc.integer({ min: 0, max: 0o7777 }) }) },
    // entry type: link, symlink, device, directory, fifo, unknown (pointing at /etc/passwd)
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('type' as const), type: fc.constantFrom(...'0123456789x') }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('name' as const), name: fc.constantFrom(...hostileNames) }) },
    // size field: huge (a bomb), zero, garbage
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('size' as const), size: fc.constantFrom('77777777777\0', '00000000000\0', '00000177777\0', 'zzzzzzzzzzz\0') }) },
    // random bytes anywhere
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.array(fc.record({ at: fraction, value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 16 }) }) },
  ),
  fixChecksum: chance(80),
  truncateAt: sometimes(30, fraction),
});
type TarMutation = typeof tarMutation extends fc.Arbitrary<infer T> ? T : never;

function mutateTar(tar: Buffer, mutation: TarMutation): Buffer {
  const out = Buffer.from(tar);
  const header = pick(headerOffsets(out), mutation.header) ?? 0;
  const { change } = mutation;
  if (change.kind === 'mode') out.write(`${change.mode.toString(8).padStart(7, '0')}\0`, header + 100, 'latin1');
  else if (change.kind === 'type') {
    out[header + 156] = change.type.charCodeAt(0);
    out.write('/etc/passwd\0', header + 157, 'latin1');
  } else if (change.kind === 'name') {
    out.fill(0, header, header + 100);
    out.write(change.name, header, 'latin1');
  } else if (change.kind === 'size') out.write(change.size, header + 124, 'latin1');
  else for (const { at, value } of change.bytes) out[Math.floor(at * out.length)] = value;
  if (mutation.fixChecksum) fixChecksum(out, header);
  return mutation.truncateAt === null ? out : out.subarray(0, Math.floor(mutation.truncateAt * out.length));
}

/** A gzip-level mutation: truncation, bit flips, or trailing bytes. */
const gzipMutation = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fraction }),
  fc.record({ kind: fc.constant('flip' as const), flips: fc.array(fc.record({ at: fraction, bit: fc.integer({ min: 0, max: 7 }) }), { minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('trail' as const), bytes: fc.uint8Array({ maxLength: 1999, size: 'max' }) }),
);
type GzipMutation = typeof gzipMutation extends fc.Arbitrary<infer T> ? T : never;

function mutateGzip(gz: Buffer, mutation: GzipMutation): Buffer {
  const out = Buffer.from(gz);
  if (mutation.kind === 'truncate') return out.subarray(0, Math.floor(mutation.at * out.length));
  if (mutation.kind === 'flip') {
    for (const { at, bit } of mutation.flips) {
      const index = Math.floor(at * out.length);
      out[index] = out[index]! ^ (1 << bit);
    }
    return out;
  }
  return Buffer.concat([out, mutation.bytes]);
}

/** A mutated archive: 60% tar-level (gzipped again), 40% gzip-level; half checked against the recorded digests. */
const archiveCase = fc.record({
  mutation: fc.oneof({ weight: 3, arbitrary: fc.record({ layer: fc.constant('tar' as const), tar: tarMutation }) }, { weight: 2, arbitrary: fc.record({ layer: fc.constant('gzip' as const), gzip: gzipMutation }) }),
  withDigests: fc.boolean(),
});

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
const entryName = fc
  .oneof(
    { weight: 3, arbitrary: fc.tuple(fc.integer({ min: 1, max: 12 }), fc.array(fc.constantFrom(...nameParts), { minLength: 1, maxLength: 12 })) },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 200, max: 255 }), fc.array(fc.constantFrom(...nameParts), { minLength: 200, maxLength: 255 })) },
  )
  .map(([budget, parts]) => {
    let name = '';
    for (const part of parts) {
      if (Buffer.byteLength(name + part) > budget) break;
      name += part;
    }
    return name;
  })
  .filter((name) => name !== '' && name !== '.' && name !== '..');

/** A random mode 0o000-0o7777; when not root, with the owner's read (and search for folders) kept, so the test can list and read. */
function usableMode(mode: number, folder: boolean): number {
  if (isRoot) return mode;
  return mode | (folder ? 0o700 : 0o400);
}

type LinkKind = 'inside-file' | 'dangling' | 'escaping' | 'loop' | 'to-folder';

/** One entry of a random model folder, as fast-check generates it. */
type EntrySpec = { kind: 'folder'; name: string; mode: number; children: EntrySpec[] } | { kind: 'file'; name: string; mode: number; bytes: Uint8Array } | { kind: 'link'; name: string; link: LinkKind; target: number };

const fileBytes = fc.oneof({ weight: 1, arbitrary: fc.constant(new Uint8Array(0)) }, { weight: 4, arbitrary: fc.uint8Array({ maxLength: 2999, size: 'max' }) });

/** The entries of a folder at `depth`: 0-5 at the top, 0-3 below; folders down to depth 3. */
function folderEntries(depth: number): fc.Arbitrary<EntrySpec[]> {
  const file = fc.record({ kind: fc.constant('file' as const), name: entryName, mode: fc.integer({ min: 0, max: 0o7777 }), bytes: fileBytes });
  const link = fc.record({ kind: fc.constant('link' as const), name: entryName, link: fc.constantFrom<LinkKind>('inside-file', 'inside-file', 'dangling', 'escaping', 'loop', 'to-folder'), target: fraction });
  const choices: Array<fc.WeightedArbitrary<EntrySpec>> = [
    { weight: depth < 3 ? 60 : 90, arbitrary: file },
    { weight: 10, arbitrary: link },
  ];
  if (depth < 3) choices.push({ weight: 30, arbitrary: fc.record({ kind: fc.constant('folder' as const), name: entryName, mode: fc.integer({ min: 0, max: 0o7777 }), children: folderEntries(depth + 1) }) });
  return fc.uniqueArray(fc.oneof(...choices), { maxLength: depth === 0 ? 5 : 3, selector: (entry) => entry.name, size: 'max' });
}
const modelFolder = folderEntries(0);

/**
 * Makes a model folder from `spec` under `root/src` (and a file outside it, under `root/outside`).
 * Returns the archive entries a folder lister makes (folders as directory entries,
 * links as file entries followed by core) and the links it made. Core has no notion of a
 * model folder, so it follows a link that escapes one (it stores the outside file); the
 * RawAdapter refuses those (packages/adapter-raw/test/fuzz.test.ts). Dangling links,
 * loops and links to folders given as file entries are refused here. A link that comes
 * before any file (it has nothing to point at) is made a file.
 */
function makeTree(root: string, spec: EntrySpec[]): { entries: ArchiveEntry[]; links: LinkKind[] } {
  const src = path.join(root, 'src');
  const outside = path.join(root, 'outside');
  mkdirSync(src);
  mkdirSync(outside);
  writeFileSync(path.join(outside, 'secret'), 'outside the model');
  const entries: ArchiveEntry[] = [];
  const links: LinkKind[] = [];
  const files: string[] = [];
  const modes: Array<[string, number]> = [];
  let serial = 0;
  const fill = (folder: string, prefix: string, children: EntrySpec[]) => {
    for (const child of children) {
      const full = path.join(folder, child.name);
      const archivePath = `${prefix}${child.name}`;
      if (child.kind === 'folder') {
        mkdirSync(full);
        entries.push({ path: archivePath, source: full, type: 'directory' });
        fill(full, `${archivePath}/`, child.children);
        modes.push([full, usableMode(child.mode, true)]);
      } else if (child.kind === 'file' || files.length === 0) {
        writeFileSync(full, child.kind === 'file' ? child.bytes : Buffer.from(child.name));
        entries.push({ path: archivePath, source: full });
        files.push(full);
        modes.push([full, usableMode(child.kind === 'file' ? child.mode : 0o644, false)]);
      } else {
        links.push(child.link);
        if (child.link === 'inside-file') symlinkSync(pick(files, child.target), full);
        else if (child.link === 'dangling') symlinkSync(path.join(folder, 'nowhere'), full);
        else if (child.link === 'escaping') symlinkSync(path.join(outside, 'secret'), full);
        else if (child.link === 'to-folder') symlinkSync(src, full);
        else {
          // Names are made of nameParts, which never spell "loop~".
          const other = path.join(folder, `loop~${serial++}`);
          symlinkSync(other, full);
          symlinkSync(full, other);
        }
        entries.push({ path: archivePath, source: full });
      }
    }
  };
  fill(src, '', spec);
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
      return [
        entry.path,
        createHash('sha256')
          .update(readFileSync(entry.source as string))
          .digest('hex'),
        (info.mode & 0o755).toString(8),
      ];
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

/** A change to a metadata document: truncated, noisy, a key deleted, or a value of the wrong type (10% of those replace the whole document). */
const metadataMutation = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fraction }),
  fc.record({ kind: fc.constant('noise' as const), changes: fc.array(fc.record({ at: fraction, code: fc.integer({ min: 0, max: 127 }) }), { minLength: 1, maxLength: 6 }) }),
  fc.record({ kind: fc.constant('delete' as const), path: fraction }),
  fc.record({ kind: fc.constant('set' as const), path: fraction, value: fraction, whole: sometimes(10, fraction) }),
);

describe(`hostile input (${cases} cases of each kind)`, () => {
  it('extracts mutated archives with only typed errors, nothing outside the directory, and no hang', async () => {
    const { gz, digest } = await validArchive();
    const tar = gunzipSync(gz);
    const work = mkdtempSync(path.join(tmpdir(), 'modelstore-fuzz-archive-'));
    const outcomes: Record<string, number> = {};
    let count = 0;
    try {
      await fc.assert(
        fc.asyncProperty(archiveCase, async ({ mutation, withDigests }) => {
          const i = count++;
          const bytes = mutation.layer === 'tar' ? gzipSync(mutateTar(tar, mutation.tar)) : mutateGzip(gz, mutation.gzip);
          const caseRoot = path.join(work, `case-${i}`);
          const directory = path.join(caseRoot, 'x');
          mkdirSync(directory, { recursive: true });
          const outcome = await bounded(
            extractArchive(Readable.from([bytes]), directory, withDigests ? digest : {}).then(
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
        }),
        runs(20261127),
      );
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
    const work = mkdtempSync(path.join(tmpdir(), 'modelstore-fuzz-tree-'));
    const outcomes: Record<string, number> = {};
    let count = 0;
    try {
      await fc.assert(
        fc.asyncProperty(modelFolder, fc.boolean(), async (spec, fastest) => {
          const i = count++;
          const caseRoot = path.join(work, `case-${i}`);
          mkdirSync(caseRoot);
          const { entries: tree, links } = makeTree(caseRoot, spec);
          const refused = links.some((link) => link === 'dangling' || link === 'loop' || link === 'to-folder');
          const expected = refused ? undefined : expectedTree(tree);
          const out = path.join(caseRoot, 'out');
          mkdirSync(path.join(out, 'x'), { recursive: true });
          const outcome = await bounded(
            (async () => {
              const { stream, digest } = packArchive(tree, { mtime: new Date(0), compressionLevel: fastest ? 1 : 'auto' });
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
        }),
        runs(20261130),
      );
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
      specificationVersion: 'v1',
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
    const values = [null, 0, -1, 1e308, '', 'x', [], {}, true, { sha256: 'x', size: 'y', files: 5 }, '../../etc/passwd', { type: 'file_system', path: '/etc/passwd' }];
    const paths = (value: unknown, prefix: string[] = []): string[][] => (typeof value === 'object' && value !== null ? Object.entries(value).flatMap(([key, child]) => [[...prefix, key], ...paths(child, [...prefix, key])]) : []);
    const allPaths = paths(original);
    const outcomes: Record<string, number> = {};
    try {
      let count = 0;
      await fc.assert(
        fc.asyncProperty(metadataMutation, async (mutation) => {
          const i = count++;
          let document: string;
          if (mutation.kind === 'truncate') {
            document = text.slice(0, Math.floor(mutation.at * text.length));
          } else if (mutation.kind === 'noise') {
            const chars = text.split('');
            for (const { at, code } of mutation.changes) chars[Math.floor(at * chars.length)] = String.fromCharCode(code);
            document = chars.join('');
          } else {
            const copy = JSON.parse(text) as Record<string, unknown>;
            const target = pick(allPaths, mutation.path);
            let parent: Record<string, unknown> = copy;
            for (const key of target.slice(0, -1)) parent = parent[key] as Record<string, unknown>;
            if (mutation.kind === 'delete') delete parent[target[target.length - 1]!];
            else parent[target[target.length - 1]!] = pick(values, mutation.value);
            document = JSON.stringify(mutation.kind === 'set' && mutation.whole !== null ? pick(values, mutation.whole) : copy);
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
        }),
        runs(7),
      );
      process.stdout.write(`metadata fuzzing, ${cases} cases x 7 operations: ${JSON.stringify(outcomes)}\n`);
      expect(outcomes.INTEGRITY).toBeGreaterThan(0);
      const metadata: ModelMetadata | undefined = original;
      expect(metadata.model.model_id).toBe('target');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 600_000);
});
