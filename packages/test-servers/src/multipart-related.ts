/** One event of a streamed `multipart/related` body. */
export type MultipartEvent = { type: 'part'; headers: Record<string, string> } | { type: 'data'; chunk: Buffer } | { type: 'end-part' };

/**
 * Splits a `multipart/related` body (RFC 2387, as GCS multipart uploads send it) into
 * parts while it streams: part headers, then the part's bytes chunk by chunk. Only
 * a delimiter's length of bytes is held back between chunks.
 */
export async function* splitMultipart(source: AsyncIterable<Buffer>, boundary: string): AsyncGenerator<MultipartEvent> {
  const opening = Buffer.from(`--${boundary}`);
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  let buffer: Buffer = Buffer.alloc(0);
  let state: 'preamble' | 'after-boundary' | 'headers' | 'body' | 'done' = 'preamble';
  for await (const piece of source) {
    buffer = buffer.length === 0 ? piece : Buffer.concat([buffer, piece]);
    for (;;) {
      if (state === 'preamble') {
        const at = buffer.indexOf(opening);
        if (at < 0) {
          buffer = buffer.subarray(Math.max(0, buffer.length - opening.length));
          break;
        }
        buffer = buffer.subarray(at + opening.length);
        state = 'after-boundary';
      }
      if (state === 'after-boundary') {
        if (buffer.length < 2) break;
        if (buffer[0] === 0x2d && buffer[1] === 0x2d) {
          state = 'done';
          break;
        }
        const lineEnd = buffer.indexOf('\r\n');
        if (lineEnd < 0) break;
        buffer = buffer.subarray(lineEnd + 2);
        state = 'headers';
      }
      if (state === 'headers') {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) {
          if (buffer.length > 16 * 1024) throw new Error('multipart: part headers too long');
          break;
        }
        const headers: Record<string, string> = {};
        for (const line of buffer.subarray(0, end).toString('latin1').split('\r\n')) {
          const colon = line.indexOf(':');
          if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        }
        buffer = buffer.subarray(end + 4);
        state = 'body';
        yield { type: 'part', headers };
      }
      if (state === 'body') {
        const at = buffer.indexOf(delimiter);
        if (at < 0) {
          // Keep back what could be the start of a delimiter split across chunks.
          const safe = buffer.length - (delimiter.length - 1);
          if (safe > 0) {
            yield { type: 'data', chunk: buffer.subarray(0, safe) };
            buffer = buffer.subarray(safe);
          }
          break;
        }
        if (at > 0) yield { type: 'data', chunk: buffer.subarray(0, at) };
        yield { type: 'end-part' };
        buffer = buffer.subarray(at + delimiter.length);
        state = 'after-boundary';
        continue;
      }
      break;
    }
  }
  if (state !== 'done') throw new Error('multipart: body ended before the closing delimiter');
}
