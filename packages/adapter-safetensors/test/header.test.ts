import { describe, expect, it } from '@jest/globals';
import { IntegrityError } from '@modelstore/core';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { readSafetensorsHeader, SafetensorsFormatError, type SafetensorsFormatReason } from '../src/index.js';
import { craft, expected, testEnv, workDir } from './helpers.js';

const f32 = (begin: number, end: number, shape = [(end - begin) / 4]) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });

/** Every hostile header: what it is, how it is made, the reason it must be refused for. */
export const hostileHeaders: Array<{ what: string; reason: SafetensorsFormatReason; make: (dir: string) => string; message: RegExp }> = [
  { what: 'a header size past the end of the file', reason: 'header-past-file', make: (dir) => craft(dir, 'a.safetensors', { a: f32(0, 8) }, 8, 5000n), message: /declares a 5000-byte header, but only \d+ bytes follow/ },
  { what: 'a 200 MB declared header', reason: 'header-too-large', make: (dir) => craft(dir, 'a.safetensors', { a: f32(0, 8) }, 8, 200_000_000n), message: /200000000-byte header; at most 100000000/ },
  { what: 'a declared header size of 2^64-1', reason: 'header-too-large', make: (dir) => craft(dir, 'a.safetensors', {}, 0, 2n ** 64n - 1n), message: /18446744073709551615-byte header/ },
  { what: 'overlapping offsets', reason: 'overlap', make: (dir) => craft(dir, 'a.safetensors', { a: f32(0, 8), b: f32(4, 12) }, 12), message: /tensor "b" \(bytes 4-12\) overlaps tensor "a", which ends at byte 8/ },
  { what: 'two tensors on the same bytes', reason: 'overlap', make: (dir) => craft(dir, 'a.safetensors', { a: f32(0, 8), b: f32(0, 8) }, 8), message: /overlaps/ },
  { what: 'a hole between tensors', reason: 'hole', make: (dir) => craft(dir, 'a.safetensors', { a: f32(0, 8), b: f32(12, 20) }, 20), message: /bytes 8-12 of the data buffer belong to no tensor/ },
  { what: 'a hole before the first tensor', reason: 'hole', make: (dir) => craft(dir, 'a.safetensors', { a: f32(4, 12) }, 12), message: /bytes 0-4/ },
  { what: 'an end past the buffer', reason: 'past-buffer', make: (dir) => craft(dir, 'a.safetensors', { a: f32(0, 8) }, 4), message: /ends at byte 8 of the data buffer, which holds only 4 bytes/ },
  { what: 'offsets past 2^53', reason: 'bad-entry', make: (dir) => craft(dir, 'a.safetensors', '{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,18446744073709551617]}}', 1), message: /data_offsets/ },
  { what: 'a dtype/shape whose byte size does not match', reason: 'size-mismatch', make: (dir) => craft(dir, 'a.safetensors', { a: f32(0, 8, [3]) }, 8), message: /F32 \[3\], 12 bytes, but its data_offsets span 8 bytes/ },
  { what: 'an F4 tensor of an odd element count', reason: 'size-mismatch', make: (dir) => craft(dir, 'a.safetensors', { a: { dtype: 'F4', shape: [3], data_offsets: [0, 2] } }, 2), message: /whole number of bytes/ },
  { what: 'a shape whose product overflows 64 bits', reason: 'size-mismatch', make: (dir) => craft(dir, 'a.safetensors', { a: { dtype: 'U8', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 0] } }, 0), message: /1208925819614629174706176 bytes/ },
  { what: 'bytes after the last tensor', reason: 'trailing-bytes', make: (dir) => craft(dir, 'a.safetensors', { a: f32(0, 8) }, 9), message: /cover 8 bytes of the data buffer, but the file holds 9/ },
  { what: 'a non-JSON header', reason: 'not-json', make: (dir) => craft(dir, 'a.safetensors', '{"a": {"dtype": "F32", ', 0), message: /header is not JSON/ },
  { what: 'a JSON header that is an array', reason: 'header-start', make: (dir) => craft(dir, 'a.safetensors', '[]', 0), message: /must start with "\{"/ },
  { what: 'a header with leading whitespace', reason: 'header-start', make: (dir) => craft(dir, 'a.safetensors', ' {}', 0), message: /must start with/ },
  { what: 'a header that is not UTF-8', reason: 'not-utf8', make: (dir) => craft(dir, 'a.safetensors', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), 0), message: /not valid UTF-8/ },
  { what: 'duplicate tensor names', reason: 'duplicate-key', make: (dir) => craft(dir, 'a.safetensors', `{"a":${JSON.stringify(f32(0, 8))},"a":${JSON.stringify(f32(8, 16))}}`, 16), message: /the key "a" appears twice at the top of its header/ },
  { what: 'duplicate names spelled with an escape', reason: 'duplicate-key', make: (dir) => craft(dir, 'a.safetensors', `{"a":${JSON.stringify(f32(0, 8))},"\\u0061":${JSON.stringify(f32(8, 16))}}`, 16), message: /"a" appears twice/ },
  { what: 'a duplicate key inside a tensor', reason: 'duplicate-key', make: (dir) => craft(dir, 'a.safetensors', '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"dtype":"U8"}}', 8), message: /"dtype" appears twice in "a"/ },
  { what: 'a duplicate key in __metadata__', reason: 'duplicate-key', make: (dir) => craft(dir, 'a.safetensors', '{"__metadata__":{"k":"1","k":"2"}}', 0), message: /"k" appears twice in "__metadata__"/ },
  { what: 'an unknown dtype', reason: 'bad-entry', make: (dir) => craft(dir, 'a.safetensors', { a: { dtype: 'F128', shape: [1], data_offsets: [0, 16] } }, 16), message: /dtype "F128", which is not one of/ },
  { what: 'a negative dimension', reason: 'bad-entry', make: (dir) => craft(dir, 'a.safetensors', { a: { dtype: 'U8', shape: [-1], data_offsets: [0, 0] } }, 0), message: /shape \[-1\]/ },
  { what: 'offsets in the wrong order', reason: 'bad-entry', make: (dir) => craft(dir, 'a.safetensors', { a: { dtype: 'U8', shape: [0], data_offsets: [4, 0] } }, 4), message: /ends \(byte 0\) before it begins \(byte 4\)/ },
  { what: '__metadata__ with a number value', reason: 'bad-entry', make: (dir) => craft(dir, 'a.safetensors', { __metadata__: { n: 1 } }, 0), message: /values are all strings/ },
  {
    what: 'a file shorter than 8 bytes',
    reason: 'too-small',
    make: (dir) => {
      writeFileSync(path.join(dir, 'a.safetensors'), Buffer.from([1, 0, 0]));
      return path.join(dir, 'a.safetensors');
    },
    message: /3 bytes long/,
  },
];

