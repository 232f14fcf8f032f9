import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SafetensorsFormatReason } from '../src/index.js';
import { craft } from './helpers.js';

export const f32 = (begin: number, end: number, shape = [(end - begin) / 4]) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });

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
  {
    what: 'a shape whose product overflows 64 bits',
    reason: 'size-mismatch',
    make: (dir) => craft(dir, 'a.safetensors', { a: { dtype: 'U8', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 0] } }, 0),
    message: /1208925819614629174706176 bytes/,
  },
  { what: 'bytes after the last tensor', reason: 'trailing-bytes', make: (dir) => craft(dir, 'a.safetensors', { a: f32(0, 8) }, 9), message: /cover 8 bytes of the data buffer, but the file holds 9/ },
  { what: 'a non-JSON header', reason: 'not-json', make: (dir) => craft(dir, 'a.safetensors', '{"a": {"dtype": "F32", ', 0), message: /header is not JSON/ },
  { what: 'a JSON header that is an array', reason: 'header-start', make: (dir) => craft(dir, 'a.safetensors', '[]', 0), message: /must start with "\{"/ },
  { what: 'a header with leading whitespace', reason: 'header-start', make: (dir) => craft(dir, 'a.safetensors', ' {}', 0), message: /must start with/ },
  { what: 'a header that is not UTF-8', reason: 'not-utf8', make: (dir) => craft(dir, 'a.safetensors', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), 0), message: /not valid UTF-8/ },
  {
    what: 'duplicate tensor names',
    reason: 'duplicate-key',
    make: (dir) => craft(dir, 'a.safetensors', `{"a":${JSON.stringify(f32(0, 8))},"a":${JSON.stringify(f32(8, 16))}}`, 16),
    message: /the key "a" appears twice at the top of its header/,
  },
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
