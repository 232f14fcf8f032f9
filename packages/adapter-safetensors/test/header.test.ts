import { describe, expect, it } from '@jest/globals';
import { IntegrityError } from '@modelstore/core';
import { statSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { readSafetensorsHeader, SafetensorsFormatError } from '../src/index.js';
import { craft, expected, testEnv, workDir } from './helpers.js';
import { f32, hostileHeaders } from './hostile.js';

describe('readSafetensorsHeader', () => {
  it('reads the header Python wrote: offsets, shapes, dtypes, counts and __metadata__ as the json module and numpy see them', async () => {
    const file = path.join(testEnv().paths.models, 'single', 'model.safetensors');
    const want = expected().single;
    const header = await readSafetensorsHeader(file);
    expect(header).toMatchObject({ fileSize: want.file_size, headerSize: want.header_size, dataStart: 8 + want.header_size, parameters: want.parameters });
    expect({ ...header.metadata }).toEqual(want.metadata);
    const byName = Object.fromEntries(header.tensors.map((t) => [t.name, { dtype: t.dtype, shape: t.shape, data_offsets: t.dataOffsets, parameters: t.parameters }]));
    expect(byName).toEqual(Object.fromEntries(Object.entries(want.tensors).map(([name, t]) => [name, { dtype: t.dtype, shape: t.shape, data_offsets: t.data_offsets, parameters: t.parameters }])));
    // In file order, each file offset is the data offset past the header.
    for (let i = 1; i < header.tensors.length; i++) expect(header.tensors[i]!.dataOffsets[0]).toBe(header.tensors[i - 1]!.dataOffsets[1]);
    for (const tensor of header.tensors) expect(tensor.fileOffsets).toEqual([tensor.dataOffsets[0] + 8 + want.header_size, tensor.dataOffsets[1] + 8 + want.header_size]);
  });

  it('accepts the spaces Python pads a header with, an empty header, zero-sized tensors and sub-byte dtypes that fill whole bytes', async () => {
    const dir = workDir('header-ok');
    const padded = await readSafetensorsHeader(craft(dir, 'padded.safetensors', `{"a":${JSON.stringify(f32(0, 8))}}     `, 8));
    expect(padded.tensors.map((t) => t.name)).toEqual(['a']);
    const empty = await readSafetensorsHeader(craft(dir, 'empty.safetensors', {}, 0));
    expect(empty).toMatchObject({ tensors: [], parameters: 0, metadata: null });
    const odd = await readSafetensorsHeader(
      craft(dir, 'odd.safetensors', { z: { dtype: 'F32', shape: [0, 5], data_offsets: [0, 0] }, q: { dtype: 'F4', shape: [2, 3], data_offsets: [0, 3] }, s: { dtype: 'F6_E2M3', shape: [4], data_offsets: [3, 6] } }, 6),
    );
    expect(odd.tensors.map((t) => [t.name, t.parameters])).toEqual([
      ['z', 0],
      ['q', 6],
      ['s', 4],
    ]);
    expect(odd.parameters).toBe(10);
  });

  it('validates a 4 GiB file by its header alone (a sparse file: its data is never read)', async () => {
    const size = 4 * 1024 ** 3;
    const dir = workDir('sparse');
    const file = craft(dir, 'big.safetensors', { big: { dtype: 'F32', shape: [1024, 1024, 1024], data_offsets: [0, size] } }, 0);
    const headerBytes = statSync(file).size;
    truncateSync(file, headerBytes + size);
    const started = performance.now();
    const header = await readSafetensorsHeader(file);
    expect(header).toMatchObject({ fileSize: headerBytes + size, parameters: 1024 ** 3, tensors: [{ name: 'big', fileOffsets: [headerBytes, headerBytes + size] }] });
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('SafetensorsFormatError.isInstance is false for other integrity errors', () => {
    expect(SafetensorsFormatError.isInstance(new IntegrityError('hash mismatch'))).toBe(false);
    expect(SafetensorsFormatError.isInstance(new Error('x'))).toBe(false);
  });

  it.each(hostileHeaders)('refuses $what with an IntegrityError ($reason)', async ({ make, reason, message }) => {
    const file = make(workDir('hostile'));
    const error = await readSafetensorsHeader(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SafetensorsFormatError);
    expect(IntegrityError.isInstance(error)).toBe(true);
    expect(SafetensorsFormatError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'INTEGRITY', reason, file });
    expect((error as Error).message).toMatch(message);
  });

  it('reads only the header: a 200 MB declared header in a small file costs no 200 MB allocation, and a 5,000-tensor header parses fast', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const error = await readSafetensorsHeader(craft(workDir('big'), 'a.safetensors', {}, 0, 99_999_999n)).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'header-past-file' });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(10 * 1024 * 1024);
    const many = path.join(testEnv().paths.models, 'many', 'model.safetensors');
    const started = performance.now();
    const header = await readSafetensorsHeader(many);
    const elapsed = performance.now() - started;
    expect(header.tensors).toHaveLength(expected().many.tensor_count);
    expect(header.headerSize).toBe(expected().many.header_size);
    // Measured about 25 ms here for 438 KB of header; a generous bound for a busy machine.
    expect(elapsed).toBeLessThan(2000);
  });
});