describe('readSafetensorsHeader', () => {
  it('reads the header Python wrote: offsets, shapes, dtypes, counts and __metadata__ as the json module and numpy see them', async () => {
    const file = path.join(testEnv().models, 'single', 'model.safetensors');
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
    const odd = await readSafetensorsHeader(craft(dir, 'odd.safetensors', { z: { dtype: 'F32', shape: [0, 5], data_offsets: [0, 0] }, q: { dtype: 'F4', shape: [2, 3], data_offsets: [0, 3] }, s: { dtype: 'F6_E2M3', shape: [4], data_offsets: [3, 6] } }, 6));
    expect(odd.tensors.map((t) => [t.name, t.parameters])).toEqual([
      ['z', 0],
      ['q', 6],
      ['s', 4],
    ]);
    expect(odd.parameters).toBe(10);
  });

  it.each(hostileHeaders)('refuses $what with an IntegrityError ($reason)', async ({ make, reason, message }) => {
    const file = make(workDir('hostile'));
    const error = await readSafetensorsHeader(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SafetensorsFormatError);
    expect(IntegrityError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'INTEGRITY', reason, file });
    expect((error as Error).message).toMatch(message);
  });

  it('reads only the header: a 200 MB declared header in a small file costs no 200 MB allocation, and a 5,000-tensor header parses fast', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const error = await readSafetensorsHeader(craft(workDir('big'), 'a.safetensors', {}, 0, 99_999_999n)).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'header-past-file' });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(10 * 1024 * 1024);
    const many = path.join(testEnv().models, 'many', 'model.safetensors');
    const started = performance.now();
    const header = await readSafetensorsHeader(many);
    const elapsed = performance.now() - started;
    expect(header.tensors).toHaveLength(expected().many.tensor_count);
    expect(header.headerSize).toBe(expected().many.header_size);
    // Measured about 25 ms here for 438 KB of header; a generous bound for a busy machine.
    expect(elapsed).toBeLessThan(2000);
  });
});
