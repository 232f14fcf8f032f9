import { describe, expect, it } from '@jest/globals';
import { Readable } from 'node:stream';
import { bodyToReadable, knownBodySize } from './body.js';

async function collect(readable: Readable): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of readable) chunks.push(chunk as Buffer);
  return chunks;
}

describe('bodyToReadable', () => {
  it('turns a Uint8Array view into one chunk of exactly its bytes', async () => {
    const view = new Uint8Array([9, 1, 2, 3, 9]).subarray(1, 4);
    const chunks = await collect(bodyToReadable(view));
    expect(chunks).toHaveLength(1);
    expect([...chunks[0]!]).toEqual([1, 2, 3]);
  });

  it('encodes strings as UTF-8', async () => {
    expect(Buffer.concat(await collect(bodyToReadable('é'))).toString('hex')).toBe('c3a9');
  });

  it('consumes async iterables lazily', async () => {
    let pulled = 0;
    async function* source() {
      for (let i = 0; i < 3; i++) {
        pulled++;
        yield new Uint8Array([i]);
      }
    }
    const readable = bodyToReadable(source());
    expect(pulled).toBe(0);
    expect(Buffer.concat(await collect(readable))).toEqual(Buffer.from([0, 1, 2]));
  });

  it('rejects other values', () => {
    expect(() => bodyToReadable(42 as never)).toThrow(TypeError);
  });

  it('knows the size of bytes and strings only', () => {
    expect(knownBodySize('é')).toBe(2);
    expect(knownBodySize(new Uint8Array(5))).toBe(5);
    expect(knownBodySize(Readable.from([]))).toBeUndefined();
  });
});
