// Seeded random model folders through the RawAdapter, packArchive and extractArchive:
// links inside (to files and folders), dangling, escaping (absolute and through `..`),
// into a folder that holds them (cycles) and loops of links; modes 0o000-0o7777 on
// files and folders; empty folders; long multi-byte names. A folder with a bad link is
// refused with SourceFileError naming a link reason; any other folder comes back exactly
// as `cp -rL` copies it (bytes, empty folders), modes narrowed to at most 0o755 (the
// owner's execute bit kept). No untyped error, nothing written outside the extraction
// folder. MODELSTORE_FUZZ_CASES sets the number of cases (200 in `pnpm test`, 1,000 in
// `pnpm test:reliability`).
import { describe, expect, it } from '@jest/globals';
import { extractArchive, ModelStoreError, packArchive, SourceFileError } from '@modelstore/core';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { RawAdapter } from '../src/index.js';

const cases = Number(process.env.MODELSTORE_FUZZ_CASES ?? 200);
const isRoot = process.getuid?.() === 0;

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

const nameParts = ['a', 'B', 'z9', '-', '_', ' ', 'é', 'ß', '日本', '語', '🙂', 'Ω', '.', '~'];

function randomName(next: () => number, taken: Set<string>): string {
  for (;;) {
    const budget = next() < 0.25 ? 200 + Math.floor(next() * 56) : 1 + Math.floor(next() * 12);
    let name = '';
    for (;;) {
      const part = nameParts[Math.floor(next() * nameParts.length)]!;
      if (Buffer.byteLength(name + part) > budget) break;
      name += part;
    }
    if (name === '' || name === '.' || name === '..' || taken.has(name)) continue;
    taken.add(name);
    return name;
  }
}

type LinkKind = 'file' | 'folder' | 'dangling' | 'absolute-out' | 'dotdot-out' | 'ancestor' | 'loop';
const badLinks = new Set<LinkKind>(['dangling', 'absolute-out', 'dotdot-out', 'ancestor', 'loop']);

/** A random model folder at `root/src` and a file outside it; returns the links made. */
function randomFolder(root: string, next: () => number): LinkKind[] {
  const src = path.join(root, 'src');
  const outside = path.join(root, 'outside');
  mkdirSync(src);
  mkdirSync(outside);
  writeFileSync(path.join(outside, 'secret'), 'outside the model');
  const links: LinkKind[] = [];
  const files: string[] = [];
  const folders: string[] = [];
  const modes: Array<[string, number]> = [];
  let serial = 0;
  const fill = (folder: string, depth: number, ancestors: string[]) => {
    const taken = new Set<string>();
    const count = Math.floor(next() * (depth === 0 ? 6 : 4));
    for (let i = 0; i < count; i++) {
      const name = randomName(next, taken);
      const full = path.join(folder, name);
      const kind = next();
      if (kind < 0.3 && depth < 3) {
        mkdirSync(full);
        folders.push(full);
        fill(full, depth + 1, [...ancestors, full]);
        const mode = Math.floor(next() * 0o10000);
        modes.push([full, isRoot ? mode : mode | 0o700]);
      } else if (kind < 0.88 || files.length === 0) {
        const size = next() < 0.2 ? 0 : Math.floor(next() * 3000);
        writeFileSync(full, Buffer.from(Array.from({ length: size }, () => Math.floor(next() * 256))));
        files.push(full);
        const mode = Math.floor(next() * 0o10000);
        modes.push([full, isRoot ? mode : mode | 0o400]);
      } else {
        const candidates: LinkKind[] = ['file', 'file', 'folder', 'dangling', 'absolute-out', 'dotdot-out', 'ancestor', 'loop'];
        let link = candidates[Math.floor(next() * candidates.length)]!;
        // A link to a folder that is neither this folder nor one holding it (else it is a cycle).
        const others = folders.filter((other) => !ancestors.includes(other) && other !== folder && !folder.startsWith(other + path.sep));
        if (link === 'folder' && others.length === 0) link = 'file';
        links.push(link);
        if (link === 'file') symlinkSync(path.relative(folder, files[Math.floor(next() * files.length)]!), full);
        else if (link === 'folder') symlinkSync(path.relative(folder, others[Math.floor(next() * others.length)]!), full);
        else if (link === 'dangling') symlinkSync('checkpoint-500.ckpt', full);
        else if (link === 'absolute-out') symlinkSync(path.join(outside, 'secret'), full);
        else if (link === 'dotdot-out') symlinkSync(path.relative(folder, path.join(outside, 'secret')), full);
        else if (link === 'ancestor') symlinkSync(path.relative(folder, [src, ...ancestors][Math.floor(next() * (ancestors.length + 1))]!) || '.', full);
        else {
          const other = path.join(folder, `loop~${serial++}`);
          taken.add(path.basename(other));
          symlinkSync(path.basename(other), full);
          symlinkSync(name, other);
        }
      }
    }
  };
  fill(src, 0, []);
  writeFileSync(path.join(src, 'model.bin'.padStart(12, '0')), 'weights');
  for (const [full, mode] of modes.reverse()) chmodSync(full, mode);
  return links;
}

