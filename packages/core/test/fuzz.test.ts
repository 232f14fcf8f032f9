// Hostile input: seeded mutations of valid archives and of metadata documents. Every
// case must end in success or a typed ModelStoreError, within a bounded time, with
// nothing written outside the extraction directory. MODELSTORE_FUZZ_CASES sets the
// number of cases of each kind (200 in `pnpm test`, 1,000 in `pnpm test:reliability`).
import { describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { extractArchive, packArchive } from '../src/archive.js';
import { MemoryStorage, ModelStore, ModelStoreError, layout, type ModelAdapter, type ModelMetadata } from '../src/index.js';

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
  switch (Math.floor(next() * 7)) {
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
