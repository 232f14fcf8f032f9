/** One sha256 pass-through for archives on their way between stores, and the hash of a whole body. */
import { createHash } from 'node:crypto';

/**
 * Passes `source`'s chunks through, hashing and counting them; `result()` gives the
 * sha256 (hex) and size in bytes of what passed through (call it once the stream has
 * been read: it ends the hash).
 */
export function sha256PassThrough(source: AsyncIterable<Uint8Array>): { stream: AsyncGenerator<Uint8Array>; result(): { sha256: string; size: number }; bytes(): number } {
  const hash = createHash('sha256');
  let size = 0;
  let digest: string | undefined;
  async function* stream() {
    for await (const chunk of source) {
      hash.update(chunk);
      size += chunk.length;
      yield chunk;
    }
  }
  return {
    stream: stream(),
    bytes: () => size,
    result: () => {
      digest ??= hash.digest('hex');
      return { sha256: digest, size };
    },
  };
}

/** sha256 (hex) and size in bytes of a whole body. */
export async function sha256Of(source: AsyncIterable<Uint8Array>): Promise<{ sha256: string; size: number }> {
  const hashing = sha256PassThrough(source);
  for await (const _chunk of hashing.stream);
  return hashing.result();
}
