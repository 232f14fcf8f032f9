import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError, SourceFileError } from '@modelstore/core';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GgufAdapter, GgufByteOrderError, GgufHeaderError } from '../src/index.js';
import { type BackendName, createStore, expected, model, workDir } from './helpers.js';

/** The tiny model's bytes with `edit` applied, written to a fresh file. */
function forged(name: string, edit: (bytes: Buffer) => Buffer): string {
  const file = path.join(workDir('hostile'), name);
  writeFileSync(file, edit(Buffer.from(readFileSync(model('tiny-llama.gguf')))));
  return file;
}

function setU64(bytes: Buffer, offset: number, value: bigint): Buffer {
  bytes.writeBigUInt64LE(value, offset);
  return bytes;
}

// Header layout (GGUF v3): magic 0..4, version 4..8, tensor count 8..16, kv count 16..24, then the
// first key's length (u64) at 24, its 20 bytes "general.architecture", its value type (u32) at 52.
const cases: Array<[string, () => string, RegExp]> = [
  ['a header cut inside its version', () => forged('cut.gguf', (b) => b.subarray(0, 6)), /the file ends inside the version \(4 bytes needed, 2 left: truncated\)/],
  ['a header cut inside its counts', () => forged('cut-counts.gguf', (b) => b.subarray(0, 40)), /the tensor count is 21, more than the 24 bytes left/],
  ['a header cut inside the vocabulary', () => forged('cut-vocab.gguf', (b) => b.subarray(0, 1000)), /the length of tokenizer.ggml.tokens is 298, more than the 356 bytes left/],
  ['a file whose tensor data is cut short', () => forged('short-data.gguf', (b) => b.subarray(0, b.length - 4096)), /needs bytes .* of the data section, which holds/],
  ['a wrong magic number', () => forged('magic.gguf', (b) => (b.write('GGML', 0, 'latin1'), b)), /not the GGUF magic/],
  ['an unsupported version', () => forged('version.gguf', (b) => (b.writeUInt32LE(4, 4), b)), /GGUF version 4 is not supported/],
  ['2^60 tensors', () => forged('tensors.gguf', (b) => setU64(b, 8, 1n << 60n)), /the tensor count is 1152921504606846976, more than the \d+ bytes left/],
  ['2^62 metadata entries', () => forged('kv.gguf', (b) => setU64(b, 16, 1n << 62n)), /the metadata key\/value count is 4611686018427387904, more than/],
  ['a string longer than the file', () => forged('string.gguf', (b) => setU64(b, 24, 1n << 40n)), /the length of metadata key 0 is 1099511627776, more than the \d+ bytes left/],
  ['an unknown value type', () => forged('type.gguf', (b) => (b.writeUInt32LE(99, 52), b)), /the type of general.architecture is 99, not a GGUF value type/],
];

describe.each<BackendName>(['fs', 'minio'])('GgufAdapter refuses hostile files on %s, before anything is written', (backend) => {
  it.each(cases)('%s: GgufHeaderError (an InvalidArgumentError), and the registry holds no model', async (_name, make, message) => {
    const { store } = createStore(backend);
    const file = make();
    const error = await store.upload('hostile', { model: file }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GgufHeaderError);
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as GgufHeaderError).argument).toBe('model');
    expect((error as GgufHeaderError).file).toBe(file);
    expect((error as Error).message).toMatch(message);
    expect(await store.listDomains()).toEqual([]);
  });

  it('a split set with a missing part: SourceFileError naming the part, and nothing written', async () => {
    const want = expected();
    const { store } = createStore(backend);
    const folder = workDir('gap');
    for (const name of [want.split_files[0]!, want.split_files[2]!]) copyFileSync(model(name), path.join(folder, name));
    const missing = path.join(folder, want.split_files[1]!);
    for (const given of [path.join(folder, want.split_files[0]!), [path.join(folder, want.split_files[0]!), path.join(folder, want.split_files[2]!)]]) {
      const error = await store.upload('hostile', { model: given }).catch((caught: unknown) => caught);
      expect(SourceFileError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ path: missing, reason: 'missing' });
      expect((error as Error).message).toMatch(/part 2 of 3/);
    }
    // Named by its first part: the set lacks part 2, whose name is said, and what to do.
    const error = (await store.upload('hostile', { model: path.join(folder, want.split_files[0]!) }).catch((caught: unknown) => caught)) as Error;
    expect(error.message).toContain(`lacks part 2 of 3 (${want.split_files[1]!})`);
    expect(error.message).toContain(`add ${want.split_files[1]!} beside the other parts`);
    expect(error.message).not.toMatch(/removed or renamed/);
    expect(await store.listDomains()).toEqual([]);
  });
});

