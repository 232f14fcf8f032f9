// Unit tests of the sha256 helpers: FIPS 180-2 test vectors, chunking does not matter,
// the pass-through passes bytes unchanged and counts them.
import { describe, expect, it } from '@jest/globals';
import { sha256Of, sha256PassThrough } from './sha256.js';

async function* chunks(bytes: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let start = 0; start < bytes.length; start += size) yield bytes.subarray(start, start + size);
}

// FIPS 180-2, appendix B, and the empty message.
const vectors: [string, Buffer, string][] = [
  ['the empty message', Buffer.alloc(0), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  ['"abc"', Buffer.from('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  ['the 448-bit message', Buffer.from('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'), '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'],
  ['one million "a"', Buffer.alloc(1_000_000, 'a'), 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0'],
];

describe('sha256Of', () => {
  for (const [name, bytes, digest] of vectors) {
    it(`hashes ${name}, whatever the chunk size`, async () => {
      for (const size of [1, 7, 64, 65_536]) {
        if (size < 64 && bytes.length > 1000) continue;
        expect(await sha256Of(chunks(bytes, size))).toEqual({ sha256: digest, size: bytes.length });
      }
    });
  }
});

describe('sha256PassThrough', () => {
  it('passes every byte through unchanged and counts them as they pass', async () => {
    const bytes = Buffer.from(Array.from({ length: 10_000 }, (_, index) => index % 256));
    const hashing = sha256PassThrough(chunks(bytes, 1000));
    const seen: Buffer[] = [];
    const counts: number[] = [];
    for await (const chunk of hashing.stream) {
      seen.push(Buffer.from(chunk));
      counts.push(hashing.bytes());
    }
    expect(Buffer.concat(seen).equals(bytes)).toBe(true);
    expect(counts).toEqual(Array.from({ length: 10 }, (_, index) => (index + 1) * 1000));
    const first = hashing.result();
    expect(first.size).toBe(10_000);
    // result() may be called again: the digest is kept, not recomputed.
    expect(hashing.result()).toEqual(first);
    expect(first.sha256).toBe((await sha256Of(chunks(bytes, 4096))).sha256);
  });

  it('reports what passed so far when the source fails midway', async () => {
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('abc');
      throw new Error('connection reset');
    }
    const hashing = sha256PassThrough(broken());
    await expect(
      (async () => {
        for await (const _chunk of hashing.stream);
      })(),
    ).rejects.toThrow('connection reset');
    expect(hashing.bytes()).toBe(3);
    expect(hashing.result()).toEqual({ sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', size: 3 });
  });
});
