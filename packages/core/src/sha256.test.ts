// Unit tests of the sha256 helpers: FIPS 180-2 test vectors, chunking does not matter,
// the pass-through passes bytes unchanged and counts them.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { createSha256, sha256Of, sha256PassThrough, workerThreshold } from './sha256.js';

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
    // No digest of a stream that did not end: asking is a typed error, not a wrong value.
    expect(() => hashing.result()).toThrow(expect.objectContaining({ code: 'MODELSTORE_ERROR', message: expect.stringContaining('before the stream was read to its end') }));
  });
});

/**
 * Pseudo-random bytes (not zeros), so a slot copied at the wrong offset changes the digest:
 * AES-128-CTR of zeros under a key made from `seed`, deterministic and produced natively
 * (a JavaScript generator loop took seconds per 100 MiB under the test runner's transform).
 */
function noise(size: number, seed: number): Buffer {
  const cipher = createCipheriv('aes-128-ctr', createHash('sha256').update(`noise ${seed}`).digest().subarray(0, 16), Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

describe('worker-thread hashing (streams of workerThreshold bytes and more)', () => {
  const size = workerThreshold + 123_457;
  // Two workers whatever the machine's cores (a one-core machine would hash inline).
  const configured = process.env.MODELSTORE_HASH_THREADS;
  beforeAll(() => {
    process.env.MODELSTORE_HASH_THREADS = '2';
  });
  afterAll(() => {
    if (configured === undefined) delete process.env.MODELSTORE_HASH_THREADS;
    else process.env.MODELSTORE_HASH_THREADS = configured;
  });

  it("gives the digest of Node's inline sha256 for any chunking, and runs on a worker", async () => {
    const bytes = noise(size, 7);
    const reference = createHash('sha256').update(bytes).digest('hex');
    for (const chunkSize of [1000, 65_536, 1 << 20, 3 * (1 << 20) + 5]) {
      const hash = createSha256(size);
      expect(hash.constructor.name).toBe('WorkerSha256');
      for (let offset = 0; offset < bytes.length; offset += chunkSize) {
        const wait = hash.update(bytes.subarray(offset, offset + chunkSize));
        if (wait) await wait;
      }
      expect(await hash.digest()).toBe(reference);
    }
  });

  it('hashes many streams at once, each to its own digest', async () => {
    const inputs = Array.from({ length: 6 }, (_, index) => noise(size, index + 1));
    const digests = await Promise.all(inputs.map((bytes) => sha256Of(chunks(bytes, 1 << 20), bytes.length)));
    expect(digests).toEqual(inputs.map((bytes) => ({ sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length })));
  });

  it('keeps the main thread free while a worker hashes', async () => {
    const bytes = noise(64 << 20, 3);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const started = performance.now();
    const hash = createSha256(bytes.length);
    for (let offset = 0; offset < bytes.length; offset += 1 << 20) {
      const wait = hash.update(bytes.subarray(offset, offset + (1 << 20)));
      if (wait) await wait;
    }
    await hash.digest();
    clearInterval(timer);
    // The timer ran while the bytes were hashed: the hashing did not hold the event loop.
    expect(ticks).toBeGreaterThan((performance.now() - started) / 10);
  });

  it('frees an aborted stream, and the next stream still hashes right', async () => {
    const hash = createSha256(size);
    hash.update(noise(3 << 20, 9));
    hash.abort();
    const bytes = noise(size, 11);
    expect((await sha256Of(chunks(bytes, 1 << 20), size)).sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('hashes inline below the threshold and with MODELSTORE_HASH_THREADS=0', () => {
    expect(createSha256(workerThreshold - 1).constructor.name).toBe('InlineSha256');
    const saved = process.env.MODELSTORE_HASH_THREADS;
    process.env.MODELSTORE_HASH_THREADS = '0';
    try {
      expect(createSha256(size).constructor.name).toBe('InlineSha256');
    } finally {
      if (saved === undefined) delete process.env.MODELSTORE_HASH_THREADS;
      else process.env.MODELSTORE_HASH_THREADS = saved;
    }
  });

  it('warns once about a MODELSTORE_HASH_THREADS that is not a whole number, and hashes with the default', () => {
    const script = `import { createSha256 } from ${JSON.stringify(new URL('../dist/sha256.js', import.meta.url).href)};
      createSha256(${size}).abort(); createSha256(${size}).abort();`;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, MODELSTORE_HASH_THREADS: 'abc' }, timeout: 20_000 });
    expect(result.status).toBe(0);
    expect(result.stderr.match(/MODELSTORE_HASH_THREADS="abc" is not a whole number/g)).toHaveLength(1);
  });

  it('does not keep a process alive once its hashing is done', () => {
    const script = `import { sha256Of } from ${JSON.stringify(new URL('../dist/sha256.js', import.meta.url).href)};
      const bytes = Buffer.alloc(${size}, 1);
      const { sha256 } = await sha256Of([bytes], bytes.length);
      console.log(sha256);`;
    const started = performance.now();
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(output.trim()).toBe(createHash('sha256').update(Buffer.alloc(size, 1)).digest('hex'));
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});