/** Every path under `root`: folders with their mode, files with their sha256 and mode (modes as `narrow` makes them). */
function listing(root: string, narrow: (mode: number, folder: boolean) => number, prefix = ''): Array<[string, string, string]> {
  const out: Array<[string, string, string]> = [];
  for (const name of readdirSync(root)) {
    const full = path.join(root, name);
    const info = lstatSync(full);
    if (info.isDirectory()) {
      out.push([`${prefix}${name}`, 'dir', narrow(info.mode & 0o7777, true).toString(8)]);
      out.push(...listing(full, narrow, `${prefix}${name}/`));
    } else {
      out.push([`${prefix}${name}`, info.isFile() ? createHash('sha256').update(readFileSync(full)).digest('hex') : 'NOT A FILE', narrow(info.mode & 0o7777, false).toString(8)]);
    }
  }
  return out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

describe(`RawAdapter folders (${cases} seeded cases)`, () => {
  it('stores accepted folders exactly as cp -rL copies them, refuses bad links with SourceFileError, never writes outside or wider than 0o755', async () => {
    const next = random(20261130);
    const adapter = new RawAdapter();
    const work = mkdtempSync(path.join(tmpdir(), 'modelstore-raw-fuzz-'));
    const outcomes: Record<string, number> = {};
    try {
      for (let i = 0; i < cases; i++) {
        const caseRoot = path.join(work, `case-${i}`);
        mkdirSync(caseRoot);
        const links = randomFolder(caseRoot, next);
        const refused = links.some((link) => badLinks.has(link));
        const out = path.join(caseRoot, 'out', 'x');
        mkdirSync(out, { recursive: true });
        const outcome = await (async () => {
          const saved = await adapter.save(path.join(caseRoot, 'src'));
          const { stream, digest } = packArchive(saved.files, { mtime: new Date(0), compressionLevel: 1 });
          const chunks: Buffer[] = [];
          for await (const chunk of stream) chunks.push(chunk as Buffer);
          await extractArchive(Readable.from([Buffer.concat(chunks)]), out, await digest);
          return 'extracted';
        })().catch((error: unknown) => (SourceFileError.isInstance(error) ? `SOURCE_FILE ${error.reason}` : ModelStoreError.isInstance(error) ? error.code : `UNTYPED ${(error as Error)?.stack ?? String(error)}`));
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        expect([i, outcome.startsWith('UNTYPED') ? outcome : 'typed']).toEqual([i, 'typed']);
        expect([i, refused ? /^SOURCE_FILE (dangling-link|link-outside|link-cycle)$/.test(outcome) : outcome]).toEqual([i, refused ? true : 'extracted']);
        expect([i, readdirSync(caseRoot).sort(), readdirSync(path.join(caseRoot, 'out')), readdirSync(path.join(caseRoot, 'outside'))]).toEqual([i, ['out', 'outside', 'src'], ['x'], ['secret']]);
        const extracted = listing(out, (mode) => mode);
        expect([i, extracted.filter(([, , mode]) => (parseInt(mode, 8) & ~0o755) !== 0)]).toEqual([i, []]);
        if (!refused) {
          const copy = path.join(caseRoot, 'copy');
          execFileSync('cp', ['-rL', '--preserve=mode', path.join(caseRoot, 'src'), copy]);
          const expected = listing(copy, (mode, folder) => (folder ? (mode & 0o755) | 0o700 : mode & 0o755));
          expect([i, extracted]).toEqual([i, expected]);
        }
        chmodSync(caseRoot, 0o700);
        rmSync(caseRoot, { recursive: true, force: true });
      }
      process.stdout.write(`RawAdapter folder fuzzing, ${cases} cases: ${JSON.stringify(outcomes)}\n`);
      expect(outcomes.extracted).toBeGreaterThan(0);
      for (const reason of ['dangling-link', 'link-outside', 'link-cycle']) expect([reason, outcomes[`SOURCE_FILE ${reason}`] ?? 0]).not.toEqual([reason, 0]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 900_000);
});