describe('GgufAdapter refuses split sets whose parts disagree', () => {
  it('a part renamed into another place of the set, parts of two sets, a part given twice', async () => {
    const want = expected();
    const adapter = new GgufAdapter();
    const folder = workDir('swap');
    const [first, second, third] = want.split_files.map((name) => path.join(folder, name)) as [string, string, string];
    copyFileSync(model(want.split_files[0]!), first);
    copyFileSync(model(want.split_files[2]!), second); // part 3's bytes under part 2's name
    copyFileSync(model(want.split_files[1]!), third);
    const swapped = await adapter.save(first).catch((caught: unknown) => caught);
    expect(swapped).toBeInstanceOf(GgufHeaderError);
    expect((swapped as Error).message).toMatch(/split.no 2 and split.count 3, its name part 2 of 3/);

    await expect(adapter.save([model(want.split_files[0]!), model('tiny-llama.gguf')])).rejects.toThrow(/are not the parts of one split set/);
    await expect(adapter.save([first, first, third])).rejects.toThrow(/Part 1 of split set "tiny-llama-split" is given twice/);
    const single = path.join(folder, 'renamed.gguf');
    copyFileSync(model(want.split_files[0]!), single);
    await expect(adapter.save(single)).rejects.toThrow(/its header says it is part 1 of a 3-part split set/);
  });

  it('values that are not models: InvalidArgumentError; a missing path or a folder: SourceFileError', async () => {
    const adapter = new GgufAdapter();
    for (const value of [42, {}, [], [1, 2]]) {
      const error = await adapter.save(value as never).catch((caught: unknown) => caught);
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
    }
    await expect(adapter.save(model('expected.json'))).rejects.toThrow(/is not a .gguf file/);
    await expect(adapter.save(model('missing.gguf'))).rejects.toMatchObject({ code: 'SOURCE_FILE', reason: 'missing' });
    const folder = path.join(workDir('folder'), 'a-folder.gguf');
    mkdirSync(folder);
    await expect(adapter.save(folder)).rejects.toMatchObject({ code: 'SOURCE_FILE', reason: 'special' });
    await expect(adapter.save(new Uint8Array([0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0]))).rejects.toThrow(/<bytes>: not a readable GGUF model: the file ends inside the tensor count \(8 bytes needed, 0 left: truncated\)/);
  });
});

describe('readGgufHeader on paths it cannot read', () => {
  it('a missing path, a folder and a FIFO: SourceFileError, no raw file system error, no wait for a writer', async () => {
    const { readGgufHeader } = await import('../src/index.js');
    const folder = workDir('paths');
    await expect(readGgufHeader(path.join(folder, 'missing.gguf'))).rejects.toMatchObject({ code: 'SOURCE_FILE', reason: 'missing' });
    await expect(readGgufHeader(folder)).rejects.toMatchObject({ code: 'SOURCE_FILE', reason: 'special' });
    const fifo = path.join(folder, 'pipe.gguf');
    execFileSync('mkfifo', [fifo]);
    await expect(readGgufHeader(fifo)).rejects.toMatchObject({ code: 'SOURCE_FILE', reason: 'special' });
    await expect(new GgufAdapter().save(fifo)).rejects.toMatchObject({ code: 'SOURCE_FILE', reason: 'special' });
  });
});

describe.each<BackendName>(['fs', 'minio'])('GgufAdapter and a big-endian GGUF on %s', (backend) => {
  it('records byte_order "big" at upload, and load refuses it with GgufByteOrderError before node-llama-cpp reads it', async () => {
    const { store } = createStore(backend);
    const stored = await store.upload('big-endian', { model: model('tiny-llama-be.gguf') });
    expect(stored.model.parameters).toMatchObject({ byte_order: 'big', files: ['tiny-llama-be.gguf'] });
    const error = await store.load('big-endian').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GgufByteOrderError);
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as GgufByteOrderError).file.endsWith('tiny-llama-be.gguf')).toBe(true);
    expect((error as Error).message).toMatch(/big-endian GGUF file, and llama\.cpp on this machine reads little-endian GGUF only/);
    expect((error as Error).message).toMatch(/gguf-convert-endian tiny-llama-be\.gguf little/);
    expect((error as Error).message).not.toMatch(/Unsupported GGUF version|out of range/);
  });
});
