// Seeded random model folders through the RawAdapter, packArchive and extractArchive:
// links inside (to files and folders), dangling, escaping (absolute and through `..`),
// into a folder that holds them (cycles) and loops of links; modes 0o000-0o7777 on
// files and folders; empty folders; long multi-byte names. A folder with a bad link is
// refused with SourceFileError naming a link reason; any other folder comes back exactly
// as `cp -rL` copies it (bytes, empty folders), modes narrowed to at most 0o755 (the
// owner's execute bit kept). No untyped error, nothing written outside the extraction
// folder. MODELSTORE_FUZZ_CASES sets the number of cases (200 in `pnpm test`, 1,000 in
// `pnpm test:reliability`). The folders are fast-check arbitraries run with a fixed seed
// (MODELSTORE_FUZZ_SEED overrides it); a failure prints its seed, path and the shrunk
// counterexample.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
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

const seed = Number(process.env.MODELSTORE_FUZZ_SEED ?? 20261130);
/** A number in [0, 1): a pick among what exists when the case runs. */
const fraction = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
const pick = <T>(items: readonly T[], at: number): T => items[Math.floor(at * items.length)]!;

const nameParts = ['a', 'B', 'z9', '-', '_', ' ', 'é', 'ß', '日本', '語', '🙂', 'Ω', '.', '~'];

/** A name for a folder entry: short, or multi-byte up to the file system's 255 bytes. */
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

type LinkKind = 'file' | 'folder' | 'dangling' | 'absolute-out' | 'dotdot-out' | 'ancestor' | 'loop';
const badLinks = new Set<LinkKind>(['dangling', 'absolute-out', 'dotdot-out', 'ancestor', 'loop']);

/** One entry of a random model folder, as fast-check generates it. */
type EntrySpec = { kind: 'folder'; name: string; mode: number; children: EntrySpec[] } | { kind: 'file'; name: string; mode: number; bytes: Uint8Array } | { kind: 'link'; name: string; link: LinkKind; target: number };

const fileBytes = fc.oneof({ weight: 1, arbitrary: fc.constant(new Uint8Array(0)) }, { weight: 4, arbitrary: fc.uint8Array({ maxLength: 2999, size: 'max' }) });

/** The entries of a folder at `depth`: 0-5 at the top, 0-3 below; folders down to depth 3. */
function folderEntries(depth: number): fc.Arbitrary<EntrySpec[]> {
  const file = fc.record({ kind: fc.constant('file' as const), name: entryName, mode: fc.integer({ min: 0, max: 0o7777 }), bytes: fileBytes });
  const link = fc.record({
    kind: fc.constant('link' as const),
    name: entryName,
    link: fc.constantFrom<LinkKind>('file', 'file', 'folder', 'dangling', 'absolute-out', 'dotdot-out', 'ancestor', 'loop'),
    target: fraction,
  });
  const choices: Array<fc.WeightedArbitrary<EntrySpec>> = [
    { weight: depth < 3 ? 58 : 88, arbitrary: file },
    { weight: 12, arbitrary: link },
  ];
  if (depth < 3) choices.push({ weight: 30, arbitrary: fc.record({ kind: fc.constant('folder' as const), name: entryName, mode: fc.integer({ min: 0, max: 0o7777 }), children: folderEntries(depth + 1) }) });
  return fc.uniqueArray(fc.oneof(...choices), { maxLength: depth === 0 ? 5 : 3, selector: (entry) => entry.name, size: 'max' });
}
const modelFolder = folderEntries(0);

/**
 * Makes the model folder `spec` at `root/src` and a file outside it; returns the links made.
 * A link that comes before any file is made a file; a link to a folder when there is no
 * folder it could point at without a cycle is made a link to a file.
 */
function makeFolder(root: string, spec: EntrySpec[]): LinkKind[] {
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
  const fill = (folder: string, children: EntrySpec[], ancestors: string[]) => {
    for (const child of children) {
      const full = path.join(folder, child.name);
      if (child.kind === 'folder') {
        mkdirSync(full);
        folders.push(full);
        fill(full, child.children, [...ancestors, full]);
        modes.push([full, isRoot ? child.mode : child.mode | 0o700]);
      } else if (child.kind === 'file' || files.length === 0) {
        writeFileSync(full, child.kind === 'file' ? child.bytes : Buffer.from(child.name));
        files.push(full);
        const mode = child.kind === 'file' ? child.mode : 0o644;
        modes.push([full, isRoot ? mode : mode | 0o400]);
      } else {
        let link = child.link;
        // A link to a folder that is neither this folder nor one holding it (else it is a cycle).
        const others = folders.filter((other) => !ancestors.includes(other) && other !== folder && !folder.startsWith(other + path.sep));
        if (link === 'folder' && others.length === 0) link = 'file';
        links.push(link);
        if (link === 'file') symlinkSync(path.relative(folder, pick(files, child.target)), full);
        else if (link === 'folder') symlinkSync(path.relative(folder, pick(others, child.target)), full);
        else if (link === 'dangling') symlinkSync('checkpoint-500.ckpt', full);
        else if (link === 'absolute-out') symlinkSync(path.join(outside, 'secret'), full);
        else if (link === 'dotdot-out') symlinkSync(path.relative(folder, path.join(outside, 'secret')), full);
        else if (link === 'ancestor') symlinkSync(path.relative(folder, pick([src, ...ancestors], child.target)) || '.', full);
        else {
          // Names are made of nameParts, which never spell "loop~".
          const other = path.join(folder, `loop~${serial++}`);
          symlinkSync(path.basename(other), full);
          symlinkSync(child.name, other);
        }
      }
    }
  };
  fill(src, spec, []);
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
    const adapter = new RawAdapter();
    const work = mkdtempSync(path.join(tmpdir(), 'modelstore-raw-fuzz-'));
    const outcomes: Record<string, number> = {};
    try {
      let count = 0;
      await fc.assert(
        fc.asyncProperty(modelFolder, async (spec) => {
          const i = count++;
          const caseRoot = path.join(work, `case-${i}`);
          mkdirSync(caseRoot);
          const links = makeFolder(caseRoot, spec);
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
        }),
        { numRuns: cases, seed },
      );
      process.stdout.write(`RawAdapter folder fuzzing, ${cases} cases: ${JSON.stringify(outcomes)}\n`);
      expect(outcomes.extracted).toBeGreaterThan(0);
      for (const reason of ['dangling-link', 'link-outside', 'link-cycle']) expect([reason, outcomes[`SOURCE_FILE ${reason}`] ?? 0]).not.toEqual([reason, 0]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 900_000);
});
